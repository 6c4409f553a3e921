//! The chain against hashes computed independently, and the verifier against every
//! single tampering of random logs: it fails each time, naming the first entry broken.

use bot4_schemas::{hash_from_hex, ControlCommand};
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

/// 2026-01-01 00:00 UTC.
const T0: Nanos = 1_767_225_600_000_000_000;

fn pause() -> ControlEvent {
    ControlEvent {
        ts: T0,
        seq: 3,
        command: ControlCommand::Pause,
        source: ControlSource::Admin,
        reason: "maintenance".into(),
        parameter: None,
    }
}

fn hex(text: &str) -> [u8; 32] {
    hash_from_hex(text).expect("64 hex digits")
}

#[test]
fn hashes_match_an_independent_computation() {
    // python3 -c "import hashlib; p = b'{\"seq\":3,\"mode\":\"pause\",\"source\":\"admin\",
    //   \"reason\":\"maintenance\"}'; h1 = hashlib.sha256(bytes(32) +
    //   b'1|1767225600000000000|control|' + p).hexdigest(); ..." (and likewise entry 2,
    // chained to bytes.fromhex(h1)).
    let mut chain = AuditChain::new();
    let first = chain.append(T0, AuditKind::Control, control_payload(&pause()));
    assert_eq!(
        first.payload,
        r#"{"seq":3,"mode":"pause","source":"admin","reason":"maintenance"}"#
    );
    assert_eq!((first.seq, first.prev_hash), (1, GENESIS));
    assert_eq!(
        first.hash,
        hex("f0941e95327ac49b8154f63744f239f08b945ed389ce3edaef6c95fd642bb1a9")
    );
    let second = chain.append(
        T0,
        AuditKind::ModeChange,
        mode_change_payload(Mode::Normal, Mode::Pause, &pause()),
    );
    assert_eq!(second.seq, 2);
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(
        second.hash,
        hex("fc78ffc83ec3e0059da1cea1611771be4ccdf95297b0f4b40763b3cfcee1029b")
    );
    assert_eq!(
        chain.head(),
        AuditHead {
            entries: 2,
            hash: second.hash
        }
    );
    assert_eq!(
        verify(&[first, second], Some(&chain.head())),
        Ok(chain.head())
    );
}

#[test]
fn payloads_are_the_same_bytes_for_the_same_event() {
    let mut event = pause();
    event.reason = "quote \" and ünïcode\n".into();
    let a = control_payload(&event);
    assert_eq!(a, control_payload(&event.clone()));
    assert_eq!(
        a,
        r#"{"seq":3,"mode":"pause","source":"admin","reason":"quote \" and ünïcode\n"}"#
    );
    let parsed: serde_json::Value = serde_json::from_str(&a).expect("JSON");
    assert_eq!(parsed["reason"], event.reason.as_str());
    assert_eq!(
        parameter_change_payload("bar", "1m", "5m", -1, 2, ControlSource::File),
        r#"{"name":"bar","old":"1m","new":"5m","requested_ts":-1,"effective_ts":2,"source":"file"}"#
    );
}

#[test]
fn an_empty_log_verifies_and_a_resumed_chain_continues() {
    let empty = AuditHead {
        entries: 0,
        hash: GENESIS,
    };
    assert_eq!(verify(&[], None), Ok(empty));
    assert_eq!(verify(&[], Some(&empty)), Ok(empty));
    let mut whole = AuditChain::new();
    let a = whole.append(1, AuditKind::Control, "{}".into());
    let b = whole.append(2, AuditKind::Control, "{}".into());
    let mut resumed = AuditChain::resume(AuditHead {
        entries: 1,
        hash: a.hash,
    });
    assert_eq!(resumed.append(2, AuditKind::Control, "{}".into()), b);
}

