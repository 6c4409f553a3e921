//! The audit trail's hash chain: appending entries and verifying a log.
//!
//! Each entry's hash is SHA-256(`prev_hash` ‖ UTF-8 of `"{seq}|{ts_ns}|{kind}|{payload}"`),
//! `prev_hash` being the previous entry's hash and 32 zero bytes before the first — the
//! formula of the database's `bot4_audit_hash` (migration `20261124000002_runs.sql`) and
//! `bot4_audit_entry_hash` (`20261124000007_audit.sql`). So a changed entry no longer
//! matches its hash, a removed or reordered one breaks the `seq` numbering and the links,
//! and a removed tail shows only against a head recorded elsewhere (the run's
//! `summary.json`, `runs.summary`).
//!
//! Payloads are JSON built from structs with a fixed field order, so the same event always
//! gives the same bytes; they are stored and hashed as that text, never re-serialised.

use bot4_schemas::{hash_to_hex, AuditEntry, AuditKind, ControlEvent, ControlSource, Nanos};
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::safety_gate::Mode;

#[cfg(test)]
mod tests;

/// The `prev_hash` of a log's first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// Where a log ends: how many entries it has and the last one's hash ([`GENESIS`] for
/// an empty log). Recorded apart from the log, it shows a removed tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditHead {
    /// Entries in the log; the last one's `seq`.
    pub entries: u64,
    /// The last entry's hash.
    pub hash: [u8; 32],
}

impl AuditHead {
    /// The hash as 64 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        hash_to_hex(&self.hash)
    }
}

/// The hash of an entry with these contents, chained to `prev_hash`.
///
/// # Examples
/// ```
/// use bot4_operators::audit::{entry_hash, GENESIS};
/// use bot4_schemas::{hash_to_hex, AuditKind};
/// // python3 -c "import hashlib; print(hashlib.sha256(bytes(32) + b'1|0|control|{}').hexdigest())"
/// assert_eq!(
///     hash_to_hex(&entry_hash(&GENESIS, 1, 0, AuditKind::Control, "{}")),
///     "8565da1b016da5a5bb8da88b1a9eed42a3c499222ffdc6777c9e969dfba716e4"
/// );
/// ```
pub fn entry_hash(
    prev_hash: &[u8; 32],
    seq: u64,
    ts: Nanos,
    kind: AuditKind,
    payload: &str,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(format!("{seq}|{ts}|{}|", kind.as_str()).as_bytes());
    hasher.update(payload.as_bytes());
    hasher.finalize().into()
}

/// The audit log of one run as it is written: numbers and chains each entry appended.
///
/// # Examples
/// ```
/// use bot4_operators::audit::{verify, AuditChain};
/// use bot4_schemas::AuditKind;
/// let mut chain = AuditChain::new();
/// let first = chain.append(10, AuditKind::Control, "{}".into());
/// let second = chain.append(20, AuditKind::Control, "{}".into());
/// assert_eq!((first.seq, second.seq), (1, 2));
/// assert_eq!(second.prev_hash, first.hash);
/// assert_eq!(verify(&[first, second], Some(&chain.head())), Ok(chain.head()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChain {
    head: AuditHead,
}

impl Default for AuditChain {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditChain {
    /// An empty log.
    pub fn new() -> Self {
        Self {
            head: AuditHead {
                entries: 0,
                hash: GENESIS,
            },
        }
    }

    /// A log that continues after `head` (a session resumed from its recorded head).
    pub fn resume(head: AuditHead) -> Self {
        Self { head }
    }

    /// Append an entry of `kind` at event time `ts` with `payload` (JSON text, e.g. from
    /// [`control_payload`]), and return it for the log.
    pub fn append(&mut self, ts: Nanos, kind: AuditKind, payload: String) -> AuditEntry {
        let seq = self.head.entries + 1;
        let prev_hash = self.head.hash;
        let hash = entry_hash(&prev_hash, seq, ts, kind, &payload);
        self.head = AuditHead { entries: seq, hash };
        AuditEntry {
            seq,
            ts,
            kind,
            payload,
            prev_hash,
            hash,
        }
    }

