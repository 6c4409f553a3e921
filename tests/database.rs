//! The database side end to end, on a throwaway PostgreSQL server of the test's own:
//! a replay with the sink on fills every table exactly as its Parquet output, a replay
//! from the database reproduces the replay from files, a database that is down at the
//! start or crashes mid-run, a batch with a malformed row, and a re-sent batch.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bot4_pipeline::database::{self, Database, RunRecord, SERIES_TABLES};
use bot4_pipeline::sinks::postgres::{SinkConfig, Writer};
use bot4_pipeline::PipelineError;
use bot4_schemas::{
    BarFeatures, ControlCommand, ControlEvent, ControlSource, Decimal, EquityPoint,
    ExecutionReport, Fill, Instrument, Order, OrderAction, OrderKind, Position, Side, Signal,
    SymbolId, SymbolRegistry, Tick, TickKind, NANOS_PER_SECOND,
};
use bot4_tests::pg::TestPostgres;
use bot4_tests::{
    digests, free_ports, generate_market, market_config, printed_run_id, registry_of, run_bot4,
    spawn_bot4, table, tables_present, write_control, START_TS, TEST_BAR,
};

const LIMIT: Duration = Duration::from_secs(300);

fn start() -> TestPostgres {
    TestPostgres::start().unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"))
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

fn decimal(text: &str) -> Decimal {
    if text.is_empty() {
        return Decimal::ZERO;
    }
    text.parse()
        .unwrap_or_else(|e| panic!("`{text}` is not a decimal: {e}"))
}

/// A figure of the database line, e.g. `retried`.
fn database_figure(stdout: &str, what: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("database"))
        .unwrap_or_else(|| panic!("no database line in\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_matches(|c| c == '(' || c == ',') == what)
        .unwrap_or_else(|| panic!("no `{what}` in {line}"));
    words[at - 1]
        .trim_start_matches('(')
        .parse()
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Every table of run `run` in the database holds exactly the rows of the Parquet
/// output `out`: the same counts, the same exact sums of every money and quantity
/// column, and float sums within rounding; the ledger accounts for every row.
fn assert_database_equals_parquet(pg: &TestPostgres, db: &str, run: &str, out: &Path) {
    let reg = registry_of(&out.join("input"));
    let q = |sql: &str| value(pg, db, &sql.replace("RUN", &format!("'{run}'")));
    let count = |t: &str| -> usize {
        q(&format!("SELECT count(*) FROM {t} WHERE run_id = RUN"))
            .parse()
            .expect("a count")
    };
    let sum = |t: &str, column: &str| {
        decimal(&q(&format!(
            "SELECT sum({column}) FROM {t} WHERE run_id = RUN"
        )))
    };
    let float_sum = |t: &str, column: &str| -> f64 {
        q(&format!("SELECT sum({column}) FROM {t} WHERE run_id = RUN"))
            .parse()
            .unwrap_or(0.0)
    };
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
            "{what}: database {a} vs Parquet {b}"
        );
    };

    let ticks: Vec<Tick> = table(out, &reg);
    assert_eq!(count("ticks"), ticks.len());
    let (mut price, mut bid_size, mut depth) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for t in &ticks {
        match t.kind {
            TickKind::Trade { price: p, .. } => price += p,
            TickKind::Quote { bid_size: b, .. } => bid_size += b,
            TickKind::Depth { price: p, size, .. } => {
                price += p;
                depth += size;
            }
        }
    }
    assert!(depth > Decimal::ZERO, "the market carries L2 depth");
    assert_eq!(sum("ticks", "price"), price);
    assert_eq!(sum("ticks", "bid_size"), bid_size);
    assert_eq!(
        decimal(&q(
            "SELECT coalesce(sum(size), 0) FROM ticks WHERE run_id = RUN AND kind = 'depth'"
        )),
        depth
    );

    let bars: Vec<BarFeatures> = table(out, &reg);
    assert_eq!(count("bar_features"), bars.len());
    assert_eq!(
        sum("bar_features", "close"),
        bars.iter().map(|b| b.bar.close).sum::<Decimal>()
    );
    close(
        float_sum("bar_features", "input_rsi"),
        bars.iter().map(|b| b.inputs[0]).sum(),
        "bar_features.input_rsi",
    );

    let signals: Vec<Signal> = table(out, &reg);
    assert_eq!(count("signals"), signals.len());
    close(
        float_sum("signals", "strength"),
        signals.iter().map(|s| s.strength).sum(),
        "signals.strength",
    );

    let orders: Vec<Order> = table(out, &reg);
    assert!(!orders.is_empty(), "the strategy traded");
    assert_eq!(count("orders"), orders.len());
    assert_eq!(
        sum("orders", "qty"),
        orders.iter().map(|o| o.qty).sum::<Decimal>()
    );
    assert_eq!(
        sum("orders", "price"),
        orders
            .iter()
            .filter(|o| o.kind == OrderKind::Limit)
            .map(|o| o.price)
            .sum::<Decimal>()
    );

    let reports: Vec<ExecutionReport> = table(out, &reg);
    assert_eq!(count("reports"), reports.len());
    assert_eq!(
        sum("reports", "fill_qty"),
        reports.iter().map(|r| r.fill_qty).sum::<Decimal>()
    );

    let fills: Vec<Fill> = table(out, &reg);
    assert_eq!(count("fills"), fills.len());
    assert_eq!(
        sum("fills", "fee"),
        fills.iter().map(|f| f.fee).sum::<Decimal>()
    );
    assert_eq!(
        sum("fills", "price * qty"),
        fills.iter().map(|f| f.price * f.qty).sum::<Decimal>()
    );

    let positions: Vec<Position> = table(out, &reg);
    assert_eq!(count("positions"), positions.len());
    assert_eq!(
        sum("positions", "realized_pnl"),
        positions.iter().map(|p| p.realized_pnl).sum::<Decimal>()
    );

    let equity: Vec<EquityPoint> = table(out, &reg);
    assert_eq!(count("equity"), equity.len());
    assert_eq!(
        sum("equity", "equity"),
        equity.iter().map(|e| e.equity).sum::<Decimal>()
    );

    let controls: Vec<ControlEvent> = table(out, &reg);
    assert_eq!(count("control"), controls.len());

    // The ledger holds one row per batch, and the batches add up to the tables.
    for t in SERIES_TABLES {
        let ledger = q(&format!(
            "SELECT coalesce(sum(rows), 0) FROM run_epochs WHERE run_id = RUN AND table_name = '{t}'"
        ));
        assert_eq!(ledger, count(t).to_string(), "the ledger of {t}");
    }
    assert_eq!(q("SELECT status FROM runs WHERE run_id = RUN"), "finished");
    assert_eq!(
        q("SELECT summary->>'fills' FROM runs WHERE run_id = RUN"),
        fills.len().to_string()
    );
    assert_eq!(
        q("SELECT count(*) FROM run_instruments WHERE run_id = RUN"),
        reg.len().to_string()
    );

    // The analysis queries of sql/ answer from what the sink wrote: PnL by symbol adds
    // up to the run's fees and its PnL after fees.
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql/pnl_by_symbol.sql");
    let out_csv = pg
        .psql(db)
        .args(["--csv", "-v", &format!("run_id={run}"), "-v", "end=", "-f"])
        .arg(&sql)
        .output()
        .expect("running psql");
    assert!(
        out_csv.status.success(),
        "{}",
        String::from_utf8_lossy(&out_csv.stderr)
    );
    let text = String::from_utf8_lossy(&out_csv.stdout);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect("a column");
    let (fees_at, pnl_at) = (column("fees"), column("total_pnl"));
    let (mut fees, mut pnl) = (Decimal::ZERO, Decimal::ZERO);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        fees += decimal(cells[fees_at]);
        pnl += decimal(cells[pnl_at]);
    }
    assert_eq!(fees, fills.iter().map(|f| f.fee).sum::<Decimal>());
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("summary.json")).expect("summary.json"),
    )
    .expect("JSON");
    let expected = decimal(
        summary["pnl_after_fees"]
            .as_str()
            .expect("a decimal string"),
    );
    assert_eq!(
        pnl.round_dp(8),
        expected.round_dp(8),
        "sql/pnl_by_symbol.sql total_pnl"
    );
}

