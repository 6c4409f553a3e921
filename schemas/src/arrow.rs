//! Arrow schemas of the records, and conversion to and from `RecordBatch`.
//!
//! Files carry symbol names, not ids: a [`SymbolRegistry`] maps between them. Readers
//! accept the types other tools write for the same column: decimals as `Decimal128` of
//! any scale, `Float64` (converted through the shortest decimal that round-trips) or
//! text; times as `Timestamp` of any unit or `Int64` nanoseconds.

mod columns;
mod ohlcv;
mod records;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

pub(crate) use columns::{Reader, Writer};
pub use ohlcv::OhlcvColumns;

use crate::{SchemaError, SymbolRegistry, ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE};

/// A record that has an Arrow schema and converts to and from `RecordBatch`es.
///
/// # Examples
/// ```
/// use bot4_schemas::{ArrowRecord, Decimal, Instrument, Side, SymbolId, SymbolRegistry, Tick, TickKind};
/// let registry = SymbolRegistry::new(vec![Instrument {
///     symbol: "BTC-USDT".into(), tick_size: Decimal::new(1, 1),
///     lot_size: Decimal::new(1, 4), min_notional: Decimal::from(5),
/// }]).unwrap();
/// let tick = Tick { ts: 1, seq: 0, symbol: SymbolId(0), kind: TickKind::Trade {
///     price: Decimal::new(650001, 1), size: Decimal::new(12, 4), aggressor: Side::Buy } };
/// let batch = Tick::to_batch(&[tick], &registry).unwrap();
/// assert_eq!(Tick::from_batch(&batch, &registry).unwrap(), vec![tick]);
/// ```
pub trait ArrowRecord: Sized {
    /// The table (and output folder) name: `ticks`, `orders`, `fills`, …
    const NAME: &'static str;

    /// The Arrow schema this record is written with.
    fn schema() -> SchemaRef;

    /// The rows as one batch in [`ArrowRecord::schema`].
    fn to_batch(rows: &[Self], registry: &SymbolRegistry) -> Result<RecordBatch, SchemaError>;

    /// The rows of a batch. Symbols not in `registry` and malformed values are errors
    /// that name the column and row.
    fn from_batch(batch: &RecordBatch, registry: &SymbolRegistry)
        -> Result<Vec<Self>, SchemaError>;
}

pub(crate) fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

pub(crate) fn ts_field(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        false,
    )
}

pub(crate) fn decimal_field(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Decimal128(ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE),
        nullable,
    )
}

pub(crate) fn text_field(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

pub(crate) fn f64_field(name: &str) -> Field {
    Field::new(name, DataType::Float64, false)
}

pub(crate) fn u64_field(name: &str) -> Field {
    Field::new(name, DataType::UInt64, false)
}