    /// The log's head after the entries appended so far.
    pub fn head(&self) -> AuditHead {
        self.head
    }
}

/// The first entry of a log that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("entry {} (seq {seq}): {reason}", index + 1)]
pub struct BrokenEntry {
    /// Its place in the log as read, from 0 (shown from 1); the log's length when
    /// entries are missing at its end.
    pub index: usize,
    /// Its `seq` (for missing entries, the first one missing).
    pub seq: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// Check a log in the order it was read, and, when `head` (recorded elsewhere) is given,
/// that it ends there. Returns the log's head, or the first entry that breaks the chain:
/// a `seq` that is not the entry's place (a gap, a duplicate, an entry out of order), a
/// `prev_hash` that is not the previous entry's hash, a `hash` that does not match the
/// entry's contents; then a log shorter than the head (its tail removed), longer (entries
/// added after it), or ending in another hash.
///
/// Without a head, a log whose last entries were removed is still a valid log.
pub fn verify(entries: &[AuditEntry], head: Option<&AuditHead>) -> Result<AuditHead, BrokenEntry> {
    let mut prev = GENESIS;
    for (index, e) in entries.iter().enumerate() {
        let expected = index as u64 + 1;
        let broken = |reason: String| BrokenEntry {
            index,
            seq: e.seq,
            reason,
        };
        if e.seq != expected {
            let reason = if index > 0 && e.seq == entries[index - 1].seq {
                format!("seq {} repeats the previous entry's", e.seq)
            } else if e.seq < expected {
                format!(
                    "seq {} is out of order: entry {expected} should have seq {expected}",
                    e.seq
                )
            } else {
                format!(
                    "seq {} leaves a gap: entry {expected} should have seq {expected}",
                    e.seq
                )
            };
            return Err(broken(reason));
        }
        if e.prev_hash != prev {
            return Err(broken(if index == 0 {
                "prev_hash of the first entry is not 32 zero bytes".to_owned()
            } else {
                "prev_hash is not the previous entry's hash".to_owned()
            }));
        }
        if entry_hash(&e.prev_hash, e.seq, e.ts, e.kind, &e.payload) != e.hash {
            return Err(broken("hash does not match its contents".to_owned()));
        }
        prev = e.hash;
    }
    let found = AuditHead {
        entries: entries.len() as u64,
        hash: prev,
    };
    let Some(head) = head else {
        return Ok(found);
    };
    if found.entries < head.entries {
        return Err(BrokenEntry {
            index: entries.len(),
            seq: found.entries + 1,
            reason: format!(
                "missing: the log ends after {} entries, its recorded head after {}",
                found.entries, head.entries
            ),
        });
    }
    if found.entries > head.entries {
        let index = usize::try_from(head.entries).unwrap_or(usize::MAX);
        return Err(BrokenEntry {
            index,
            seq: head.entries + 1,
            reason: format!(
                "added: the recorded head ends the log after {} entries",
                head.entries
            ),
        });
    }
    if found.hash != head.hash {
        return Err(BrokenEntry {
            index: entries.len().saturating_sub(1),
            seq: found.entries,
            reason: format!(
                "the log ends in hash {}, its recorded head in {}",
                found.hash_hex(),
                head.hash_hex()
            ),
        });
    }
    Ok(found)
}

/// A control event's fields, as in [`control_payload`].
#[derive(Serialize)]
struct ControlPayload<'a> {
    seq: u64,
    mode: &'static str,
    source: &'static str,
    reason: &'a str,
}

impl<'a> ControlPayload<'a> {
    fn of(event: &'a ControlEvent) -> Self {
        Self {
            seq: event.seq,
            mode: event.command.as_str(),
            source: event.source.as_str(),
            reason: &event.reason,
        }
    }
}

#[derive(Serialize)]
struct ModeChangePayload<'a> {
    from: &'static str,
    to: &'static str,
    cause: ControlPayload<'a>,
}

#[derive(Serialize)]
struct ParameterChangePayload<'a> {
    name: &'a str,
    old: &'a str,
    new: &'a str,
    requested_ts: Nanos,
    effective_ts: Nanos,
    source: &'static str,
}

/// JSON of structs of integers and strings: serde_json cannot fail on them.
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("a struct of integers and strings serialises")
}

/// The payload of an [`AuditKind::Control`] entry: the event's `seq`, `mode`, `source`
/// and `reason` (its time is the entry's `ts`).
///
/// # Examples
/// ```
/// use bot4_operators::audit::control_payload;
/// use bot4_schemas::{ControlCommand, ControlEvent, ControlSource};
/// let event = ControlEvent { ts: 5, seq: 3, command: ControlCommand::Pause,
///     source: ControlSource::Admin, reason: "maintenance".into(), parameter: None };
/// assert_eq!(control_payload(&event),
///     r#"{"seq":3,"mode":"pause","source":"admin","reason":"maintenance"}"#);
/// ```
pub fn control_payload(event: &ControlEvent) -> String {
    json(&ControlPayload::of(event))
}

/// The payload of an [`AuditKind::ModeChange`] entry: the modes before and after, and
/// the control event that caused it (as in [`control_payload`]).
///
/// # Examples
/// ```
/// use bot4_operators::audit::mode_change_payload;
/// use bot4_operators::safety_gate::Mode;
/// use bot4_schemas::{ControlCommand, ControlEvent, ControlSource};
/// let event = ControlEvent { ts: 5, seq: 1, command: ControlCommand::Emergency,
///     source: ControlSource::Drawdown, reason: "drawdown 12%".into(), parameter: None };
/// assert_eq!(mode_change_payload(Mode::Normal, Mode::Emergency, &event),
///     r#"{"from":"normal","to":"emergency","cause":{"seq":1,"mode":"emergency","source":"drawdown","reason":"drawdown 12%"}}"#);
/// ```
pub fn mode_change_payload(from: Mode, to: Mode, cause: &ControlEvent) -> String {
    json(&ModeChangePayload {
        from: from.as_str(),
        to: to.as_str(),
        cause: ControlPayload::of(cause),
    })
}

/// The payload of an [`AuditKind::ParameterChange`] entry: the parameter's name, its
/// old and new values as text, when the change was asked for and when it took effect
/// (event times), and who asked.
///
/// # Examples
/// ```
/// use bot4_operators::audit::parameter_change_payload;
/// use bot4_schemas::ControlSource;
/// assert_eq!(
///     parameter_change_payload("risk.max_position", "0.5", "0.25", 10, 20, ControlSource::Admin),
///     r#"{"name":"risk.max_position","old":"0.5","new":"0.25","requested_ts":10,"effective_ts":20,"source":"admin"}"#
/// );
/// ```
pub fn parameter_change_payload(
    name: &str,
    old: &str,
    new: &str,
    requested_ts: Nanos,
    effective_ts: Nanos,
    source: ControlSource,
) -> String {
    json(&ParameterChangePayload {
        name,
        old,
        new,
        requested_ts,
        effective_ts,
        source: source.as_str(),
    })
}