#[test]
fn a_replay_writes_every_table_and_a_replay_from_the_database_repeats_it() {
    let pg = start();
    let url = pg.create_database("runs").expect("a database");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("out");
    // A generated day of four symbols.
    generate_market(market_config(4, 86_400, 11, 1.0), &out.join("input"));

    let migrated = run_bot4(&["migrate", "--database-url", &url], LIMIT);
    assert!(migrated.status.success(), "{}", migrated.describe());
    assert!(
        migrated.stdout.contains("10 applied, 0 already there")
            && migrated.stdout.contains("plain PostgreSQL"),
        "{}",
        migrated.stdout
    );
    let again = run_bot4(&["migrate", "--database-url", &url], LIMIT);
    assert!(
        again.stdout.contains("0 applied, 10 already there"),
        "{}",
        again.stdout
    );

    let input = out.join("input");
    // A pause of half an hour: the control table is filled too.
    let control = dir.path().join("control.csv");
    write_control(
        &control,
        &[
            (START_TS + 3600 * NANOS_PER_SECOND, "pause"),
            (START_TS + 5400 * NANOS_PER_SECOND, "normal"),
        ],
    );
    let replayed = run_bot4(
        &[
            "replay",
            "--input",
            input.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--bar",
            TEST_BAR,
            "-w",
            "2",
            "--quiet",
            "--database-url",
            &url,
            "--control",
            control.to_str().expect("utf-8"),
        ],
        LIMIT,
    );
    assert!(replayed.status.success(), "{}", replayed.describe());
    let run = printed_run_id(&replayed.stdout);
    assert_database_equals_parquet(&pg, "runs", &run, &out);
    assert_eq!(
        value(
            &pg,
            "runs",
            &format!(
                "SELECT string_agg(mode || ':' || reason, ',' ORDER BY ts_ns) \
                 FROM control WHERE run_id = '{run}'"
            )
        ),
        "pause:test pause,normal:test normal"
    );
    // The run's parameters are recorded as JSON a query can read.
    assert_eq!(
        value(
            &pg,
            "runs",
            &format!("SELECT config->'strategy'->'features'->>'bar_width' FROM runs WHERE run_id = '{run}'")
        ),
        "10000000000"
    );

    // The same ticks, read back from the database on one worker, give the same orders,
    // fills and equity as the files did on two.
    let from_db = dir.path().join("from-db");
    let again = run_bot4(
        &[
            "replay",
            "--from",
            &url,
            "--source-run",
            &run,
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-02",
            "--out",
            from_db.to_str().expect("utf-8"),
            "--bar",
            TEST_BAR,
            "-w",
            "1",
            "--quiet",
            "--control",
            control.to_str().expect("utf-8"),
        ],
        LIMIT,
    );
    assert!(again.status.success(), "{}", again.describe());
    let reg = registry_of(&input);
    let files = digests(&out, &reg);
    let database = digests(&from_db, &reg);
    assert_eq!(files, database);
    let a: Vec<Order> = table(&out, &reg);
    let b: Vec<Order> = table(&from_db, &reg);
    let key = |o: &Order| (o.ts, o.client_id, o.action == OrderAction::Cancel);
    let (mut a, mut b) = (a, b);
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b, "the orders of the replay from the database");

    // A selection of one symbol and one hour replays just those ticks.
    let part = dir.path().join("part");
    let symbol = reg.name(SymbolId(1)).to_owned();
    let partial = run_bot4(
        &[
            "replay",
            "--from",
            &url,
            "--source-run",
            &run,
            "--symbols",
            &symbol,
            "--start",
            "2026-01-01T01:00:00Z",
            "--end",
            "2026-01-01T02:00:00Z",
            "--out",
            part.to_str().expect("utf-8"),
            "--bar",
            TEST_BAR,
            "--quiet",
        ],
        LIMIT,
    );
    assert!(partial.status.success(), "{}", partial.describe());
    let ticks: Vec<Tick> = table(&part, &reg);
    let expected = value(
        &pg,
        "runs",
        &format!(
            "SELECT count(*) FROM ticks WHERE run_id = '{run}' AND symbol = '{symbol}' \
             AND ts >= '2026-01-01T01:00:00Z' AND ts < '2026-01-01T02:00:00Z'"
        ),
    );
    assert_eq!(ticks.len().to_string(), expected);
    assert!(ticks.iter().all(|t| t.symbol == SymbolId(1)));

    // Bad selections are clear errors.
    for (args, message) in [
        (
            vec!["--symbols", "NOPE"],
            "no run in the database has ticks of NOPE",
        ),
        (
            vec!["--start", "2026-01-02", "--end", "2026-01-01"],
            "--start must be before --end",
        ),
        (
            vec!["--start", "yesterday", "--end", "2026-01-01"],
            "not an RFC 3339 time",
        ),
    ] {
        let mut full = vec![
            "replay",
            "--from",
            &url,
            "--out",
            "/nonexistent/out",
            "--quiet",
        ];
        if !args.contains(&"--start") {
            full.extend(["--start", "2026-01-01", "--end", "2026-01-02"]);
        }
        full.extend(args.iter().copied());
        let failed = run_bot4(&full, LIMIT);
        assert!(
            !failed.status.success() && failed.stderr.contains(message),
            "{message}: {}",
            failed.describe()
        );
    }
}

