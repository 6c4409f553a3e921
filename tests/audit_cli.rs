//! `bot4 audit verify` end to end: a log built with `AuditChain`, written as a run's
//! Parquet `audit/` folder (with the crate's own part writer) and `summary.json` head,
//! verifies; a changed payload, a removed row, a removed last row and two swapped rows
//! each fail with status 1 naming the first broken entry; malformed files are clear
//! errors. In the database (a throwaway PostgreSQL server), rows written by the sink's
//! writer verify against `runs.summary`, updates and deletes are refused, and rows
//! changed behind the trigger's back are found.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bot4_operators::audit::{
    control_payload, mode_change_payload, parameter_change_payload, AuditChain, AuditHead,
};
use bot4_operators::safety_gate::Mode;
use bot4_pipeline::audit::summary_field;
use bot4_pipeline::database::{self, Database, RunRecord};
use bot4_pipeline::sinks::postgres::{SinkConfig, Writer};
use bot4_pipeline::sinks::PartWriter;
use bot4_schemas::{
    AuditEntry, AuditKind, ControlCommand, ControlEvent, ControlSource, SymbolRegistry,
    NANOS_PER_SECOND,
};
use bot4_tests::pg::TestPostgres;
use bot4_tests::{run_bot4, Finished, START_TS};

const LIMIT: Duration = Duration::from_secs(120);

/// Entries in the test log.
const ENTRIES: usize = 12;

/// A log of control events, the mode changes they caused and a parameter change.
fn log() -> (Vec<AuditEntry>, AuditHead) {
    let mut chain = AuditChain::new();
    let mut entries = Vec::new();
    let mut mode = Mode::Normal;
    for i in 0..ENTRIES as u64 {
        let ts = START_TS + i as i64 * 60 * NANOS_PER_SECOND;
        match i % 3 {
            0 | 1 => {
                let (command, to) = if mode == Mode::Normal {
                    (ControlCommand::Pause, Mode::Pause)
                } else {
                    (ControlCommand::Normal, Mode::Normal)
                };
                let event = ControlEvent {
                    ts,
                    seq: i,
                    command,
                    source: ControlSource::ALL[i as usize % ControlSource::ALL.len()],
                    reason: format!("step {i}: \"quoted\", ünïcode"),
                    parameter: None,
                };
                if i % 3 == 0 {
                    entries.push(chain.append(ts, AuditKind::Control, control_payload(&event)));
                } else {
                    let payload = mode_change_payload(mode, to, &event);
                    entries.push(chain.append(ts, AuditKind::ModeChange, payload));
                    mode = to;
                }
            }
            _ => {
                let payload = parameter_change_payload(
                    "risk.max_position",
                    &format!("0.{i}"),
                    &format!("0.{}", i + 1),
                    ts - 1,
                    ts,
                    ControlSource::Admin,
                );
                entries.push(chain.append(ts, AuditKind::ParameterChange, payload));
            }
        }
    }
    (entries, chain.head())
}

/// A run's output folder under `dir` with `entries` as its `audit/` table, in part files
/// of `per_file` rows, and `summary.json` recording `head` (none: no summary).
fn write_run(
    dir: &Path,
    entries: &[AuditEntry],
    head: Option<&AuditHead>,
    per_file: usize,
) -> PathBuf {
    let out = dir.join("out");
    let registry = Arc::new(SymbolRegistry::default());
    for (n, chunk) in entries.chunks(per_file.max(1)).enumerate() {
        let path = out.join("audit").join(format!("part-00000-{n:04}.parquet"));
        let mut writer =
            PartWriter::<AuditEntry>::create_at(&path, Arc::clone(&registry)).expect("a writer");
        writer.push(chunk).expect("rows");
        writer.finish().expect("a part file");
    }
    std::fs::create_dir_all(out.join("audit")).expect("audit/");
    if let Some(head) = head {
        let summary = serde_json::json!({ "fills": 0, "audit": summary_field(head) });
        std::fs::write(out.join("summary.json"), summary.to_string()).expect("summary.json");
    }
    out
}

