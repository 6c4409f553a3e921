//! The database layer against a real, throwaway PostgreSQL (plain PostgreSQL: the
//! fallback path of migrations/): the migrations apply in one transaction each and again
//! without change, every query in sql/ gives the answers worked out by hand for a small
//! dataset, a re-sent row is a no-op, a row far outside the daily partitions still
//! lands, and the audit log is an append-only hash chain.
//!
//! The tests fail, not skip, when PostgreSQL cannot start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use bot4_pipeline::database::SERIES_TABLES;
use bot4_tests::pg::TestPostgres;

/// 2026-01-01T00:00:00Z in Unix nanoseconds; the dataset's times are offsets from it.
const T0: i64 = 1_767_225_600_000_000_000;
const S: i64 = 1_000_000_000;
const US: i64 = 1_000;

/// The run the dataset is about, started last; `OTHER` holds rows that would change
/// every answer if a query forgot to filter by run.
const RUN: &str = "00000000-0000-4000-8000-000000000001";
const OTHER: &str = "00000000-0000-4000-8000-000000000002";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_owned()
}

/// migrations/*.sql in version order.
fn migration_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("migrations"))
        .expect("reading migrations/")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "migrations/ holds {files:?}");
    files
}

fn start() -> TestPostgres {
    TestPostgres::start().unwrap_or_else(|e| panic!("starting PostgreSQL for the test: {e}"))
}

/// A query's result: its header and rows as psql's CSV prints them (NULL is empty).
#[derive(Debug)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn parse(text: &str) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .expect("a CSV header")
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
            .collect();
        Self { header, rows }
    }

    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.column(name)]
    }

    /// Row `row` has these values (numbers compared as decimals, so `1.500` = `1.5`).
    fn assert_row(&self, row: usize, expected: &[(&str, &str)]) {
        assert!(row < self.rows.len(), "no row {row} in {self:#?}");
        for (name, want) in expected {
            let got = self.get(row, name);
            assert_eq!(
                normalize(got),
                normalize(want),
                "row {row}, column {name}: got {got:?}, want {want:?}\n{self:#?}"
            );
        }
    }
}

