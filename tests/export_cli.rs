//! `bot4 export` end to end, on a throwaway PostgreSQL server of the test's own: a
//! replay with the database sink, then its fills and ticks exported as Hive-partitioned
//! Parquet hold exactly the rows of the replay's own Parquet output, in the documented
//! folders, columns and order; `--symbols`, `--start`, `--end` and `--run` filter; a
//! partition rolls over to new part files; an export replaces an earlier export but
//! nothing else; a column added to a table comes out; a value that cannot be exact stops
//! the export midway and leaves the earlier one as it was; and an unknown table, a bad
//! time, an empty range (`start >= end`), a database that is down and an occupied output
//! folder are clear errors that write nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use bot4_pipeline::export::{export, ExportOptions};
use bot4_schemas::{to_scaled_i128, Fill, Tick, TickKind, NANOS_PER_SECOND};
use bot4_tests::pg::TestPostgres;
use bot4_tests::{
    free_ports, printed_run_id, registry_of, run_bot4, table, Finished, START_TS, TEST_BAR,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;

const LIMIT: Duration = Duration::from_secs(300);

/// 2025-12-31T22:00:00Z: the generated market runs four hours across a UTC midnight.
const MARKET_START: &str = "2025-12-31T22:00:00Z";

fn utf8(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `bot4 export --table TABLE --start START --end END --out OUT --database-url URL …`
fn bot4_export(
    url: &str,
    out: &Path,
    table: &str,
    range: (&str, &str),
    extra: &[&str],
) -> Finished {
    let mut args = vec![
        "export",
        "--table",
        table,
        "--start",
        range.0,
        "--end",
        range.1,
        "--out",
        utf8(out),
        "--database-url",
        url,
    ];
    args.extend_from_slice(extra);
    run_bot4(&args, LIMIT)
}

/// Every entry under `folder`, relative to it, files only, sorted.
fn files_under(folder: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a readable folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).expect("under the root").to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(folder, folder, &mut out);
    out.sort();
    out
}

/// One exported file: its partition values and its rows.
struct Part {
    path: PathBuf,
    date: String,
    symbol: Option<String>,
    part: u32,
    batches: Vec<RecordBatch>,
}

impl Part {
    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn column<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a dyn Array> + 'a {
        let name = name.to_owned();
        self.batches.iter().map(move |b| {
            b.column_by_name(&name)
                .unwrap_or_else(|| panic!("no column `{name}`"))
                .as_ref()
        })
    }

    fn times(&self) -> Vec<i64> {
        self.column("ts")
            .flat_map(|c| {
                let c = c.as_primitive::<TimestampNanosecondType>();
                assert_eq!(c.timezone(), Some("UTC"), "ts is in UTC");
                c.values().to_vec()
            })
            .collect()
    }

    fn ints(&self, name: &str) -> Vec<i64> {
        self.column(name)
            .flat_map(|c| c.as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn decimals(&self, name: &str) -> Vec<Option<i128>> {
        self.column(name)
            .flat_map(|c| {
                let c = c.as_primitive::<Decimal128Type>();
                assert_eq!(
                    (c.precision(), c.scale()),
                    (38, 12),
                    "{name} is decimal(38,12)"
                );
                c.iter().collect::<Vec<_>>()
            })
            .collect()
    }

    fn texts(&self, name: &str) -> Vec<Option<String>> {
        self.column(name)
            .flat_map(|c| {
                c.as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Every file of the export of `table` under `out`, checked against the documented
/// layout: `date=YYYY-MM-DD/symbol=SYM/part-NNNN.parquet` (without `symbol=` when
/// `by_symbol` is false), zstd, nothing else in the folder, and every row of a file of
/// its partition's date and symbol.
fn read_export(out: &Path, table: &str, by_symbol: bool) -> Vec<Part> {
    let folder = out.join(table);
    let mut parts = Vec::new();
    for relative in files_under(&folder) {
        let segments: Vec<&str> = relative
            .iter()
            .map(|s| s.to_str().expect("a UTF-8 name"))
            .collect();
        assert_eq!(
            segments.len(),
            if by_symbol { 3 } else { 2 },
            "{} is not in the documented layout",
            relative.display()
        );
        let date = segments[0]
            .strip_prefix("date=")
            .unwrap_or_else(|| panic!("{}: no date= folder", relative.display()))
            .to_owned();
        let symbol = by_symbol.then(|| {
            segments[1]
                .strip_prefix("symbol=")
                .unwrap_or_else(|| panic!("{}: no symbol= folder", relative.display()))
                .to_owned()
        });
        let name = segments[segments.len() - 1];
        let part: u32 = name
            .strip_prefix("part-")
            .and_then(|n| n.strip_suffix(".parquet"))
            .filter(|n| n.len() == 4)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{} is not part-NNNN.parquet", relative.display()));
        let path = folder.join(&relative);
        let file = std::fs::File::open(&path).expect("an exported file");
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
        for group in builder.metadata().row_groups() {
            for column in group.columns() {
                assert!(
                    matches!(column.compression(), Compression::ZSTD(_)),
                    "{}: {:?}",
                    relative.display(),
                    column.compression()
                );
            }
        }
        let batches: Vec<RecordBatch> = builder
            .build()
            .expect("a reader")
            .map(|b| b.expect("a batch"))
            .collect();
        let part = Part {
            path: relative,
            date,
            symbol,
            part,
            batches,
        };
        assert!(part.rows() > 0, "{}: an empty file", part.path.display());
        for ts in part.times() {
            assert_eq!(
                date_of(ts),
                part.date,
                "{}: a row of another date",
                part.path.display()
            );
        }
        if let Some(symbol) = &part.symbol {
            assert!(
                part.texts("symbol")
                    .iter()
                    .all(|s| s.as_ref() == Some(symbol)),
                "{}: a row of another symbol",
                part.path.display()
            );
        }
        parts.push(part);
    }
    parts
}

/// `YYYY-MM-DD` of Unix nanoseconds `ts` in UTC, for the dates of these tests.
fn date_of(ts: i64) -> String {
    let day = ts.div_euclid(86_400 * NANOS_PER_SECOND);
    let first = START_TS / (86_400 * NANOS_PER_SECOND); // 2026-01-01
    match day - first {
        -1 => "2025-12-31".into(),
        0 => "2026-01-01".into(),
        1 => "2026-01-02".into(),
        other => panic!("a time {other} days from 2026-01-01"),
    }
}

fn names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn scaled(value: bot4_schemas::Decimal) -> i128 {
    to_scaled_i128(value).expect("a decimal(38,12) value")
}

/// Per symbol: rows, the sum of trade prices and the sum of quote bid sizes.
type TickSums = BTreeMap<String, (usize, i128, i128)>;

fn tick_sums_of_export(parts: &[Part]) -> TickSums {
    let mut sums = TickSums::new();
    for part in parts {
        let symbols = part.texts("symbol");
        let prices = part.decimals("price");
        let bid_sizes = part.decimals("bid_size");
        for i in 0..part.rows() {
            let entry = sums
                .entry(symbols[i].clone().expect("a symbol"))
                .or_default();
            entry.0 += 1;
            entry.1 += prices[i].unwrap_or(0);
            entry.2 += bid_sizes[i].unwrap_or(0);
        }
    }
    sums
}

fn tick_sums_of_replay<'a>(
    ticks: impl Iterator<Item = &'a Tick>,
    registry: &bot4_schemas::SymbolRegistry,
) -> TickSums {
    let mut sums = TickSums::new();
    for t in ticks {
        let entry = sums.entry(registry.name(t.symbol).to_owned()).or_default();
        entry.0 += 1;
        match t.kind {
            TickKind::Trade { price, .. } | TickKind::Depth { price, .. } => {
                entry.1 += scaled(price)
            }
            TickKind::Quote { bid_size, .. } => entry.2 += scaled(bid_size),
        }
    }
    sums
}

#[test]
fn an_export_holds_the_rows_of_the_replay_by_date_and_symbol() {
    let pg = TestPostgres::start().unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"));
    let url = pg.create_database("export").expect("a database");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let market = dir.path().join("market");
    let run = dir.path().join("run");
    let gen = run_bot4(
        &[
            "gen",
            "--symbols",
            "3",
            "--duration",
            "4h",
            "--rate",
            "2",
            "--seed",
            "5",
            "--start",
            MARKET_START,
            "--out",
            utf8(&market),
        ],
        LIMIT,
    );
    assert!(gen.status.success(), "{}", gen.describe());
    let replayed = run_bot4(
        &[
            "replay",
            "--input",
            utf8(&market),
            "--out",
            utf8(&run),
            "--bar",
            TEST_BAR,
            "--quiet",
            "--database-url",
            &url,
        ],
        LIMIT,
    );
    assert!(replayed.status.success(), "{}", replayed.describe());
    let run_uuid = printed_run_id(&replayed.stdout);
    let registry = registry_of(&market);
    let fills: Vec<Fill> = table(&run, &registry);
    let ticks: Vec<Tick> = table(&run, &registry);
    assert!(fills.len() >= 4, "the replay trades: {} fills", fills.len());
    let whole = ("2025-12-31", "2026-01-02");
    let lake = dir.path().join("lake");

    // Fills: the same rows as the replay's Parquet, in the documented layout and columns,
    // ordered by time, then client id and event within each file.
    let done = bot4_export(&url, &lake, "fills", whole, &[]);
    assert!(done.status.success(), "{}", done.describe());
    let parts = read_export(&lake, "fills", true);
    let files = parts.len();
    assert_eq!(
        done.stdout.trim(),
        format!(
            "exported {} rows of fills in {files} files to {}",
            fills.len(),
            lake.join("fills").display()
        )
    );
    assert_eq!(
        names(&parts[0].batches[0]),
        [
            "run_id",
            "ts",
            "client_id",
            "symbol",
            "side",
            "price",
            "qty",
            "fee",
            "liquidity",
            "event"
        ]
    );
    let mut exported = Vec::new();
    for part in &parts {
        assert_eq!(part.part, 0, "few fills: one file per partition");
        let (ts, client, event) = (part.times(), part.ints("client_id"), part.ints("event"));
        let order: Vec<_> = (0..part.rows())
            .map(|i| (ts[i], client[i], event[i]))
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{}: rows out of order",
            part.path.display()
        );
        assert!(part
            .texts("run_id")
            .iter()
            .all(|r| r.as_deref() == Some(run_uuid.as_str())));
        let (price, qty, fee) = (
            part.decimals("price"),
            part.decimals("qty"),
            part.decimals("fee"),
        );
        let symbols = part.texts("symbol");
        for i in 0..part.rows() {
            exported.push((
                ts[i],
                client[i],
                symbols[i].clone().expect("a symbol"),
                price[i].expect("a price"),
                qty[i].expect("a qty"),
                fee[i].expect("a fee"),
            ));
        }
    }
    let mut replay: Vec<_> = fills
        .iter()
        .map(|f| {
            (
                f.ts,
                i64::try_from(f.client_id).expect("a client id below 2^63"),
                registry.name(f.symbol).to_owned(),
                scaled(f.price),
                scaled(f.qty),
                scaled(f.fee),
            )
        })
        .collect();
    exported.sort();
    replay.sort();
    assert_eq!(exported, replay);
    assert!(
        !dir.path().join("lake/.bot4-export-fills.staging").exists(),
        "the staging folder is gone"
    );

    // Ticks: every row, both days, the same sums per symbol; the exact nanoseconds are
    // `ts`, and neither the microsecond `ts` nor `ts_ns` is written twice.
    let done = bot4_export(&url, &lake, "ticks", whole, &[]);
    assert!(done.status.success(), "{}", done.describe());
    let parts = read_export(&lake, "ticks", true);
    let dates: std::collections::BTreeSet<&str> = parts.iter().map(|p| p.date.as_str()).collect();
    assert_eq!(
        dates.into_iter().collect::<Vec<_>>(),
        ["2025-12-31", "2026-01-01"]
    );
    let columns = names(&parts[0].batches[0]);
    assert!(
        columns.iter().filter(|c| c.starts_with("ts")).count() == 1
            && columns.contains(&"seq".into()),
        "{columns:?}"
    );
    assert_eq!(
        tick_sums_of_export(&parts),
        tick_sums_of_replay(ticks.iter(), &registry)
    );
    for part in &parts {
        let (ts, seq) = (part.times(), part.ints("seq"));
        assert!(
            (1..part.rows()).all(|i| (ts[i - 1], seq[i - 1]) < (ts[i], seq[i])),
            "{}: rows out of order",
            part.path.display()
        );
    }

    // Filters: one symbol, one run, half an hour on each side of midnight.
    let symbol = registry.name(ticks[0].symbol).to_owned();
    let (from, to) = (
        START_TS - 1800 * NANOS_PER_SECOND,
        START_TS + 1800 * NANOS_PER_SECOND,
    );
    let filtered = dir.path().join("filtered");
    let done = bot4_export(
        &url,
        &filtered,
        "ticks",
        ("2025-12-31T23:30:00Z", "2026-01-01T00:30:00Z"),
        &["--symbols", &symbol, "--run", &run_uuid],
    );
    assert!(done.status.success(), "{}", done.describe());
    let parts = read_export(&filtered, "ticks", true);
    assert_eq!(parts.len(), 2, "one file a day");
    assert!(parts
        .iter()
        .all(|p| p.symbol.as_deref() == Some(symbol.as_str())));
    assert!(parts
        .iter()
        .flat_map(Part::times)
        .all(|ts| (from..to).contains(&ts)));
    assert_eq!(
        tick_sums_of_export(&parts),
        tick_sums_of_replay(
            ticks
                .iter()
                .filter(|t| registry.name(t.symbol) == symbol && (from..to).contains(&t.ts)),
            &registry
        )
    );

    // Another run's rows: none, and nothing is written.
    let elsewhere = dir.path().join("elsewhere");
    let done = bot4_export(
        &url,
        &elsewhere,
        "fills",
        whole,
        &["--run", "00000000-0000-4000-8000-000000000000"],
    );
    assert!(done.status.success(), "{}", done.describe());
    assert_eq!(
        done.stdout.trim(),
        "exported 0 rows of fills: none in the range, nothing written"
    );
    assert!(!elsewhere.exists(), "an empty export writes nothing");
    // No control events were replayed: the same.
    let done = bot4_export(&url, &lake, "control", whole, &[]);
    assert!(done.status.success(), "{}", done.describe());
    assert!(
        done.stdout.contains("exported 0 rows of control"),
        "{}",
        done.describe()
    );
    assert!(!lake.join("control").exists());

    // Equity has no symbol: date folders only. Bar features: `end` from `end_ns`.
    let done = bot4_export(&url, &lake, "equity", whole, &[]);
    assert!(done.status.success(), "{}", done.describe());
    let parts = read_export(&lake, "equity", false);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts.iter().map(Part::rows).sum::<usize>(), {
        let equity: Vec<bot4_schemas::EquityPoint> = table(&run, &registry);
        equity.len()
    });
    let done = bot4_export(&url, &lake, "bar_features", whole, &["--symbols", &symbol]);
    assert!(done.status.success(), "{}", done.describe());
    let parts = read_export(&lake, "bar_features", true);
    let columns = names(&parts[0].batches[0]);
    assert_eq!(
        &columns[..4],
        ["run_id", "ts", "end", "symbol"],
        "{columns:?}"
    );
    assert!(
        !columns.iter().any(|c| c.ends_with("_ns") || c == "end_ts"),
        "{columns:?}"
    );
    let done = bot4_export(&url, &lake, "equity", whole, &["--symbols", &symbol]);
    assert!(
        !done.status.success()
            && done
                .stderr
                .contains("--symbols: table equity has no symbol column"),
        "{}",
        done.describe()
    );

    // A new export of fills replaces the earlier one; a folder no export made is refused.
    let done = bot4_export(&url, &lake, "fills", ("2026-01-01", "2026-01-02"), &[]);
    assert!(done.status.success(), "{}", done.describe());
    assert!(
        done.stdout.contains("(replacing an earlier export)"),
        "{}",
        done.stdout
    );
    let parts = read_export(&lake, "fills", true);
    assert!(parts.iter().all(|p| p.date == "2026-01-01"));
    assert_eq!(
        parts.iter().map(Part::rows).sum::<usize>(),
        fills.iter().filter(|f| f.ts >= START_TS).count()
    );
    let before = files_under(&run.join("fills"));
    let done = bot4_export(&url, &run, "fills", whole, &[]);
    assert!(
        !done.status.success() && done.stderr.contains("is not an earlier bot4 export"),
        "{}",
        done.describe()
    );
    assert_eq!(
        files_under(&run.join("fills")),
        before,
        "the replay's output is untouched"
    );

    // A failure midway (a price of 32 significant digits, more than Bot4's exact
    // decimals hold, in a partition after others were written) is an error, never a
    // rounded value, and leaves the earlier export as it was and nothing staged.
    let psql = |sql: &str| {
        let out = pg
            .psql("export")
            .args(["-c", sql])
            .output()
            .expect("running psql");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let before = files_under(&lake.join("fills"));
    let late = START_TS + 20 * 3600 * NANOS_PER_SECOND;
    psql(&format!(
        "INSERT INTO fills (run_id, ts, ts_ns, client_id, symbol, side, price, qty, fee, \
         liquidity, event) VALUES ('{run_uuid}', bot4_ts({late}), {late}, 1, 'ZZZ-USDT', \
         'buy', 12345678901234567890.123456789012, 1, 0, 'taker', 0)"
    ));
    let done = bot4_export(&url, &lake, "fills", whole, &[]);
    assert!(
        !done.status.success()
            && done
                .stderr
                .contains("writing fills: bad value in column `price`"),
        "{}",
        done.describe()
    );
    assert_eq!(files_under(&lake.join("fills")), before);
    assert!(!lake.join(".bot4-export-fills.staging").exists());
    psql("DELETE FROM fills WHERE symbol = 'ZZZ-USDT'");

    // A column a migration adds comes out; one of a type export does not know is a
    // clear error.
    psql("ALTER TABLE fills ADD COLUMN note text DEFAULT 'noted'");
    let done = bot4_export(&url, &lake, "fills", whole, &[]);
    assert!(done.status.success(), "{}", done.describe());
    let parts = read_export(&lake, "fills", true);
    assert_eq!(
        names(&parts[0].batches[0]).last().map(String::as_str),
        Some("note")
    );
    assert!(parts
        .iter()
        .flat_map(|p| p.texts("note"))
        .all(|n| n.as_deref() == Some("noted")));
    assert_eq!(parts.iter().map(Part::rows).sum::<usize>(), fills.len());
    psql("ALTER TABLE control ADD COLUMN payload jsonb");
    let done = bot4_export(&url, &lake, "control", whole, &[]);
    assert!(
        !done.status.success()
            && done
                .stderr
                .contains("table control: column `payload` has type jsonb"),
        "{}",
        done.describe()
    );

    // A partition rolls over to a new part file every `part_rows` rows.
    let small = dir.path().join("small");
    let report = export(&ExportOptions {
        url: url.clone(),
        table: "ticks".into(),
        start: START_TS,
        end: START_TS + 3600 * NANOS_PER_SECOND,
        out: small.clone(),
        run: None,
        symbols: vec![symbol.clone()],
        part_rows: 1000,
    })
    .unwrap_or_else(|e| panic!("exporting with small parts: {e}"));
    let parts = read_export(&small, "ticks", true);
    let rows: Vec<usize> = parts.iter().map(Part::rows).collect();
    assert!(rows.len() > 2, "{rows:?}");
    assert!(
        rows[..rows.len() - 1].iter().all(|&n| n == 1000),
        "{rows:?}"
    );
    assert!(parts.iter().enumerate().all(|(i, p)| p.part as usize == i));
    assert_eq!(report.files as usize, rows.len());
    assert_eq!(report.rows as usize, rows.iter().sum::<usize>());
    let all: Vec<i64> = parts.iter().flat_map(Part::times).collect();
    assert!(
        all.windows(2).all(|w| w[0] <= w[1]),
        "the parts follow each other in time"
    );
}

#[test]
fn bad_requests_are_clear_errors_and_write_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("lake");
    let port = free_ports(1)[0];
    let down = format!("postgres://bot4@127.0.0.1:{port}/bot4");
    let range = ("2026-01-01", "2026-01-02");
    let fails = |done: &Finished, message: &str| {
        assert!(
            !done.status.success() && done.stderr.contains(message),
            "expected `{message}`:\n{}",
            done.describe()
        );
        assert!(!out.exists(), "nothing is written:\n{}", done.describe());
    };

    fails(
        &bot4_export(&down, &out, "runs", range, &[]),
        "--table `runs` is not a table bot4 exports; choose one of ticks, bar_features, \
         signals, orders, reports, fills, positions, equity, risk, control",
    );
    fails(
        &bot4_export(&down, &out, "fills", ("yesterday", "2026-01-02"), &[]),
        "--start: `yesterday` is not an RFC 3339 time or a date",
    );
    fails(
        &bot4_export(&down, &out, "fills", ("2026-01-02", "2026-01-02"), &[]),
        "--start must be before --end",
    );
    let started = Instant::now();
    fails(
        &bot4_export(&down, &out, "fills", range, &[]),
        &format!("cannot connect to the database bot4@127.0.0.1:{port}/bot4"),
    );
    assert!(started.elapsed() < Duration::from_secs(30), "it fails fast");
    fails(
        &bot4_export("mysql://x", &out, "fills", range, &[]),
        "not a PostgreSQL URL",
    );

    // A folder that no export made is refused before anything else happens.
    let occupied = out.join("fills");
    std::fs::create_dir_all(&occupied).expect("a folder");
    std::fs::write(occupied.join("mine.parquet"), b"not ours").expect("a file");
    let done = bot4_export(&down, &out, "fills", range, &[]);
    assert!(
        !done.status.success() && done.stderr.contains("is not an earlier bot4 export"),
        "{}",
        done.describe()
    );
    assert_eq!(files_under(&out), [PathBuf::from("fills/mine.parquet")]);
}