fn verify(path: &Path) -> Finished {
    let path = path.to_str().expect("a UTF-8 path");
    run_bot4(&["audit", "verify", path], LIMIT)
}

fn assert_broken(finished: &Finished, message: &str) {
    assert_eq!(finished.status.code(), Some(1), "{}", finished.describe());
    assert!(finished.stderr.contains(message), "{}", finished.describe());
    assert!(
        !finished.stderr.contains("panicked"),
        "{}",
        finished.describe()
    );
}

fn intact_line(head: &AuditHead) -> String {
    format!(
        "audit: {} entries, chain intact, head {}",
        head.entries,
        head.hash_hex()
    )
}

#[test]
fn an_intact_log_verifies_from_the_folder_its_audit_table_or_its_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (entries, head) = log();
    let out = write_run(dir.path(), &entries, Some(&head), ENTRIES);
    for path in [
        out.clone(),
        out.join("audit"),
        out.join("audit/part-00000-0000.parquet"),
    ] {
        let finished = verify(&path);
        assert!(finished.status.success(), "{}", finished.describe());
        assert!(
            finished.stdout.contains(&intact_line(&head)),
            "{}",
            finished.describe()
        );
        assert!(
            finished.stdout.contains("matches the one recorded in"),
            "{}",
            finished.describe()
        );
    }
}

#[test]
fn a_changed_payload_is_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut entries, head) = log();
    entries[6].payload = entries[6].payload.replace("step 6", "step 7");
    let out = write_run(dir.path(), &entries, Some(&head), ENTRIES);
    assert_broken(
        &verify(&out),
        "entry 7 (seq 7): hash does not match its contents",
    );
}

#[test]
fn a_removed_row_is_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut entries, head) = log();
    entries.remove(4);
    let out = write_run(dir.path(), &entries, Some(&head), ENTRIES);
    assert_broken(&verify(&out), "entry 5 (seq 6): seq 6 leaves a gap");
}

#[test]
fn a_removed_last_row_shows_against_the_recorded_head() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut entries, head) = log();
    entries.pop();
    let out = write_run(dir.path(), &entries, Some(&head), ENTRIES);
    assert_broken(
        &verify(&out),
        &format!("entry {ENTRIES} (seq {ENTRIES}): missing: the log ends after 11 entries"),
    );
    // Without the summary's head the shorter log is a valid log, and the report says
    // what that means.
    std::fs::remove_file(out.join("summary.json")).expect("removing summary.json");
    let finished = verify(&out);
    assert!(finished.status.success(), "{}", finished.describe());
    assert!(
        finished.stdout.contains("audit: 11 entries, chain intact")
            && finished.stdout.contains("no recorded head"),
        "{}",
        finished.describe()
    );
}

#[test]
fn swapped_rows_are_named_within_and_across_part_files() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut entries, head) = log();
    entries.swap(3, 8);
    let out = write_run(dir.path(), &entries, Some(&head), ENTRIES);
    assert_broken(&verify(&out), "entry 4 (seq 9): seq 9 leaves a gap");

    // In files of five rows, the log is whole; two rows swapped between the first and
    // the third file break it at the first, which the message locates.
    let (mut entries, head) = log();
    let split = tempfile::tempdir().expect("a temporary folder");
    let out = write_run(split.path(), &entries, Some(&head), 5);
    let finished = verify(&out);
    assert!(finished.status.success(), "{}", finished.describe());
    assert!(finished.stdout.contains(&intact_line(&head)));
    entries.swap(1, 10);
    let swapped = tempfile::tempdir().expect("a temporary folder");
    let out = write_run(swapped.path(), &entries, Some(&head), 5);
    assert_broken(&verify(&out), "entry 2 (seq 11): seq 11 leaves a gap");
    assert_broken(&verify(&out), "part-00000-0000.parquet row 1");
    // One part of several is not the whole log: checked without the head.
    let finished = verify(&out.join("audit/part-00000-0001.parquet"));
    assert_broken(&finished, "entry 1 (seq 6)");
}

