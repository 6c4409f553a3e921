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
    /// Cancel every open order and flatten every position; nothing else passes, and
    /// the mode latches until a reset.
    Emergency,
    /// Leave a latched Emergency, back to Normal.
    Reset,
    /// Change a parameter (the event's `parameter`) once the cooldown has passed; the
    /// mode stays as it is.
    Set,
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
            ControlCommand::Set => "set",
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
            "set" => Some(ControlCommand::Set),
            _ => None,
        }
    }
}

/// Where a control event came from: a person's lever or an automatic trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ControlSource {
    /// A replayed control file (`--control`).
    File,
    /// `bot4 control …` through the job's admin endpoint.
    Admin,
    /// The kill file appeared.
    KillFile,
    /// A Unix signal to the job.
    Signal,
    /// The hardware kill switch (GPIO).
    KillSwitch,
    /// The portfolio's drawdown crossed a limit.
    Drawdown,
    /// Too many venue errors and rejects.
    CircuitBreaker,
    /// A symbol's market data went stale, or came back.
    StaleData,
    /// The exchange's clock and ours disagree.
    ClockSkew,
    /// The equity moved the account to another capital tier.
    CapitalTier,
}

impl ControlSource {
    /// Every source, in declaration order.
    pub const ALL: [ControlSource; 10] = [
        ControlSource::File,
        ControlSource::Admin,
        ControlSource::KillFile,
        ControlSource::Signal,
        ControlSource::KillSwitch,
        ControlSource::Drawdown,
        ControlSource::CircuitBreaker,
        ControlSource::StaleData,
        ControlSource::ClockSkew,
        ControlSource::CapitalTier,
    ];

    /// Name as stored in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlSource::File => "file",
            ControlSource::Admin => "admin",
            ControlSource::KillFile => "kill_file",
            ControlSource::Signal => "signal",
            ControlSource::KillSwitch => "kill_switch",
            ControlSource::Drawdown => "drawdown",
            ControlSource::CircuitBreaker => "circuit_breaker",
            ControlSource::StaleData => "stale_data",
            ControlSource::ClockSkew => "clock_skew",
            ControlSource::CapitalTier => "capital_tier",
        }
    }

    /// Parse a name as written by [`ControlSource::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a person pulled this lever (as opposed to an automatic trigger).
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            ControlSource::File
                | ControlSource::Admin
                | ControlSource::KillFile
                | ControlSource::Signal
                | ControlSource::KillSwitch
        )
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
    /// Who or what asked for it.
    pub source: ControlSource,
    /// Why, for the audit trail.
    pub reason: String,
    /// For `set`: the parameter and its new value.
    pub parameter: Option<Parameter>,
}

/// A parameter's new value, as asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Parameter {
    /// Its name, e.g. `orders.max_notional`.
    pub name: String,
    /// The value, as text.
    pub value: String,
}