#[test]
fn the_reasons_say_what_is_wrong() {
    let mut chain = AuditChain::new();
    let log: Vec<AuditEntry> = (0..4)
        .map(|i| chain.append(i, AuditKind::Control, format!("{{\"i\":{i}}}")))
        .collect();
    let head = chain.head();
    let broken = |log: &[AuditEntry], head: Option<&AuditHead>| {
        verify(log, head).expect_err("tampered").to_string()
    };

    let mut changed = log.clone();
    changed[2].payload = "{\"i\":9}".into();
    assert_eq!(
        broken(&changed, None),
        "entry 3 (seq 3): hash does not match its contents"
    );

    let mut duplicated = log.clone();
    duplicated.insert(2, log[1].clone());
    assert_eq!(
        broken(&duplicated, None),
        "entry 3 (seq 2): seq 2 repeats the previous entry's"
    );

    let mut gap = log.clone();
    gap.remove(1);
    assert_eq!(
        broken(&gap, None),
        "entry 2 (seq 3): seq 3 leaves a gap: entry 2 should have seq 2"
    );

    let mut swapped = log.clone();
    swapped.swap(0, 3);
    assert_eq!(
        broken(&swapped, None),
        "entry 1 (seq 4): seq 4 leaves a gap: entry 1 should have seq 1"
    );
    let mut back = log.clone();
    back.swap(1, 2);
    back[1].seq = 2;
    back[2].seq = 3;
    assert_eq!(
        broken(&back, None),
        "entry 2 (seq 2): prev_hash is not the previous entry's hash"
    );

    // Without the head, a removed tail leaves a valid shorter log.
    let short = &log[..3];
    assert!(verify(short, None).is_ok());
    assert_eq!(
        broken(short, Some(&head)),
        "entry 4 (seq 4): missing: the log ends after 3 entries, its recorded head after 4"
    );
    assert_eq!(
        broken(&[], Some(&head)),
        "entry 1 (seq 1): missing: the log ends after 0 entries, its recorded head after 4"
    );
    let earlier = AuditHead {
        entries: 2,
        hash: log[1].hash,
    };
    assert_eq!(
        broken(&log, Some(&earlier)),
        "entry 3 (seq 3): added: the recorded head ends the log after 2 entries"
    );
    let other = AuditHead {
        entries: 4,
        hash: [7; 32],
    };
    assert!(broken(&log, Some(&other)).starts_with("entry 4 (seq 4): the log ends in hash "));
}

/// One change to a log.
#[derive(Debug, Clone)]
enum Tamper {
    /// Another kind for entry `.0`.
    Kind(Index),
    /// Entry `.0`'s time moved by `.1` (not zero).
    Ts(Index, i64),
    /// A byte of entry `.0`'s payload replaced by another printable ASCII byte (or one
    /// added to an empty payload).
    PayloadByte(Index, Index, u8),
    /// Entry `.0`'s seq replaced by `.1` (made different).
    Seq(Index, u64),
    /// A byte of entry `.0`'s prev_hash flipped by mask `.2` (not zero).
    PrevHash(Index, Index, u8),
    /// A byte of entry `.0`'s hash flipped by mask `.2` (not zero).
    Hash(Index, Index, u8),
    /// Entry `.0` removed (the last one too: the head shows it).
    Remove(Index),
    /// Two entries swapped.
    Swap(Index, Index),
    /// Entry `.0` taken out and put back at `.1`.
    Move(Index, Index),
    /// Entry `.0` copied in after itself.
    Duplicate(Index),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    let index = any::<Index>;
    prop_oneof![
        index().prop_map(Tamper::Kind),
        (index(), any::<i64>().prop_filter("a move", |d| *d != 0))
            .prop_map(|(i, d)| Tamper::Ts(i, d)),
        (index(), index(), 0x20u8..0x7f).prop_map(|(i, at, b)| Tamper::PayloadByte(i, at, b)),
        (index(), any::<u64>()).prop_map(|(i, s)| Tamper::Seq(i, s)),
        (index(), index(), 1u8..=255).prop_map(|(i, at, m)| Tamper::PrevHash(i, at, m)),
        (index(), index(), 1u8..=255).prop_map(|(i, at, m)| Tamper::Hash(i, at, m)),
        index().prop_map(Tamper::Remove),
        (index(), index()).prop_map(|(a, b)| Tamper::Swap(a, b)),
        (index(), index()).prop_map(|(a, b)| Tamper::Move(a, b)),
        index().prop_map(Tamper::Duplicate),
    ]
}

