//! Control events: the only way anything changes how the safety gate treats orders.

use serde::{Deserialize, Serialize};

use crate::Nanos;

/// The modes of the safety controller, and the reset that leaves Emergency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ControlCommand {
    /// Trade normally.
    Normal,
    /// No new orders; cancels pass.
    Pause,
    /// Only orders that reduce exposure pass.
    Reduce,
    /// Nothing but cancels passes, and the mode latches until a reset.
    Emergency,
    /// Leave a latched Emergency, back to Normal.
    Reset,
}

impl ControlCommand {
    /// Name as stored in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlCommand::Normal => "normal",
            ControlCommand::Pause => "pause",
            ControlCommand::Reduce => "reduce",
            ControlCommand::Emergency => "emergency",
            ControlCommand::Reset => "reset",
        }
    }

    /// Parse a name, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "normal" | "resume" => Some(ControlCommand::Normal),
            "pause" => Some(ControlCommand::Pause),
            "reduce" => Some(ControlCommand::Reduce),
            "emergency" | "kill" => Some(ControlCommand::Emergency),
            "reset" => Some(ControlCommand::Reset),
            _ => None,
        }
    }
}

/// A timed command to the safety controller.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ControlEvent {
    /// Event time from which it applies.
    pub ts: Nanos,
    /// Order among events of the same time.
    pub seq: u64,
    /// What to do.
    pub command: ControlCommand,
    /// Why, for the audit trail.
    pub reason: String,
}
