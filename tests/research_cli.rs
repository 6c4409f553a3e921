//! The research commands end to end. `bot4 indicators`: bars in (CSV, Parquet) or
//! ticks in, one Parquet file out whose columns agree with TA-Lib, and clear errors with
//! nothing written for a missing file, a missing column, a value that is not a number
//! and a series too short. `bot4 stats`: JSON that agrees with statsmodels, and clear
//! errors for a missing column and prices with no log return.

use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::RecordBatch;
use bot4_tests::{generate_market, market_config, run_bot4, Finished};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tempfile::TempDir;

const TIMEOUT: Duration = Duration::from_secs(120);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/indicators")
        .join(name)
}

fn indicators(input: &Path, out: &Path, extra: &[&str]) -> Finished {
    let mut args = vec![
        "indicators".to_owned(),
        "--input".to_owned(),
        input.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_bot4(&args, TIMEOUT)
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("the output exists");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .expect("the output is Parquet")
        .map(|b| b.expect("a batch"))
        .collect()
}

/// A column of every batch, nulls as `None`.
fn column(batches: &[RecordBatch], name: &str) -> Vec<Option<f64>> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b
                .column_by_name(name)
                .unwrap_or_else(|| panic!("no column `{name}`"));
            c.as_primitive::<Float64Type>().iter().collect::<Vec<_>>()
        })
        .collect()
}

/// The fixture's reference column `name`.
fn reference(name: &str) -> Vec<Option<f64>> {
    let mut reader = csv::Reader::from_path(fixture("sp500.csv")).expect("the fixture");
    let index = reader
        .headers()
        .expect("a header")
        .iter()
        .position(|h| h == name)
        .expect("the reference column");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a row");
            let cell = &r[index];
            (!cell.is_empty()).then(|| cell.parse().expect("a number"))
        })
        .collect()
}

#[test]
fn bar_files_get_every_indicator_in_agreement_with_ta_lib() {
    let dir = TempDir::new().expect("a temporary folder");
    let out = dir.path().join("sp500-indicators.parquet");
    let done = indicators(&fixture("sp500.csv"), &out, &[]);
    assert!(done.status.success(), "{}", done.describe());
    let batches = read(&out);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, reference("close").len());
    for name in ["rsi_14", "macd_hist", "atr_14", "adx_14", "cci_20", "obv"] {
        let ours = column(&batches, name);
        let theirs = reference(name);
        let scale = theirs.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            match (a, b) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-9 * scale,
                    "{name}, bar {i}: {a} vs TA-Lib {b}"
                ),
                (None, None) => {}
                _ => panic!("{name}, bar {i}: {a:?} vs TA-Lib {b:?}"),
            }
        }
    }

    // The same bars as Parquet give the same file content.
    let parquet_in = dir.path().join("bars.parquet");
    let again = dir.path().join("again.parquet");
    let trimmed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let keep: Vec<usize> = ["ts", "open", "high", "low", "close", "volume"]
                .iter()
                .map(|c| b.schema().index_of(c).expect("a bar column"))
                .collect();
            b.project(&keep).expect("a projection")
        })
        .collect();
    let file = std::fs::File::create(&parquet_in).expect("a file");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, trimmed[0].schema(), None).expect("a writer");
    for b in &trimmed {
        writer.write(b).expect("writing");
    }
    writer.close().expect("closing");
    let done = indicators(&parquet_in, &again, &[]);
    assert!(done.status.success(), "{}", done.describe());
    assert_eq!(column(&read(&again), "rsi_14"), column(&batches, "rsi_14"));
}