/// Apply `tamper` to `log`: the index of the first entry that should be reported, or
/// `None` when the change happens to be none (swapping an entry with itself).
fn apply(log: &mut Vec<AuditEntry>, tamper: &Tamper) -> Option<usize> {
    let n = log.len();
    match *tamper {
        Tamper::Kind(i) => {
            let k = i.index(n);
            let at = AuditKind::ALL
                .iter()
                .position(|&kind| kind == log[k].kind)
                .unwrap_or(0);
            log[k].kind = AuditKind::ALL[(at + 1) % AuditKind::ALL.len()];
            Some(k)
        }
        Tamper::Ts(i, d) => {
            let k = i.index(n);
            log[k].ts = log[k].ts.wrapping_add(d);
            Some(k)
        }
        Tamper::PayloadByte(i, at, b) => {
            let k = i.index(n);
            let mut bytes = log[k].payload.clone().into_bytes();
            if bytes.is_empty() {
                bytes.push(b);
            } else {
                let at = at.index(bytes.len());
                bytes[at] = match b {
                    _ if b != bytes[at] => b,
                    b'a' => b'b',
                    _ => b'a',
                };
            }
            log[k].payload = String::from_utf8(bytes).expect("ASCII");
            Some(k)
        }
        Tamper::Seq(i, s) => {
            let k = i.index(n);
            log[k].seq = if s == log[k].seq {
                s.wrapping_add(1)
            } else {
                s
            };
            Some(k)
        }
        Tamper::PrevHash(i, at, m) => {
            let k = i.index(n);
            log[k].prev_hash[at.index(32)] ^= m;
            Some(k)
        }
        Tamper::Hash(i, at, m) => {
            let k = i.index(n);
            log[k].hash[at.index(32)] ^= m;
            Some(k)
        }
        Tamper::Remove(i) => {
            let k = i.index(n);
            log.remove(k);
            Some(k)
        }
        Tamper::Swap(a, b) => {
            let (a, b) = (a.index(n), b.index(n));
            log.swap(a, b);
            (a != b).then_some(a.min(b))
        }
        Tamper::Move(a, b) => {
            let (from, to) = (a.index(n), b.index(n));
            let entry = log.remove(from);
            log.insert(to, entry);
            (from != to).then_some(from.min(to))
        }
        Tamper::Duplicate(i) => {
            let k = i.index(n);
            log.insert(k + 1, log[k].clone());
            Some(k + 1)
        }
    }
}

fn random_log() -> impl Strategy<Value = Vec<(i64, usize, String)>> {
    proptest::collection::vec(
        (any::<i64>(), 0..AuditKind::ALL.len(), "[ -~]{0,40}"),
        1..60,
    )
}

fn build(raw: &[(i64, usize, String)]) -> (Vec<AuditEntry>, AuditHead) {
    let mut chain = AuditChain::new();
    let log = raw
        .iter()
        .map(|(ts, kind, payload)| chain.append(*ts, AuditKind::ALL[*kind], payload.clone()))
        .collect();
    (log, chain.head())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn an_untouched_log_verifies(raw in random_log()) {
        let (log, head) = build(&raw);
        prop_assert_eq!(head.entries, log.len() as u64);
        prop_assert_eq!(verify(&log, None), Ok(head));
        prop_assert_eq!(verify(&log, Some(&head)), Ok(head));
    }

    #[test]
    fn every_tampering_is_found_at_its_first_entry(raw in random_log(), tamper in tamper()) {
        let (mut log, head) = build(&raw);
        let original = log.clone();
        let Some(expected) = apply(&mut log, &tamper) else {
            prop_assert_eq!(&log, &original);
            return Ok(());
        };
        let broken = verify(&log, Some(&head));
        prop_assert!(broken.is_err(), "{:?} went unnoticed", tamper);
        let broken = broken.expect_err("checked");
        prop_assert_eq!(broken.index, expected, "{:?}: {}", tamper, broken);
        let seq = log.get(expected).map_or(expected as u64 + 1, |e| e.seq);
        prop_assert_eq!(broken.seq, seq, "{:?}: {}", tamper, broken);
    }
}
