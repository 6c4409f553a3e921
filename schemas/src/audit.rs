//! The audit trail: every control event, mode change and parameter change of a run, as a
//! hash-chained, sequence-numbered log.
//!
//! An entry's `hash` covers its own contents and the previous entry's hash, so changing,
//! removing or reordering any entry breaks the chain from there on. Computing and
//! checking the chain is `bot4_operators::audit`'s; this is only the record.

use serde::{Deserialize, Serialize};

use crate::Nanos;

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AuditKind {
    /// A control event as the graph applied it.
    Control,
    /// The safety gate's mode changed.
    ModeChange,
    /// A strategy or risk parameter changed.
    ParameterChange,
}

impl AuditKind {
    /// Every kind, in declaration order.
    pub const ALL: [AuditKind; 3] = [
        AuditKind::Control,
        AuditKind::ModeChange,
        AuditKind::ParameterChange,
    ];

    /// Name as stored in files and tables, and as hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Control => "control",
            AuditKind::ModeChange => "mode_change",
            AuditKind::ParameterChange => "parameter_change",
        }
    }

    /// Parse a name as written by [`AuditKind::as_str`] (exactly: it is hashed).
    ///
    /// # Examples
    /// ```
    /// use bot4_schemas::AuditKind;
    /// assert_eq!(AuditKind::parse("mode_change"), Some(AuditKind::ModeChange));
    /// assert_eq!(AuditKind::parse("Mode_Change"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One entry of a run's audit log.
///
/// Invariants of an intact log: `seq` runs 1, 2, … without gaps; `prev_hash` is the
/// previous entry's `hash` (32 zero bytes for the first); and `hash` is
/// SHA-256(`prev_hash` ‖ UTF-8 of `"{seq}|{ts}|{kind}|{payload}"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Place in the run's log, from 1.
    pub seq: u64,
    /// Event time of what it records.
    pub ts: Nanos,
    /// What it records.
    pub kind: AuditKind,
    /// The details, as JSON text; hashed byte for byte, so stored as text, never
    /// re-serialised.
    pub payload: String,
    /// The previous entry's hash.
    pub prev_hash: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

/// A hash as 64 lowercase hex digits, as files and tables store it.
///
/// # Examples
/// ```
/// use bot4_schemas::{hash_from_hex, hash_to_hex};
/// let mut hash = [0u8; 32];
/// hash[31] = 0xab;
/// let text = hash_to_hex(&hash);
/// assert!(text.ends_with("00ab") && text.len() == 64);
/// assert_eq!(hash_from_hex(&text), Some(hash));
/// ```
pub fn hash_to_hex(hash: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(64);
    for byte in hash {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The hash written by [`hash_to_hex`]: exactly 64 hex digits (either case), or `None`.
pub fn hash_from_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut hash = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        hash[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(hash)
}
