//! The control plane: the human levers on a running job and what it shows of itself.
//!
//! Every lever — the admin endpoint behind `bot4 control`, the kill file, a Unix signal,
//! the hardware kill switch — becomes a [`ControlRequest`] on one channel. Worker 0 of
//! the job drains that channel between steps and sends each request into the graph's
//! control stream, stamped with the event time the job has reached, so it is ordered
//! with every other control event, applied by the safety gate on every worker and
//! appended to the audit trail. Nothing here places, sizes or cancels an order: the
//! only levers are the safety controller's modes.
//!
//! [`StatusBoard`] is the read side: worker 0 publishes the mode, its cause, the
//! positions and the job's health there, and `bot4 status` (or `GET /status` on the
//! admin endpoint) reads it. Reading it changes nothing.

pub mod admin;
pub mod cli;
pub mod client;
pub mod gpio;
mod http;
pub mod kill_file;
pub mod plane;
pub mod signals;
pub mod status;

use std::sync::mpsc;
use std::time::Instant;

use bot4_schemas::{ControlCommand, ControlSource, Parameter};

pub use plane::{AdminConfig, ControlPlane, ControlPlaneConfig};
pub use status::{JobState, PositionStatus, Status, StatusBoard};

/// A lever pulled by a person (or by the hardware switch), on its way into the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlRequest {
    /// The mode asked for.
    pub command: ControlCommand,
    /// Which lever.
    pub source: ControlSource,
    /// Why, as given (for the audit trail).
    pub reason: String,
    /// For `set`: the parameter and its new value, checked.
    pub parameter: Option<Parameter>,
    /// When the lever was seen, to measure how long it takes to reach the graph.
    pub received: Instant,
}

/// Where control requests go.
pub type RequestSender = mpsc::Sender<ControlRequest>;

/// Where worker 0 takes them from.
pub type RequestReceiver = mpsc::Receiver<ControlRequest>;