#[test]
fn a_database_down_at_the_start_is_a_clear_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("out");
    generate_market(market_config(2, 600, 3, 2.0), &out.join("input"));
    let port = free_ports(1)[0];
    let url = format!("postgres://bot4@127.0.0.1:{port}/bot4");
    let input = out.join("input");
    let started = Instant::now();
    let failed = run_bot4(
        &[
            "replay",
            "--input",
            input.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--quiet",
            "--database-url",
            &url,
        ],
        LIMIT,
    );
    assert!(!failed.status.success(), "{}", failed.describe());
    assert!(
        failed.stderr.contains(&format!(
            "cannot connect to the database bot4@127.0.0.1:{port}/bot4"
        )),
        "{}",
        failed.describe()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it failed fast"
    );
    assert!(
        tables_present(&out).is_empty(),
        "no output of a run that did not start"
    );

    let migrate = run_bot4(&["migrate", "--database-url", "mysql://x"], LIMIT);
    assert!(
        !migrate.status.success() && migrate.stderr.contains("not a PostgreSQL URL"),
        "{}",
        migrate.describe()
    );
}

#[test]
fn a_database_crash_mid_run_is_retried_and_loses_nothing() {
    let pg = start();
    let url = pg.create_database("crash").expect("a database");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("out");
    let input = out.join("input");
    generate_market(market_config(6, 12 * 3600, 5, 6.0), &input);
    let migrated = run_bot4(&["migrate", "--database-url", &url], LIMIT);
    assert!(migrated.status.success(), "{}", migrated.describe());

    let mut running = spawn_bot4(&[
        "replay",
        "--input",
        input.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--bar",
        TEST_BAR,
        "-w",
        "2",
        "--quiet",
        "--database-url",
        &url,
    ]);
    // Crash the server once the run has committed some batches, while it still runs.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no batch was committed in time");
        assert!(running.is_running(), "the replay ended before the crash");
        let committed = value(&pg, "crash", "SELECT count(*) FROM run_epochs");
        if committed.parse::<u64>().unwrap_or(0) >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    pg.crash().expect("stopping the server");
    assert!(running.is_running(), "the replay outlives the database");
    std::thread::sleep(Duration::from_millis(1500));
    pg.restart().expect("starting the server again");

    let (finished, killed) = running.wait(LIMIT);
    assert!(
        !killed && finished.status.success(),
        "{}",
        finished.describe()
    );
    assert!(
        database_figure(&finished.stdout, "retried") > 0,
        "the writers retried: {}",
        finished.stdout
    );
    let run = printed_run_id(&finished.stdout);
    assert_database_equals_parquet(&pg, "crash", &run, &out);
}