#[test]
fn malformed_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (entries, head) = log();
    let out = write_run(dir.path(), &entries, Some(&head), ENTRIES);

    std::fs::write(out.join("summary.json"), r#"{"audit": {"entries": 3}}"#).expect("write");
    assert_broken(&verify(&out), "`audit.head` is not a hash of 64 hex digits");
    std::fs::write(out.join("summary.json"), "{not json").expect("write");
    assert_broken(&verify(&out), "summary.json: not JSON");

    std::fs::write(out.join("audit/part-00000-0001.parquet"), b"not parquet").expect("write");
    assert_broken(&verify(&out), "part-00000-0001.parquet");

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("a folder");
    assert_broken(&verify(&empty), "holds no audit log");
    assert_broken(&verify(&dir.path().join("missing")), "missing");

    // A table of another record where the audit log should be.
    let other = dir.path().join("other");
    let control = ControlEvent {
        ts: START_TS,
        seq: 0,
        command: ControlCommand::Pause,
        source: ControlSource::File,
        reason: "x".into(),
        parameter: None,
    };
    let mut writer = PartWriter::<ControlEvent>::create_at(
        &other.join("audit/part-00000-0000.parquet"),
        Arc::new(SymbolRegistry::default()),
    )
    .expect("a writer");
    writer.push(&[control]).expect("a row");
    writer.finish().expect("a part file");
    assert_broken(&verify(&other), "missing column `kind` for audit");
}