#[test]
fn ticks_are_cut_into_bars_per_symbol() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    generate_market(market_config(2, 6 * 3600, 3, 1.0), &input);
    let out = dir.path().join("ticks-indicators.parquet");
    let done = indicators(&input, &out, &["--bar", "5m"]);
    assert!(done.status.success(), "{}", done.describe());
    let batches = read(&out);
    let symbols: std::collections::BTreeSet<String> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("symbol")
                .expect("a symbol column")
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(symbols.len(), 2, "{symbols:?}");
    let sma = column(&batches, "sma_50");
    assert!(sma.iter().flatten().count() > 0, "sma_50 warmed up");
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let dir = TempDir::new().expect("a temporary folder");
    let out = dir.path().join("out.parquet");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("writing");
        path
    };
    let rows = |n: usize, bad_row: Option<usize>| {
        let mut text = String::from("ts,open,high,low,close,volume\n");
        for i in 0..n {
            let close = if bad_row == Some(i) {
                "NaN".to_owned()
            } else {
                format!("{}", 100 + i)
            };
            text.push_str(&format!("{i},100,101,99,{close},10\n"));
        }
        text
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.path().join("absent.csv"), "absent.csv"),
        (
            write("no_volume.csv", "ts,open,high,low,close\n1,1,1,1,1\n"),
            "no `volume` column",
        ),
        (
            write("nan.csv", &rows(80, Some(40))),
            "line 42, column `close`",
        ),
        (write("short.csv", &rows(20, None)), "20 bars; at least 50"),
        (
            write("garbage.parquet", "not parquet at all"),
            "garbage.parquet",
        ),
    ];
    for (input, expected) in cases {
        let done = indicators(&input, &out, &[]);
        assert!(
            !done.status.success(),
            "{}: {}",
            input.display(),
            done.describe()
        );
        assert!(
            done.stderr.contains(expected),
            "{}: expected `{expected}` in the message\n{}",
            input.display(),
            done.describe()
        );
        assert!(!done.stderr.contains("panicked"), "{}", done.describe());
        assert!(!out.exists(), "{}: output written", input.display());
        assert!(
            std::fs::read_dir(dir.path())
                .expect("the folder")
                .all(|e| !e
                    .expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".partial")),
            "a partial file was left behind"
        );
    }
}

#[test]
fn stats_prints_the_tests_of_a_column_as_statsmodels_computes_them() {
    let done = run_bot4(
        &[
            "stats",
            "--input",
            &fixture("sp500.csv").display().to_string(),
            "--column",
            "close",
            "--returns",
        ],
        TIMEOUT,
    );
    assert!(done.status.success(), "{}", done.describe());
    let ours: serde_json::Value = serde_json::from_str(&done.stdout).expect("JSON on stdout");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/stats/sp500_logret.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture"))
            .expect("JSON fixture");
    let number = |v: &serde_json::Value| v.as_f64().expect("a number");
    let adf = reference["adf"]
        .as_array()
        .expect("ADF cases")
        .iter()
        .find(|c| c["regression"] == "c" && c["autolag"] == "AIC")
        .expect("the default ADF case");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(close(
        number(&ours["adf"]["statistic"]),
        number(&adf["statistic"])
    ));
    assert_eq!(ours["adf"]["used_lag"], adf["used_lag"]);
    assert!(close(
        number(&ours["jarque_bera"]["statistic"]),
        number(&reference["jarque_bera"]["statistic"])
    ));
    for (a, b) in ours["ljung_box"]
        .as_array()
        .expect("Ljung-Box lags")
        .iter()
        .zip(reference["ljung_box"].as_array().expect("reference lags"))
    {
        assert_eq!(a["lag"], b["lag"]);
        assert!(close(number(&a["statistic"]), number(&b["statistic"])));
    }

    // A column that is not there, and prices that are not positive.
    let done = run_bot4(
        &[
            "stats",
            "--input",
            &fixture("sp500.csv").display().to_string(),
            "--column",
            "price",
        ],
        TIMEOUT,
    );
    assert!(
        !done.status.success() && done.stderr.contains("no `price` column"),
        "{}",
        done.describe()
    );
    let dir = TempDir::new().expect("a temporary folder");
    let negative = dir.path().join("negative.csv");
    std::fs::write(&negative, "x\n1\n2\n-1\n3\n").expect("writing");
    let done = run_bot4(
        &[
            "stats",
            "--input",
            &negative.display().to_string(),
            "--column",
            "x",
            "--returns",
        ],
        TIMEOUT,
    );
    assert!(
        !done.status.success() && done.stderr.contains("row 3: -1 is not positive"),
        "{}",
        done.describe()
    );
}