fn registry() -> Arc<SymbolRegistry> {
    Arc::new(
        SymbolRegistry::new(vec![Instrument {
            symbol: "BTCUSDT".into(),
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 3),
            min_notional: Decimal::TEN,
        }])
        .expect("a registry"),
    )
}

/// A migrated database with a recorded run, and the sink's configuration for it.
fn recorded_run(pg: &TestPostgres, name: &str) -> SinkConfig {
    let url = pg.create_database(name).expect("a database");
    let db = Database::new(&url).expect("a URL");
    let run_id = uuid::Uuid::new_v4();
    let record = RunRecord {
        run_id,
        input: "test".into(),
        workers: 1,
        config: serde_json::json!({}),
    };
    let reg = registry();
    database::with_connection(&db, async |conn| {
        database::migrate(conn).await?;
        database::start_run(conn, &record, &reg).await
    })
    .expect("a recorded run");
    SinkConfig::new(db, run_id)
}

fn control(seq: u64, reason: &str) -> ControlEvent {
    ControlEvent {
        ts: 1_767_225_600_000_000_000 + seq as i64,
        seq,
        command: ControlCommand::Pause,
        source: ControlSource::Admin,
        reason: reason.into(),
        parameter: None,
    }
}

#[test]
fn a_malformed_row_fails_its_batch_whole_naming_the_table_and_row() {
    let pg = start();
    let config = recorded_run(&pg, "malformed");
    let run = config.run_id;

    // The database refuses the second row (text may not hold a NUL byte): nothing of the
    // batch is written, and the error names the table, the row and the record.
    let writer = Writer::start(config.clone(), 0, registry());
    let rows = vec![
        (1, control(1, "fine")),
        (1, control(2, "a \0 byte")),
        (1, control(3, "fine too")),
    ];
    writer.send_rows(rows).expect("queued");
    let error = writer.finish().expect_err("the batch is refused");
    match &error {
        PipelineError::BadRow {
            table, row, record, ..
        } => {
            assert_eq!((*table, *row), ("control", 2), "{error}");
            assert!(record.contains("seq: 2"), "{error}");
        }
        other => panic!("expected a refused row, got {other}"),
    }
    let rows = |t: &str| {
        value(
            &pg,
            "malformed",
            &format!("SELECT count(*) FROM {t} WHERE run_id = '{run}'"),
        )
    };
    assert_eq!(rows("control"), "0");
    assert_eq!(rows("run_epochs"), "0");

    // A value the table cannot hold is refused before it is sent, by the same rule.
    let writer = Writer::start(config, 0, registry());
    let order = |client_id: u64| Order {
        ts: 1_767_225_600_000_000_000,
        client_id,
        symbol: SymbolId(0),
        action: OrderAction::New,
        side: Side::Buy,
        kind: OrderKind::Market,
        price: Decimal::ZERO,
        trigger: Decimal::ZERO,
        qty: Decimal::ONE,
        tif: bot4_schemas::TimeInForce::Gtc,
        expire_ts: i64::MAX,
        reduces_exposure: false,
        reduce_only: false,
        oco: 0,
    };
    writer
        .send_rows(vec![(4, order(1)), (4, order(2)), (5, order(u64::MAX))])
        .expect("queued");
    let error = writer.finish().expect_err("the batch is refused");
    assert!(
        matches!(&error, PipelineError::BadRow { table: "orders", row: 3, reason, .. } if reason.contains("client_id")),
        "{error}"
    );
    assert_eq!(rows("orders"), "0");
}

