//! The records that flow through the Bot4 dataflow.
//!
//! Every record carries its event time in nanoseconds since the Unix epoch and the
//! [`SymbolId`] of its instrument. Money and quantities are exact [`Decimal`]s; floats
//! appear only in statistics (features, forecasts, signal strength). Each record type
//! implements [`ArrowRecord`]: it has an Arrow schema and converts to and from a
//! `RecordBatch`, which is how it is written to Parquet and read back.
//!
//! This crate depends on nothing else of Bot4's: `operators` and `pipeline` build on it.

#![deny(unsafe_code)]

mod arrow;
mod audit;
mod bar;
mod control;
mod decimal;
mod equity;
mod error;
mod execution;
mod feature;
mod instrument;
mod market;
mod order;
mod position;
mod risk;
mod signal;
mod time;

pub use crate::arrow::{ArrowRecord, OhlcvColumns};
pub use audit::{hash_from_hex, hash_to_hex, AuditEntry, AuditKind};
pub use bar::Bar;
pub use control::{ControlCommand, ControlEvent, ControlSource, Parameter};
pub use decimal::{decimal_from_f64, to_scaled_i128, ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE};
pub use equity::EquityPoint;
pub use error::SchemaError;
pub use execution::{ExecutionReport, Fill, Liquidity, ReportReason, ReportStatus};
pub use feature::{
    BarFeatures, FeatureVector, Forecast, BAR_INPUTS, BAR_INPUT_NAMES, FORECAST_SCORES,
    FORECAST_SCORE_NAMES,
};
pub use instrument::{Instrument, SymbolId, SymbolRegistry};
pub use market::{Side, Tick, TickKind};
pub use order::{Order, OrderAction, OrderIntent, OrderKind, TimeInForce, Urgency};
pub use position::Position;
pub use risk::RiskPoint;
pub use rust_decimal::Decimal;
pub use signal::Signal;
pub use time::{EpochWidth, Nanos, NANOS_PER_SECOND};