/// A decimal without trailing zeros (`101.500` → `101.5`, `2.000` → `2`); anything
/// else unchanged.
fn normalize(text: &str) -> String {
    let numeric = !text.is_empty()
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    if !numeric || !text.contains('.') {
        return text.to_owned();
    }
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// `T0 + offset` as psql prints a timestamptz in UTC (offsets within the first day).
fn ts(offset: i64) -> String {
    assert!((0..86_400 * S).contains(&offset));
    let micros = offset / US;
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let (h, m, s) = (secs / 3_600, secs / 60 % 60, secs % 60);
    let mut text = format!("2026-01-01 {h:02}:{m:02}:{s:02}");
    if frac > 0 {
        let digits = format!("{frac:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push_str("+00");
    text
}

/// One database on a test server.
struct Db<'a> {
    pg: &'a TestPostgres,
    name: String,
}

impl<'a> Db<'a> {
    fn create(pg: &'a TestPostgres, name: &str) -> Self {
        pg.create_database(name)
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        Self {
            pg,
            name: name.to_owned(),
        }
    }

    fn run(&self, command: &mut std::process::Command, what: &str) -> Output {
        let out = command
            .output()
            .unwrap_or_else(|e| panic!("running psql for {what}: {e}"));
        assert!(
            out.status.success(),
            "psql {what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Apply every migration as sqlx does, each file in one transaction (`psql -1`);
    /// returns what the server said (its notices).
    fn migrate(&self) -> String {
        let mut said = String::new();
        for file in migration_files() {
            let out = self.run(
                self.pg.psql(&self.name).arg("-1").arg("-f").arg(&file),
                &format!("-1 -f {}", file.display()),
            );
            said.push_str(&String::from_utf8_lossy(&out.stderr));
        }
        said
    }

    /// Run `sql` (any number of statements, in one transaction).
    fn exec(&self, sql: &str) {
        self.run(self.pg.psql(&self.name).args(["-c", sql]), sql);
    }

    /// Run `sql` and return the error psql reports; it must fail.
    fn fails(&self, sql: &str) -> String {
        let out = self
            .pg
            .psql(&self.name)
            .args(["-c", sql])
            .output()
            .expect("running psql");
        assert!(!out.status.success(), "this should have failed: {sql}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// The result of one query.
    fn query(&self, sql: &str) -> Table {
        let out = self.run(self.pg.psql(&self.name).args(["--csv", "-c", sql]), sql);
        Table::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// A single value.
    fn value(&self, sql: &str) -> String {
        let table = self.query(sql);
        assert_eq!(table.rows.len(), 1, "{sql} gave {table:#?}");
        table.rows[0][0].clone()
    }

    /// Run sql/`file` with psql variables `vars`.
    fn query_file(&self, file: &str, vars: &[(&str, &str)]) -> Table {
        let mut command = self.pg.psql(&self.name);
        command.arg("--csv");
        for (name, value) in vars {
            command.arg("-v").arg(format!("{name}={value}"));
        }
        command.arg("-f").arg(repo().join("sql").join(file));
        let out = self.run(&mut command, &format!("sql/{file} with {vars:?}"));
        Table::parse(&String::from_utf8_lossy(&out.stdout))
    }

    fn count(&self, table: &str) -> i64 {
        self.value(&format!("SELECT count(*) FROM {table}"))
            .parse()
            .expect("a count")
    }
}

/// `sql` with every `@SECONDS` (seconds after T0, up to 9 decimals: `@45.0002`)
/// replaced by `bot4_ts(NS), NS`, the ts and ts_ns of a row, and `RUN` and `OTHER` by
/// those runs' ids.
fn at(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let mut rest = sql;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..i]);
        let token: String = rest[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let (secs, frac) = token.split_once('.').unwrap_or((&token, ""));
        assert!(frac.len() <= 9, "@{token}: at most nanoseconds");
        let frac_ns: i64 = format!("{frac:0<9}").parse().expect("a fraction");
        let ns = T0 + secs.parse::<i64>().expect("whole seconds") * S + frac_ns;
        out.push_str(&format!("bot4_ts({ns}), {ns}"));
        rest = &rest[i + 1 + token.len()..];
    }
    out.push_str(rest);
    out.replace("'RUN'", &format!("'{RUN}'"))
        .replace("'OTHER'", &format!("'{OTHER}'"))
}

const BTC: &str = "BTCUSDT";
const ETH: &str = "ETHUSDT";
/// Client ids, (symbol id << 40) | counter: BTC is symbol 1, ETH symbol 2.
const C1: i64 = (1 << 40) | 1;
const C2: i64 = (1 << 40) | 2;
const C3: i64 = (1 << 40) | 3;
const C4: i64 = (2 << 40) | 1;

/// The hand-made dataset of run RUN (capital 1000), and a decoy run OTHER whose rows
/// would change every answer if a query forgot to filter by run. Mids: BTC 100 (0 s),
/// 100.5 (40 s), 101.5 (100 s), 103.5 (400 s); ETH 10 (5 s), 10.1 (50 s), 9.9 (500 s).
/// Orders (client ids C1 = 1099511627777, C2 = …778, C3 = …779, C4 = 2199023255553):
/// C1 buys 2 BTC at market at 45 s, filled at 101 200 µs later; C4 sells 5 ETH at market
/// at 52 s, filled at 10.0; C2 sells 1 BTC at 103.5 (limit) at 100 s, filled 0.4 at
/// 110 s and 0.6 at 130 s; C3 bids for BTC at 200 s and is cancelled at 260 s.
/// Every statement ends with ";\n".
fn dataset() -> String {
    at(r#"
INSERT INTO runs (run_id, started, config, input, workers, status) VALUES
  ('RUN',   '2026-01-02 00:00Z', '{"capital": 1000}', 'hand-made', 1, 'finished'),
  ('OTHER', '2026-01-01 00:00Z', '{}',                'decoy',     1, 'finished');
INSERT INTO ticks (run_id, ts, ts_ns, seq, symbol, kind, price, size, side,
                   bid_price, bid_size, ask_price, ask_size) VALUES
  ('RUN', @0,            1, 'BTCUSDT', 'quote', NULL,   NULL, NULL,   99.5, 1, 100.5, 1),
  ('RUN', @5,            2, 'ETHUSDT', 'quote', NULL,   NULL, NULL,    9.9, 10, 10.1, 10),
  ('RUN', @10,           3, 'BTCUSDT', 'trade', 100,    1,    'buy',  NULL, NULL, NULL, NULL),
  ('RUN', @20,           4, 'BTCUSDT', 'trade', 102.5,  2,    'buy',  NULL, NULL, NULL, NULL),
  -- Two trades in one microsecond: ts_ns orders them, not the order of insertion (the
  -- later is inserted first).
  ('RUN', @30.000000002, 6, 'BTCUSDT', 'trade', 101,    1,    'buy',  NULL, NULL, NULL, NULL),
  ('RUN', @30.000000001, 5, 'BTCUSDT', 'trade', 99,     0.5,  'sell', NULL, NULL, NULL, NULL),
  ('RUN', @40,           7, 'BTCUSDT', 'quote', NULL,   NULL, NULL,    100, 1, 101, 1),
  ('RUN', @50,           8, 'ETHUSDT', 'quote', NULL,   NULL, NULL,   10.0, 10, 10.2, 10),
  ('RUN', @55,           9, 'ETHUSDT', 'trade', 10.05,  10,   'buy',  NULL, NULL, NULL, NULL),
  ('RUN', @65,          10, 'BTCUSDT', 'trade', 103,    1,    'buy',  NULL, NULL, NULL, NULL),
  ('RUN', @90,          11, 'BTCUSDT', 'trade', 104.25, 3,    'buy',  NULL, NULL, NULL, NULL),
  ('RUN', @100,         12, 'BTCUSDT', 'quote', NULL,   NULL, NULL,    101, 1, 102, 1),
  -- And two in one microsecond at the end of the second minute, the earlier first.
  ('RUN', @119.9999995,   13, 'BTCUSDT', 'trade', 102,   1, 'buy',  NULL, NULL, NULL, NULL),
  ('RUN', @119.999999999, 14, 'BTCUSDT', 'trade', 100.5, 1, 'sell', NULL, NULL, NULL, NULL),
  ('RUN', @400,         15, 'BTCUSDT', 'quote', NULL,   NULL, NULL,    103, 1, 104, 1),
  ('RUN', @500,         16, 'ETHUSDT', 'quote', NULL,   NULL, NULL,    9.8, 10, 10.0, 10),
  ('OTHER', @44,         1, 'BTCUSDT', 'quote', NULL,   NULL, NULL,   49.5, 1, 50.5, 1),
  ('OTHER', @15,         2, 'BTCUSDT', 'trade', 1000,   100,  'buy',  NULL, NULL, NULL, NULL);
INSERT INTO orders (run_id, ts, ts_ns, client_id, symbol, action, side, kind, price, qty,
                    expire_ns, reduces_exposure) VALUES
  ('RUN', @45,  1099511627777, 'BTCUSDT', 'new',    'buy',  'market', NULL,  2, 9223372036854775807, false),
  ('RUN', @52,  2199023255553, 'ETHUSDT', 'new',    'sell', 'market', NULL,  5, 9223372036854775807, false),
  ('RUN', @100, 1099511627778, 'BTCUSDT', 'new',    'sell', 'limit',  103.5, 1, 1767229200000000000, true),
  ('RUN', @200, 1099511627779, 'BTCUSDT', 'new',    'buy',  'limit',  100,   1, 9223372036854775807, false),
  ('RUN', @260, 1099511627779, 'BTCUSDT', 'cancel', 'buy',  'limit',  100,   1, 9223372036854775807, false);
INSERT INTO reports (run_id, ts, ts_ns, client_id, symbol, side, status, fill_qty, fill_price,
                     fee, liquidity, leaves_qty, event) VALUES
  ('RUN', @45,          1099511627777, 'BTCUSDT', 'buy',  'submitted',        0,   0,     0,       NULL,    2,   0),
  ('RUN', @45.00015025, 1099511627777, 'BTCUSDT', 'buy',  'accepted',         0,   0,     0,       NULL,    2,   1),
  ('RUN', @45.0002,     1099511627777, 'BTCUSDT', 'buy',  'filled',           2,   101,   0.202,   'taker', 0,   2),
  ('RUN', @52,          2199023255553, 'ETHUSDT', 'sell', 'submitted',        0,   0,     0,       NULL,    5,   0),
  ('RUN', @52.0003,     2199023255553, 'ETHUSDT', 'sell', 'filled',           5,   10.0,  0.05,    'taker', 0,   1),
  ('RUN', @100,         1099511627778, 'BTCUSDT', 'sell', 'submitted',        0,   0,     0,       NULL,    1,   0),
  ('RUN', @100.001,     1099511627778, 'BTCUSDT', 'sell', 'accepted',         0,   0,     0,       NULL,    1,   1),
  ('RUN', @110,         1099511627778, 'BTCUSDT', 'sell', 'partially_filled', 0.4, 103.5, 0.0207,  'maker', 0.6, 2),
  ('RUN', @130,         1099511627778, 'BTCUSDT', 'sell', 'filled',           0.6, 103.5, 0.03105, 'maker', 0,   3),
  ('RUN', @200,         1099511627779, 'BTCUSDT', 'buy',  'submitted',        0,   0,     0,       NULL,    1,   0),
  ('RUN', @200.002,     1099511627779, 'BTCUSDT', 'buy',  'accepted',         0,   0,     0,       NULL,    1,   1),
  ('RUN', @260.001,     1099511627779, 'BTCUSDT', 'buy',  'cancelled',        0,   0,     0,       NULL,    0,   2);
INSERT INTO fills (run_id, ts, ts_ns, client_id, symbol, side, price, qty, fee, liquidity,
                   event) VALUES
  ('RUN', @45.0002, 1099511627777, 'BTCUSDT', 'buy',  101,   2,   0.202,   'taker', 2),
  ('RUN', @52.0003, 2199023255553, 'ETHUSDT', 'sell', 10.0,  5,   0.05,    'taker', 1),
  ('RUN', @110,     1099511627778, 'BTCUSDT', 'sell', 103.5, 0.4, 0.0207,  'maker', 2),
  ('RUN', @130,     1099511627778, 'BTCUSDT', 'sell', 103.5, 0.6, 0.03105, 'maker', 3);
-- Epoch 131 repeats epoch 130's snapshot (a report without a fill touched BTC): the
-- key keeps them apart.
INSERT INTO positions (run_id, ts, ts_ns, epoch, symbol, qty, avg_price, mark, cash,
                       realized_pnl, unrealized_pnl, fees, fills) VALUES
  ('RUN', @45.0002, 45,  'BTCUSDT',  2,  101, 100.5, -202.202,   0,   -1,   0.202,   1),
  ('RUN', @52.0003, 52,  'ETHUSDT', -5,  10,  10.1,   49.95,     0,   -0.5, 0.05,    1),
  ('RUN', @110,     110, 'BTCUSDT',  1.6, 101, 101.5, -160.8227, 1.0,  0.8, 0.2227,  2),
  ('RUN', @130,     130, 'BTCUSDT',  1,  101, 101.5, -98.75375,  2.5,  0.5, 0.25375, 3),
  ('RUN', @130,     131, 'BTCUSDT',  1,  101, 101.5, -98.75375,  2.5,  0.5, 0.25375, 3);
-- The first point is below the capital: its stored peak is the capital.
INSERT INTO equity (run_id, ts, ts_ns, equity, realized_pnl, unrealized_pnl, fees,
                    gross_exposure, peak, drawdown) VALUES
  ('RUN', @46,  999.0,   0, 0, 0, 0, 1000,   0.001),
  ('RUN', @53,  998.45,  0, 0, 0, 0, 1000,   0.00155),
  ('RUN', @111, 1001.0,  0, 0, 0, 0, 1001,   0),
  ('RUN', @131, 1000.5,  0, 0, 0, 0, 1001,   0.0004995),
  ('RUN', @181, 1002.2,  0, 0, 0, 0, 1002.2, 0);
INSERT INTO signals (run_id, ts, ts_ns, seq, symbol, direction, strength, confidence,
                     volatility, bid, ask) VALUES
  ('RUN', @5,   2,   'ETHUSDT',  1, 0.5, 0.5, 0.01, 9.9,  10.1),
  ('RUN', @40,  7,   'BTCUSDT',  1, 0.5, 0.5, 0.01, 100,  101),
  ('RUN', @50,  8,   'ETHUSDT', -1, 0.5, 0.5, 0.01, 10.0, 10.2),
  ('RUN', @100, 12,  'BTCUSDT', -1, 0.5, 0.5, 0.01, 101,  102),
  ('RUN', @150, 100, 'BTCUSDT',  0, 0.5, 0.5, 0.01, 101,  102),
  ('RUN', @200, 101, 'BTCUSDT',  1, 0.5, 0.5, 0.01, 101,  102);
INSERT INTO control (run_id, ts, ts_ns, seq, mode, reason) VALUES
  ('RUN', @150, 0, 'pause', 'hand-made');
-- The pause's audit entry, hashed as a run hashes it: sha256 of 32 zero bytes and
-- "1|1767225750000000000|control|" followed by the payload.
INSERT INTO audit (run_id, ts, ts_ns, seq, kind, payload, prev_hash, hash) VALUES
  ('RUN', @150, 1, 'control',
   '{"seq":0,"mode":"pause","source":"file","reason":"hand-made"}', repeat('0', 64),
   '5e48cdcb3c506c17993e7aaf4810109722899492151b4f275366bb1db6c211c0');
"#)
}

/// An insert of one BTC trade of `run` at `ns`.
fn trade_at(run: &str, seq: i64, ns: i64) -> String {
    format!(
        "INSERT INTO ticks (run_id, ts, ts_ns, seq, symbol, kind, price, size, side) \
         VALUES ('{run}', bot4_ts({ns}), {ns}, {seq}, '{BTC}', 'trade', 100, 1, 'buy')"
    )
}

/// A database on `pg` with every migration applied.
fn migrated<'a>(pg: &'a TestPostgres, name: &str) -> Db<'a> {
    let db = Db::create(pg, name);
    db.migrate();
    db
}

/// Relations, columns, constraints, indexes and functions of the public schema.
fn schema_digest(db: &Db<'_>) -> String {
    let table = db.query(
        "SELECT 'rel ' || c.relname || ' ' || c.relkind::text AS item FROM pg_class c \
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' \
         UNION ALL SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type \
           FROM information_schema.columns WHERE table_schema = 'public' \
         UNION ALL SELECT 'con ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) \
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
         UNION ALL SELECT 'fn ' || p.oid::regprocedure FROM pg_proc p \
           WHERE p.pronamespace = 'public'::regnamespace \
         UNION ALL SELECT 'meta ' || key || '=' || value FROM bot4_meta \
         UNION ALL SELECT 'series ' || s::text FROM bot4_series s \
         ORDER BY 1",
    );
    table
        .rows
        .iter()
        .map(|r| r[0].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn migrations_take_the_plain_postgresql_path_and_apply_twice() {
    let pg = start();
    let db = Db::create(&pg, "migrations");
    let said = db.migrate();
    assert!(
        said.contains("bot4 storage: plain PostgreSQL"),
        "the migrations should say which path they took:\n{said}"
    );
    assert_eq!(db.value("SELECT bot4_storage()"), "partitioned");

    // time_bucket exists and buckets as TimescaleDB's does: from Monday 2000-01-03.
    assert_eq!(
        db.value(
            "SELECT count(*) FROM pg_proc WHERE proname = 'time_bucket' \
             AND pg_get_function_identity_arguments(oid) = \
                 'bucket_width interval, ts timestamp with time zone'"
        ),
        "1"
    );
    assert_eq!(
        db.value("SELECT time_bucket('7 days', timestamptz '2026-01-01 12:00Z')"),
        "2025-12-29 00:00:00+00"
    );
    assert_eq!(
        db.value("SELECT time_bucket('15 minutes', timestamptz '2026-01-01 10:31:02Z')"),
        "2026-01-01 10:30:00+00"
    );

    // Every series table is range-partitioned by ts, with a default partition.
    for table in SERIES_TABLES {
        assert_eq!(
            db.value(&format!(
                "SELECT pg_get_partkeydef('{table}'::regclass) || ' ' || \
                 (SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                   WHERE i.inhparent = '{table}'::regclass AND c.relispartition \
                     AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')"
            )),
            "RANGE (ts) 1",
            "{table}"
        );
    }
    for view in ["ohlcv_1m", "ohlcv_1h"] {
        assert_eq!(
            db.value(&format!(
                "SELECT relkind FROM pg_class WHERE oid = '{view}'::regclass"
            )),
            "m",
            "{view} is a materialized view"
        );
    }
    // ns round trip of the ts column's function: microseconds, floored.
    assert_eq!(
        db.value("SELECT bot4_ts(1767225600123456789)"),
        "2026-01-01 00:00:00.123456+00"
    );
    assert_eq!(
        db.value("SELECT bot4_ts(-1)"),
        "1969-12-31 23:59:59.999999+00"
    );

    // Applied again, the migrations change nothing (sqlx would not re-run them; the
    // IF NOT EXISTS guards make a manual re-run safe).
    let before = schema_digest(&db);
    let again = db.migrate();
    assert!(again.contains("bot4 storage: plain PostgreSQL"), "{again}");
    assert_eq!(schema_digest(&db), before);

    // Daily partitions: created once, then found.
    assert_eq!(
        db.value("SELECT bot4_ensure_partitions('2026-01-01', '2026-01-03')"),
        (SERIES_TABLES.len() * 2).to_string()
    );
    assert_eq!(
        db.value("SELECT bot4_ensure_partitions('2026-01-01 06:00Z', '2026-01-02 06:00Z')"),
        "0"
    );
    assert_eq!(
        db.value(
            "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i \
             JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'fills'::regclass"
        ),
        "fills_default fills_p20260101 fills_p20260102"
    );
    // Without TimescaleDB the policies are a notice, not an error.
    db.exec("SELECT bot4_apply_policies()");
}

#[test]
fn every_query_answers_the_hand_made_dataset() {
    let pg = start();
    let db = migrated(&pg, "queries");
    // The dataset's day gets its partition; the rest of the time stays in the defaults.
    db.exec("SELECT bot4_ensure_partitions('2026-01-01', '2026-01-02')");
    db.exec(&dataset());
    assert_eq!(db.count("ticks_p20260101"), 18);
    assert_eq!(db.count("ticks_default"), 0);

    // OHLCV: one-minute bars of every symbol of the latest run (run_id empty).
    let bars = db.query_file(
        "ohlcv.sql",
        &[
            ("run_id", ""),
            ("symbol", ""),
            ("bucket", "1 minute"),
            ("start", ""),
            ("end", ""),
        ],
    );
    assert_eq!(bars.rows.len(), 3, "{bars:#?}");
    bars.assert_row(
        0,
        &[
            ("symbol", BTC),
            ("bucket", &ts(0)),
            ("open", "100"),
            ("high", "102.5"),
            ("low", "99"),
            ("close", "101"),
            ("volume", "4.5"),
            ("trades", "4"),
            ("vwap", "101.222222222222"),
        ],
    );
    bars.assert_row(
        1,
        &[
            ("symbol", BTC),
            ("bucket", &ts(60 * S)),
            ("open", "103"),
            ("high", "104.25"),
            ("low", "100.5"),
            ("close", "100.5"),
            ("volume", "6"),
            ("trades", "4"),
            ("vwap", "103.041666666667"),
        ],
    );
    bars.assert_row(
        2,
        &[
            ("symbol", ETH),
            ("bucket", &ts(0)),
            ("open", "10.05"),
            ("close", "10.05"),
            ("volume", "10"),
            ("trades", "1"),
        ],
    );
    // An hour bar of one symbol from 30 s on: 30 s + 1 ns is in (ts is floored).
    let hour = db.query_file(
        "ohlcv.sql",
        &[
            ("run_id", RUN),
            ("symbol", BTC),
            ("bucket", "1 hour"),
            ("start", "2026-01-01 00:00:30Z"),
            ("end", "2026-01-01 01:00Z"),
        ],
    );
    assert_eq!(hour.rows.len(), 1, "{hour:#?}");
    hour.assert_row(
        0,
        &[
            ("bucket", &ts(0)),
            ("open", "99"),
            ("high", "104.25"),
            ("low", "99"),
            ("close", "100.5"),
            ("volume", "7.5"),
            ("trades", "6"),
            ("vwap", "102.5"),
        ],
    );
    // The materialized view agrees with the query, once refreshed.
    db.exec("REFRESH MATERIALIZED VIEW CONCURRENTLY ohlcv_1m");
    let view = db.query(&format!(
        "SELECT symbol, bucket, open, high, low, close, volume, trades FROM ohlcv_1m \
         WHERE run_id = '{RUN}' ORDER BY symbol, bucket"
    ));
    assert_eq!(view.rows.len(), 3);
    for (i, want) in bars.rows.iter().enumerate() {
        for name in [
            "symbol", "bucket", "open", "high", "low", "close", "volume", "trades",
        ] {
            assert_eq!(
                normalize(view.get(i, name)),
                normalize(&want[bars.column(name)]),
                "ohlcv_1m row {i} {name}"
            );
        }
    }

    // PnL and fees per symbol, whole run and as of 120 s.
    let pnl = db.query_file("pnl_by_symbol.sql", &[("run_id", RUN), ("end", "")]);
    assert_eq!(pnl.rows.len(), 2, "{pnl:#?}");
    pnl.assert_row(
        0,
        &[
            ("symbol", BTC),
            ("fills", "3"),
            ("maker_fills", "2"),
            ("bought", "2"),
            ("sold", "1"),
            ("notional", "305.5"),
            ("fees", "0.25375"),
            ("position", "1"),
            ("avg_price", "101"),
            ("mark", "101.5"),
            ("realized_pnl", "2.5"),
            ("unrealized_pnl", "0.5"),
            ("total_pnl", "2.74625"),
        ],
    );
    pnl.assert_row(
        1,
        &[
            ("symbol", ETH),
            ("fills", "1"),
            ("maker_fills", "0"),
            ("bought", "0"),
            ("sold", "5"),
            ("notional", "50"),
            ("fees", "0.05"),
            ("position", "-5"),
            ("realized_pnl", "0"),
            ("unrealized_pnl", "-0.5"),
            ("total_pnl", "-0.55"),
        ],
    );
    let early = db.query_file(
        "pnl_by_symbol.sql",
        &[("run_id", RUN), ("end", "2026-01-01 00:02:00Z")],
    );
    early.assert_row(
        0,
        &[
            ("symbol", BTC),
            ("fills", "2"),
            ("sold", "0.4"),
            ("notional", "243.4"),
            ("fees", "0.2227"),
            ("position", "1.6"),
            ("realized_pnl", "1"),
            ("total_pnl", "1.5773"),
        ],
    );

    // Equity and drawdown in one-minute buckets, and point by point from 100 s.
    let curve = db.query_file(
        "equity_drawdown.sql",
        &[
            ("run_id", RUN),
            ("bucket", "1 minute"),
            ("start", ""),
            ("end", ""),
        ],
    );
    assert_eq!(curve.rows.len(), 4, "{curve:#?}");
    let expected = [
        (0, "2", "998.45", "1000", "0.00155", "0.00155", "0.00155"),
        (60, "1", "1001", "1001", "0", "0", "0.00155"),
        (
            120,
            "1",
            "1000.5",
            "1001",
            "0.0004995005",
            "0.0004995005",
            "0.00155",
        ),
        (180, "1", "1002.2", "1002.2", "0", "0", "0.00155"),
    ];
    for (i, (offset, points, equity, peak, dd, max_dd, so_far)) in expected.iter().enumerate() {
        curve.assert_row(
            i,
            &[
                ("ts", &ts(offset * S)),
                ("points", points),
                ("equity", equity),
                ("peak", peak),
                ("drawdown", dd),
                ("max_drawdown", max_dd),
                ("max_drawdown_so_far", so_far),
            ],
        );
    }
    let points = db.query_file(
        "equity_drawdown.sql",
        &[
            ("run_id", RUN),
            ("bucket", ""),
            ("start", "2026-01-01 00:01:40Z"),
            ("end", ""),
        ],
    );
    assert_eq!(points.rows.len(), 3, "{points:#?}");
    points.assert_row(
        0,
        &[("ts", &ts(111 * S)), ("peak", "1001"), ("drawdown", "0")],
    );
    points.assert_row(
        2,
        &[
            ("ts", &ts(181 * S)),
            ("max_drawdown_so_far", "0.0004995005"),
        ],
    );
    let first = db.query_file(
        "equity_drawdown.sql",
        &[("run_id", RUN), ("bucket", ""), ("start", ""), ("end", "")],
    );
    // Below the starting capital at once: the peak is the capital, not 999.
    first.assert_row(
        0,
        &[("equity", "999"), ("peak", "1000"), ("drawdown", "0.001")],
    );

    // Fill quality against the mid of the latest quote at or before the order.
    let quality = db.query_file(
        "fill_quality.sql",
        &[("run_id", RUN), ("symbol", ""), ("start", ""), ("end", "")],
    );
    assert_eq!(quality.rows.len(), 4, "{quality:#?}");
    let c1 = C1.to_string();
    let c2 = C2.to_string();
    let c4 = C4.to_string();
    quality.assert_row(
        0,
        &[
            ("ts", &ts(45 * S + 200 * US)),
            ("client_id", &c1),
            ("order_ts", &ts(45 * S)),
            ("quote_ts", &ts(40 * S)),
            ("mid", "100.5"),
            ("slippage", "0.5"),
            ("slippage_bps", "49.751244"),
            ("cost", "1"),
        ],
    );
    quality.assert_row(
        1,
        &[
            ("client_id", &c4),
            ("side", "sell"),
            ("quote_ts", &ts(50 * S)),
            ("mid", "10.1"),
            ("slippage", "0.1"),
            ("slippage_bps", "99.009901"),
            ("cost", "0.5"),
        ],
    );
    // The quote at exactly the order's time counts; selling above the mid is a gain.
    quality.assert_row(
        2,
        &[
            ("client_id", &c2),
            ("order_ts", &ts(100 * S)),
            ("quote_ts", &ts(100 * S)),
            ("mid", "101.5"),
            ("slippage", "-2"),
            ("slippage_bps", "-197.044335"),
            ("cost", "-0.8"),
            ("liquidity", "maker"),
        ],
    );
    quality.assert_row(3, &[("client_id", &c2), ("qty", "0.6"), ("cost", "-1.2")]);
    let eth_only = db.query_file(
        "fill_quality.sql",
        &[("run_id", ""), ("symbol", ETH), ("start", ""), ("end", "")],
    );
    assert_eq!(eth_only.rows.len(), 1);

    // Order latency: to the first report other than `submitted`, and to the first fill.
    let latency = db.query_file(
        "order_latency.sql",
        &[("run_id", RUN), ("symbol", ""), ("start", ""), ("end", "")],
    );
    assert_eq!(latency.rows.len(), 4, "{latency:#?}");
    let c3 = C3.to_string();
    let expected = [
        (&c1, "accepted", "150.25", "200", "2"),
        (&c4, "filled", "300", "300", "5"),
        (&c2, "accepted", "1000", "10000000", "1"),
        (&c3, "accepted", "2000", "", "0"),
    ];
    for (i, (id, status, ack, fill, filled)) in expected.iter().enumerate() {
        latency.assert_row(
            i,
            &[
                ("client_id", id),
                ("ack_status", status),
                ("ack_us", ack),
                ("fill_us", fill),
                ("filled_qty", filled),
            ],
        );
    }

    // Signal hit rate over five minutes: BTC's last signal runs past the data.
    let hits = db.query_file(
        "signal_hit_rate.sql",
        &[
            ("run_id", RUN),
            ("horizon", "5 minutes"),
            ("symbol", ""),
            ("start", ""),
            ("end", ""),
        ],
    );
    assert_eq!(hits.rows.len(), 3, "{hits:#?}");
    let expected = [
        (BTC, "3", "2", "1", "0", "0.5", "-48.770924"),
        (ETH, "2", "2", "1", "1", "0.5", "50"),
        ("", "5", "4", "2", "1", "0.5", "0.614538"),
    ];
    for (i, (symbol, signals, evaluated, hit, flats, rate, bps)) in expected.iter().enumerate() {
        hits.assert_row(
            i,
            &[
                ("symbol", symbol),
                ("signals", signals),
                ("evaluated", evaluated),
                ("hits", hit),
                ("flats", flats),
                ("hit_rate", rate),
                ("avg_move_bps", bps),
            ],
        );
    }
    // Over one minute: the quote at exactly signal time + horizon is the end mid.
    let minute = db.query_file(
        "signal_hit_rate.sql",
        &[
            ("run_id", RUN),
            ("horizon", "1 minute"),
            ("symbol", ""),
            ("start", ""),
            ("end", ""),
        ],
    );
    let expected = [
        (BTC, "3", "3", "1", "2", "0.333333", "33.167496"),
        (ETH, "2", "2", "1", "1", "0.5", "50"),
        ("", "5", "5", "2", "3", "0.4", "39.900498"),
    ];
    for (i, (symbol, signals, evaluated, hit, flats, rate, bps)) in expected.iter().enumerate() {
        minute.assert_row(
            i,
            &[
                ("symbol", symbol),
                ("signals", signals),
                ("evaluated", evaluated),
                ("hits", hit),
                ("flats", flats),
                ("hit_rate", rate),
                ("avg_move_bps", bps),
            ],
        );
    }
}

#[test]
fn a_resent_row_is_a_no_op() {
    let pg = start();
    let db = migrated(&pg, "idempotency");
    let data = dataset();
    db.exec(&data);
    let counts = |db: &Db<'_>| -> BTreeMap<&str, i64> {
        SERIES_TABLES.iter().map(|t| (*t, db.count(t))).collect()
    };
    let before = counts(&db);
    assert_eq!(before["ticks"], 18);
    assert_eq!(before["positions"], 5);

    // The whole dataset again, every insert ON CONFLICT DO NOTHING: nothing changes.
    let again = data.replace(";\n", " ON CONFLICT DO NOTHING;\n");
    db.exec(&again);
    assert_eq!(counts(&db), before);

    // Without ON CONFLICT the unique keys refuse the copies (the error names the
    // partition's copy of the key, and its columns).
    for (table, key) in [
        ("ticks", "(run_id, symbol, ts, seq)"),
        ("orders", "(run_id, client_id, action, ts)"),
        ("reports", "(run_id, client_id, event, ts)"),
        ("fills", "(run_id, client_id, event, ts)"),
        ("positions", "(run_id, symbol, epoch, ts)"),
        ("equity", "(run_id, ts)"),
        ("signals", "(run_id, symbol, ts, seq)"),
        ("control", "(run_id, ts, seq)"),
        ("audit", "(run_id, seq, ts)"),
    ] {
        let statement = data
            .split(";\n")
            .find(|s| s.contains(&format!("INSERT INTO {table} ")))
            .unwrap_or_else(|| panic!("the dataset inserts into {table}"));
        let error = db.fails(statement);
        assert!(
            error.contains(&format!("unique constraint \"{table}_"))
                && error.contains(&format!("Key {key}=")),
            "{table}: {error}"
        );
    }

    // The same tick in another run is another row.
    db.exec(&trade_at(
        "00000000-0000-4000-8000-000000000003",
        3,
        T0 + 10 * S,
    ));
    assert_eq!(db.count("ticks"), 19);

    // The run/epoch ledger: a batch recorded twice is recorded once.
    let ledger = format!(
        "INSERT INTO run_epochs (run_id, table_name, part, first_epoch, last_epoch, rows) \
         VALUES ('{RUN}', 'ticks', 0, 7, 9, 17) ON CONFLICT DO NOTHING"
    );
    db.exec(&ledger);
    db.exec(&ledger);
    assert_eq!(db.count("run_epochs"), 1);
    let unknown = db.fails(&format!(
        "INSERT INTO run_epochs (run_id, table_name, part, first_epoch, last_epoch, rows) \
         VALUES ('{RUN}', 'nope', 0, 1, 1, 0)"
    ));
    assert!(unknown.contains("run_epochs_table_name_fkey"), "{unknown}");

    // A malformed row fails its whole statement: ts disagreeing with ts_ns, a quote
    // without prices, an unknown status.
    let bad_ts = db.fails(&at(
        "INSERT INTO ticks (run_id, ts, ts_ns, seq, symbol, kind, price, size) VALUES \
         ('RUN', @7, 90, 'BTCUSDT', 'trade', 1, 1), \
         ('RUN', bot4_ts(0), 1767225607000000000, 91, 'BTCUSDT', 'trade', 1, 1)",
    ));
    assert!(bad_ts.contains("ticks_check"), "{bad_ts}");
    let bad_quote = db.fails(&at(
        "INSERT INTO ticks (run_id, ts, ts_ns, seq, symbol, kind, bid_price, bid_size, ask_size) \
         VALUES ('RUN', @8, 92, 'BTCUSDT', 'quote', 1, 1, 1)",
    ));
    assert!(bad_quote.contains("ticks_check2"), "{bad_quote}");
    let bad_status = db.fails(&at(
        "INSERT INTO reports (run_id, ts, ts_ns, client_id, symbol, side, status, fill_qty, \
                              fill_price, fee, leaves_qty, event) \
         VALUES ('RUN', @9, 1099511627777, 'BTCUSDT', 'buy', 'lost', 0, 0, 0, 0, 9)",
    ));
    assert!(bad_status.contains("reports_status_known"), "{bad_status}");
    assert_eq!(db.count("ticks"), 19);
}

#[test]
fn rows_far_outside_the_daily_partitions_land_in_the_default() {
    let pg = start();
    let db = migrated(&pg, "partitions");
    db.exec(&format!(
        "INSERT INTO runs (run_id) VALUES ('{RUN}'); \
         SELECT bot4_ensure_partitions('2026-01-01', '2026-01-02');"
    ));
    let far_past = -30 * 365 * 86_400 * S; // 1940
    let far_future = i64::MAX - 5; // 2262
    for (seq, ns) in [
        (1, T0 + 60 * S),
        (2, far_past),
        (3, far_future),
        (4, T0 + 40 * 86_400 * S),
    ] {
        db.exec(&trade_at(RUN, seq, ns));
    }
    let homes = |db: &Db<'_>| {
        db.query("SELECT seq, tableoid::regclass AS home FROM ticks ORDER BY seq")
            .rows
            .iter()
            .map(|r| format!("{} {}", r[0], r[1]))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        homes(&db),
        [
            "1 ticks_p20260101",
            "2 ticks_default",
            "3 ticks_default",
            "4 ticks_default"
        ]
    );
    // A partition created later takes its day's rows out of the default.
    assert_eq!(
        db.value("SELECT bot4_ensure_partitions('2026-02-10', '2026-02-11')"),
        SERIES_TABLES.len().to_string()
    );
    assert_eq!(
        homes(&db),
        [
            "1 ticks_p20260101",
            "2 ticks_default",
            "3 ticks_default",
            "4 ticks_p20260210"
        ]
    );
    assert_eq!(db.count("ticks"), 4);
    // The exact nanoseconds survive next to the microsecond ts.
    assert_eq!(
        db.value("SELECT ts_ns FROM ticks WHERE seq = 3"),
        far_future.to_string()
    );
}

#[test]
fn the_audit_log_is_an_append_only_hash_chain() {
    let pg = start();
    let db = migrated(&pg, "audit");
    let entry = |seq: i64, kind: &str| {
        format!(
            "INSERT INTO audit_log (seq, ts, ts_ns, run_id, kind, payload) VALUES \
             ({seq}, bot4_ts({ns}), {ns}, '{RUN}', '{kind}', '{{\"seq\": {seq}}}') \
             ON CONFLICT DO NOTHING",
            ns = T0 + seq * S
        )
    };
    db.exec(&entry(1, "start"));
    db.exec(&entry(2, "control"));
    db.exec(&entry(3, "stop"));
    db.exec(&entry(2, "control")); // re-sent: a no-op
    assert_eq!(db.count("audit_log"), 3);
    // Each hash is recomputable from the row and chains to the previous one.
    assert_eq!(
        db.value(
            "SELECT bool_and(hash = bot4_audit_hash(prev_hash, seq, ts_ns, kind, payload) \
                     AND prev_hash = coalesce(prev, ('\\x' || repeat('00', 32))::bytea)) \
             FROM (SELECT *, lag(hash) OVER (ORDER BY seq) AS prev FROM audit_log) a"
        ),
        "t"
    );
    let gap = db.fails(&entry(5, "late"));
    assert!(gap.contains("does not follow 3"), "{gap}");
    let edit = db.fails("UPDATE audit_log SET kind = 'edited' WHERE seq = 2");
    assert!(edit.contains("append-only"), "{edit}");
    let delete = db.fails("DELETE FROM audit_log WHERE seq = 3");
    assert!(delete.contains("append-only"), "{delete}");
    let truncate = db.fails("TRUNCATE audit_log");
    assert!(truncate.contains("append-only"), "{truncate}");
}