#[test]
fn a_batch_sent_again_is_written_once() {
    let pg = start();
    let config = recorded_run(&pg, "resent");
    let run = config.run_id;
    let fill = |event: u32| Fill {
        ts: 1_767_225_600_000_000_000 + i64::from(event),
        client_id: 7,
        symbol: SymbolId(0),
        side: Side::Sell,
        price: Decimal::new(10_001, 2),
        qty: Decimal::new(5, 3),
        fee: Decimal::new(25, 6),
        liquidity: bot4_schemas::Liquidity::Taker,
        event,
    };
    let batch = || vec![(3, fill(1)), (3, fill(2)), (4, fill(3))];
    // As after a lost acknowledgement: the same batch (same worker, same epochs) twice.
    let writer = Writer::start(config.clone(), 0, registry());
    writer.send_rows(batch()).expect("queued");
    writer.send_rows(batch()).expect("queued");
    let stats = writer.finish().expect("written");
    assert_eq!((stats.batches, stats.rows, stats.skipped), (1, 3, 1));
    // Another worker's batch of the same epochs is its own.
    let writer = Writer::start(config, 1, registry());
    writer.send_rows(vec![(3, fill(9))]).expect("queued");
    assert_eq!(writer.finish().expect("written").batches, 1);
    let q = |sql: &str| value(&pg, "resent", &sql.replace("RUN", &format!("'{run}'")));
    assert_eq!(q("SELECT count(*) FROM fills WHERE run_id = RUN"), "4");
    assert_eq!(
        q("SELECT sum(rows) || '/' || count(*) FROM run_epochs WHERE run_id = RUN"),
        "4/2"
    );
    assert_eq!(
        q("SELECT price::text FROM fills WHERE run_id = RUN AND event = 1"),
        "100.010000000000"
    );
}