/// The graph's feature stage and `bot4 indicators` run the same bar builder and indicator
/// set: every bar the graph closes (in `bar_features/`) is the research command's bar of
/// the same symbol and start, with the same close, and its RSI input is the command's
/// `rsi_14` rescaled (`rsi / 50 − 1`).
#[test]
fn the_graph_closes_the_bars_the_research_command_cuts() {
    use bot4_operators::indicators::Candle;
    use bot4_schemas::{BarFeatures, Decimal};
    use bot4_tests::{registry_of, replay_options, run_replay, table};

    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    generate_market(market_config(2, 6 * 3600, 3, 1.0), &input);
    let mut opts = replay_options(&input, &dir.path().join("run"), 2);
    opts.strategy.features.bar_width = 5 * 60 * 1_000_000_000;
    run_replay(&opts);
    let registry = registry_of(&input);
    let graph: Vec<BarFeatures> = table(&dir.path().join("run"), &registry);
    assert!(graph.len() > 100, "{} bars", graph.len());

    let out = dir.path().join("research.parquet");
    let done = indicators(&input, &out, &["--bar", "5m"]);
    assert!(done.status.success(), "{}", done.describe());
    let batches = read(&out);
    let ts: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("ts")
                .expect("ts")
                .as_primitive::<arrow_array::types::TimestampNanosecondType>()
                .values()
                .to_vec()
        })
        .collect();
    let symbols: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("symbol")
                .expect("symbol")
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let close = column(&batches, "close");
    let rsi = column(&batches, "rsi_14");
    let research: std::collections::BTreeMap<(String, i64), usize> = symbols
        .iter()
        .cloned()
        .zip(ts.iter().copied())
        .enumerate()
        .map(|(i, key)| (key, i))
        .collect();

    let mut warm = 0;
    for b in &graph {
        let symbol = registry.get(b.bar.symbol).symbol.clone();
        let i = *research
            .get(&(symbol.clone(), b.bar.start))
            .unwrap_or_else(|| panic!("{symbol} bar at {} is not a research bar", b.bar.start));
        let graph_close = Candle::from_bar(&b.bar).close;
        assert_eq!(
            Some(graph_close),
            close[i],
            "{symbol} close at {}",
            b.bar.start
        );
        match rsi[i] {
            Some(r) => {
                warm += 1;
                assert!(
                    (b.inputs[0] - (r / 50.0 - 1.0)).abs() <= 1e-12,
                    "{symbol} RSI input at {}: {} against rsi_14 {r}",
                    b.bar.start,
                    b.inputs[0]
                );
            }
            None => assert_eq!(b.inputs[0], 0.0, "no RSI before its warm-up"),
        }
        assert!(b.bar.volume > Decimal::ZERO);
    }
    assert!(warm > 100, "{warm} bars with an RSI");
}

/// A file of several symbols is one series per symbol: `--symbol` picks one, and without
/// it `bot4 stats` and `bot4 garch` refuse rather than mix them.
#[test]
fn several_symbols_need_a_choice() {
    let dir = TempDir::new().expect("a temporary folder");
    let closes: Vec<f64> = fixture_closes();
    let mut mixed = String::from("ts,symbol,close\n");
    let mut alone = String::from("ts,close\n");
    for (i, c) in closes.iter().enumerate() {
        mixed.push_str(&format!(
            "{i},AAA-USDT,{c}\n{i},BBB-USDT,{}\n",
            c * 2.0 + 1.0
        ));
        alone.push_str(&format!("{i},{c}\n"));
    }
    let mixed_path = dir.path().join("mixed.csv");
    let alone_path = dir.path().join("alone.csv");
    std::fs::write(&mixed_path, mixed).expect("writing");
    std::fs::write(&alone_path, alone).expect("writing");
    for command in ["stats", "garch"] {
        let run = |path: &Path, extra: &[&str]| {
            let mut args = vec![
                command.to_owned(),
                "--input".to_owned(),
                path.display().to_string(),
                "--column".to_owned(),
                "close".to_owned(),
                "--returns".to_owned(),
            ];
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            run_bot4(&args, Duration::from_secs(60))
        };
        let refused = run(&mixed_path, &[]);
        assert!(!refused.status.success(), "{}", refused.describe());
        assert!(
            refused
                .stderr
                .contains("2 symbols (AAA-USDT, BBB-USDT): choose one with --symbol"),
            "{}",
            refused.describe()
        );
        let unknown = run(&mixed_path, &["--symbol", "CCC-USDT"]);
        assert!(
            unknown.stderr.contains("no rows of symbol `CCC-USDT`"),
            "{}",
            unknown.describe()
        );
        let picked = run(&mixed_path, &["--symbol", "AAA-USDT"]);
        let single = run(&alone_path, &[]);
        assert!(picked.status.success(), "{}", picked.describe());
        assert!(single.status.success(), "{}", single.describe());
        let json = |f: &Finished| -> serde_json::Value {
            let mut v: serde_json::Value = serde_json::from_str(&f.stdout).expect("JSON");
            for key in ["input", "symbol"] {
                v.as_object_mut().expect("an object").remove(key);
            }
            v
        };
        assert_eq!(json(&picked), json(&single), "{command}: AAA-USDT alone");
    }
}

/// The closes of the S&P 500 fixture.
fn fixture_closes() -> Vec<f64> {
    let text = std::fs::read_to_string(fixture("sp500.csv")).expect("the fixture");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let close = header.iter().position(|h| *h == "close").expect("close");
    lines
        .take(600)
        .map(|l| {
            l.split(',')
                .nth(close)
                .expect("a close")
                .parse()
                .expect("a number")
        })
        .collect()
}