/// One value of `sql` (psql's unaligned, tuples-only output).
fn value(pg: &TestPostgres, db: &str, sql: &str) -> String {
    let out = pg
        .psql(db)
        .args(["-At", "-c", sql])
        .output()
        .expect("running psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The error psql reports for `sql`, which must fail.
fn fails(pg: &TestPostgres, db: &str, sql: &str) -> String {
    let out = pg
        .psql(db)
        .args(["-c", sql])
        .output()
        .expect("running psql");
    assert!(!out.status.success(), "this should have failed: {sql}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_database_log_verifies_and_refuses_changes() {
    let pg = TestPostgres::start().unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"));
    let url = pg.create_database("audit").expect("a database");
    let db = Database::new(&url).expect("a database URL");
    let run = uuid::Uuid::new_v4();
    let registry = Arc::new(SymbolRegistry::default());
    let record = RunRecord {
        run_id: run,
        input: "audit_cli".into(),
        workers: 1,
        config: serde_json::json!({}),
    };
    database::with_connection(&db, async |conn| {
        database::migrate(conn).await?;
        database::start_run(conn, &record, &registry).await
    })
    .expect("a migrated database with the run");

    // The rows as a run writes them: the sink's writer, binary COPY, two batches.
    let (entries, head) = log();
    let writer = Writer::start(SinkConfig::new(db.clone(), run), 0, Arc::clone(&registry));
    for (epoch, chunk) in entries.chunks(7).enumerate() {
        let rows = chunk.iter().map(|e| (epoch as u64, e.clone())).collect();
        writer.send_rows(rows).expect("queued");
    }
    writer.finish().expect("written");
    assert_eq!(
        value(&pg, "audit", "SELECT count(*) FROM audit"),
        ENTRIES.to_string()
    );
    // The database recomputes every hash with the run's formula.
    assert_eq!(
        value(
            &pg,
            "audit",
            "SELECT bool_and(hash = bot4_audit_entry_hash(prev_hash, seq, ts_ns, kind, payload)) \
             FROM audit"
        ),
        "t"
    );

    let run_text = run.to_string();
    let db_verify = || {
        run_bot4(
            &[
                "audit",
                "verify",
                "--database-url",
                &url,
                "--run",
                &run_text,
            ],
            LIMIT,
        )
    };
    // sql/audit_chain.sql finds nothing wrong either.
    let audit_chain_sql = || {
        let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql/audit_chain.sql");
        let out = pg
            .psql("audit")
            .args(["--csv", "-t", "-v", &format!("run_id={run}"), "-f"])
            .arg(&sql)
            .output()
            .expect("running psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(audit_chain_sql(), "");
    let finished = db_verify();
    assert!(finished.status.success(), "{}", finished.describe());
    assert!(
        finished.stdout.contains(&intact_line(&head))
            && finished.stdout.contains("no recorded head"),
        "{}",
        finished.describe()
    );
    let summary = serde_json::json!({ "audit": summary_field(&head) }).to_string();
    value(
        &pg,
        "audit",
        &format!("UPDATE runs SET summary = '{summary}' WHERE run_id = '{run}'"),
    );
    let finished = db_verify();
    assert!(finished.status.success(), "{}", finished.describe());
    assert!(
        finished
            .stdout
            .contains("matches the one recorded in runs.summary"),
        "{}",
        finished.describe()
    );

    // Append-only, and kept whole.
    let update = fails(
        &pg,
        "audit",
        "UPDATE audit SET payload = '{}' WHERE seq = 3",
    );
    assert!(
        update.contains("audit is append-only (UPDATE refused)"),
        "{update}"
    );
    let delete = fails(&pg, "audit", "DELETE FROM audit WHERE seq = 12");
    assert!(
        delete.contains("audit is append-only (DELETE refused)"),
        "{delete}"
    );
    let truncate = fails(&pg, "audit", "TRUNCATE audit");
    assert!(truncate.contains("append-only"), "{truncate}");
    let retention = fails(
        &pg,
        "audit",
        "UPDATE bot4_series SET drop_after = '30 days' WHERE table_name = 'audit'",
    );
    assert!(
        retention.contains("bot4_series_append_only_kept"),
        "{retention}"
    );

    // A row of another run that landed in the default partition moves into its day's
    // partition when that is created: the trigger lets the move through.
    let far = START_TS + 40 * 86_400 * NANOS_PER_SECOND;
    value(
        &pg,
        "audit",
        &format!(
            "INSERT INTO audit (run_id, ts, ts_ns, seq, kind, payload, prev_hash, hash) VALUES \
             (gen_random_uuid(), bot4_ts({far}), {far}, 1, 'control', '{{}}', \
              repeat('0', 64), repeat('0', 64))"
        ),
    );
    value(
        &pg,
        "audit",
        &format!(
            "SELECT bot4_ensure_partitions(bot4_ts({far}), bot4_ts({far}) + interval '1 day')"
        ),
    );
    assert_eq!(
        value(
            &pg,
            "audit",
            &format!("SELECT tableoid::regclass FROM audit WHERE ts_ns = {far}")
        ),
        "audit_p20260210"
    );
    let delete = fails(
        &pg,
        "audit",
        &format!("DELETE FROM audit WHERE ts_ns = {far}"),
    );
    assert!(delete.contains("append-only"), "{delete}");

    // Changed behind the trigger's back (a superuser without triggers), a row is found.
    value(
        &pg,
        "audit",
        &format!(
            "SET session_replication_role = replica; \
             UPDATE audit SET payload = payload || ' ' WHERE run_id = '{run}' AND seq = 9"
        ),
    );
    assert_broken(
        &db_verify(),
        "entry 9 (seq 9): hash does not match its contents",
    );
    assert_eq!(audit_chain_sql(), "9,9,hash does not match its contents");
    let missing = run_bot4(
        &[
            "audit",
            "verify",
            "--database-url",
            &url,
            "--run",
            &uuid::Uuid::nil().to_string(),
        ],
        LIMIT,
    );
    assert_broken(&missing, "has no run 00000000-0000-0000-0000-000000000000");
}
