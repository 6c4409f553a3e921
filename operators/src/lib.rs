//! Bot4's domain logic as pure, deterministic, per-symbol state machines.
//!
//! Nothing here knows about timely, files, sockets or the wall clock: time arrives with
//! the data, as the event time of each record. Each stage is a struct holding one
//! symbol's state with an `update`-style method, so the dataflow only wires them, and
//! each can be tested, benchmarked and replayed on its own.
//!
//! The stages, in the order a tick meets them: [`features`] → [`models`] → [`signals`] →
//! [`risk`] → [`orders`] → [`safety_gate`] → [`venue`] → [`positions`] → [`equity`].

#![deny(unsafe_code)]

pub mod audit;
pub mod bars;
pub mod clock_skew;
pub mod desk;
pub mod equity;
pub mod features;
pub mod idempotency;
pub mod indicators;
pub mod models;
pub mod orders;
pub mod parameters;
pub mod positions;
pub mod risk;
pub mod safety_gate;
pub mod safety_triggers;
pub mod signals;
pub mod stats;
pub mod venue;
