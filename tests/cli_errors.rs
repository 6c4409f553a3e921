//! The `bot4` command on bad input and bad arguments: it exits non-zero with a message
//! on stderr that names the problem, never panics, and leaves no tables behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use bot4_tests::{run_bot4, tables_present, write_parquet, Finished};
use tempfile::TempDir;

const TIMEOUT: Duration = Duration::from_secs(60);

const INSTRUMENTS: &str = "symbol,tick_size,lot_size,min_notional\n\
                           BTC-USDT,0.1,0.0001,5\n\
                           ETH-USDT,0.01,0.001,5\n";

const GOOD_TICKS: &str = "ts,symbol,kind,price,size,side,bid_price,bid_size,ask_price,ask_size\n\
                          1767225600000000000,BTC-USDT,quote,,,,60000.0,0.5,60000.1,0.7\n\
                          1767225600100000000,BTC-USDT,trade,60000.1,0.01,buy,,,,\n\
                          1767225600200000000,ETH-USDT,quote,,,,3000.00,2,3000.01,3\n";

/// A folder with `instruments.csv` and whatever the case adds.
fn workspace() -> TempDir {
    let dir = TempDir::new().expect("a temporary folder");
    std::fs::write(dir.path().join("instruments.csv"), INSTRUMENTS)
        .expect("writing instruments.csv");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a test file");
    path
}

fn replay_args(input: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "replay".to_owned(),
        "--input".to_owned(),
        input.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
        "--quiet".to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// The command failed cleanly: non-zero exit, `needle` on stderr, no panic, and `out`
/// is absent or empty (no tables, no summary, no staging folder).
fn assert_fails_with(finished: &Finished, needle: &str, out: &Path) {
    let all = finished.describe();
    assert!(!finished.status.success(), "must fail\n{all}");
    assert!(
        finished.status.code().is_some(),
        "must exit, not die of a signal\n{all}"
    );
    assert!(
        finished.stderr.contains(needle),
        "stderr must name the problem (`{needle}`)\n{all}"
    );
    assert!(
        !finished.stderr.contains("panicked"),
        "must not panic\n{all}"
    );
    assert!(
        tables_present(out).is_empty(),
        "no tables may be left in {}: {:?}\n{all}",
        out.display(),
        tables_present(out)
    );
    if out.exists() {
        let left: Vec<_> = std::fs::read_dir(out)
            .expect("listing the output folder")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        assert!(
            left.is_empty(),
            "the output folder must be empty, holds {left:?}\n{all}"
        );
    }
}

fn fails(dir: &Path, args: &[String], needle: &str) {
    let finished = run_bot4(args, TIMEOUT);
    assert_fails_with(&finished, needle, &dir.join("out"));
}

#[test]
fn a_good_csv_replays_so_the_failures_below_are_about_their_input() {
    let dir = workspace();
    let input = write(dir.path(), "ticks.csv", GOOD_TICKS);
    let out = dir.path().join("out");
    let finished = run_bot4(&replay_args(&input, &out, &["--workers", "2"]), TIMEOUT);
    assert!(finished.status.success(), "{}", finished.describe());
    assert!(
        finished.stdout.contains("ticks processed   3"),
        "{}",
        finished.describe()
    );
    assert_eq!(
        tables_present(&out).len(),
        bot4_pipeline::sinks::TABLES.len(),
        "every table is written"
    );
}

#[test]
fn missing_input_path() {
    let dir = workspace();
    let input = dir.path().join("no-such-ticks.parquet");
    let out = dir.path().join("out");
    let finished = run_bot4(&replay_args(&input, &out, &[]), TIMEOUT);
    assert_fails_with(&finished, "no-such-ticks.parquet", &out);
    assert_fails_with(&finished, "No such file", &out);
}

#[test]
fn parquet_with_another_schema() {
    let dir = workspace();
    let input = dir.path().join("other.parquet");
    let batch = RecordBatch::try_from_iter([
        ("a", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ("b", Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef),
    ])
    .expect("a two-column batch");
    write_parquet(&input, &batch, 1024);
    fails(
        dir.path(),
        &replay_args(&input, &dir.path().join("out"), &[]),
        "no `ts` column",
    );
}

#[test]
fn a_file_that_is_not_parquet() {
    let dir = workspace();
    let input = write(dir.path(), "ticks.parquet", "this is not parquet\n");
    fails(
        dir.path(),
        &replay_args(&input, &dir.path().join("out"), &[]),
        "ticks.parquet",
    );
}

#[test]
fn csv_with_a_non_numeric_price() {
    let dir = workspace();
    let bad = GOOD_TICKS.replace("60000.1,0.01,buy", "sixty-k,0.01,buy");
    let input = write(dir.path(), "ticks.csv", &bad);
    fails(
        dir.path(),
        &replay_args(&input, &dir.path().join("out"), &["--workers", "2"]),
        "column `price` at row 1",
    );
}

#[test]
fn unsorted_ticks_in_one_of_two_files() {
    let dir = workspace();
    let folder = dir.path().join("ticks");
    std::fs::create_dir(&folder).expect("creating the tick folder");
    std::fs::write(dir.path().join("ticks").join("a.csv"), GOOD_TICKS).expect("writing a.csv");
    let unsorted = "ts,symbol,kind,price,size,side\n\
                    1767225601000000000,ETH-USDT,trade,3000.00,1,sell\n\
                    1767225600500000000,ETH-USDT,trade,3000.01,1,buy\n";
    write(&folder, "b.csv", unsorted);
    // Two workers, so the worker that reads the good file must not hang on the other.
    fails(
        dir.path(),
        &replay_args(dir.path(), &dir.path().join("out"), &["--workers", "2"]),
        "must be sorted by ts",
    );
}

#[test]
fn tick_of_an_unregistered_symbol() {
    let dir = workspace();
    let input = write(
        dir.path(),
        "ticks.csv",
        &GOOD_TICKS.replace("ETH-USDT", "DOGE-USDT"),
    );
    fails(
        dir.path(),
        &replay_args(&input, &dir.path().join("out"), &[]),
        "`DOGE-USDT` is not in the instrument registry",
    );
}

#[test]
fn bad_arguments() {
    let dir = workspace();
    let input = write(dir.path(), "ticks.csv", GOOD_TICKS);
    let out = dir.path().join("out");
    let cases: [(&[&str], &str); 6] = [
        (&["--workers", "0"], "--workers must be at least 1"),
        (&["--epoch", "banana"], "banana"),
        (&["--epoch", "0s"], "epoch"),
        (&["--frobnicate"], "--frobnicate"),
        (&["--capital=-5"], "--capital must be positive"),
        (&["--processes", "2", "--process", "2"], "--process 2"),
    ];
    for (extra, needle) in cases {
        fails(dir.path(), &replay_args(&input, &out, extra), needle);
    }
    let no_out = [
        "replay".to_owned(),
        "--input".to_owned(),
        input.display().to_string(),
    ];
    fails(dir.path(), &no_out, "--out");
    let no_command: [&str; 0] = [];
    let finished = run_bot4(&no_command, TIMEOUT);
    assert!(
        !finished.status.success() && finished.stderr.contains("Usage"),
        "{}",
        finished.describe()
    );
}

#[test]
fn missing_instruments_registry() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = write(dir.path(), "ticks.csv", GOOD_TICKS);
    let out = dir.path().join("out");
    fails(
        dir.path(),
        &replay_args(&input, &out, &[]),
        "instrument registry",
    );
    let explicit = dir.path().join("nowhere.csv");
    let explicit = explicit.display().to_string();
    fails(
        dir.path(),
        &replay_args(&input, &out, &["--instruments", &explicit]),
        "nowhere.csv",
    );
}

#[test]
fn control_file_with_a_bad_mode() {
    let dir = workspace();
    let input = write(dir.path(), "ticks.csv", GOOD_TICKS);
    let control = write(
        dir.path(),
        "control.csv",
        "ts,mode,reason\n1767225600000000000,pause,ok\n1767225600500000000,explode,bad\n",
    );
    let control = control.display().to_string();
    fails(
        dir.path(),
        &replay_args(&input, &dir.path().join("out"), &["--control", &control]),
        "mode `explode`",
    );
}

#[test]
fn bad_tier_files() {
    let dir = workspace();
    let input = write(dir.path(), "ticks.csv", GOOD_TICKS);
    let tier = |name: &str, min: &str| {
        format!(
            r#"{{"name": "{name}", "min_equity": "{min}", "risk_scale": 1.0, "concentration": 0.05,
                "max_leverage": 3.0, "max_symbols": 10, "strategies": ["bar_signal"]}}"#
        )
    };
    let cases = [
        ("missing.json", None, "missing.json"),
        (
            "not-json.json",
            Some("tiers: none".to_owned()),
            "not-json.json",
        ),
        (
            "descending.json",
            Some(format!(
                r#"{{"tiers": [{}, {}]}}"#,
                tier("b", "500000"),
                tier("a", "0")
            )),
            "capital tiers",
        ),
        (
            "hysteresis.json",
            Some(format!(
                r#"{{"hysteresis": 1.5, "tiers": [{}]}}"#,
                tier("a", "0")
            )),
            "capital tiers",
        ),
        (
            "empty.json",
            Some(r#"{"tiers": []}"#.to_owned()),
            "capital tiers",
        ),
    ];
    for (name, text, needle) in cases {
        let path = match text {
            Some(text) => write(dir.path(), name, &text),
            None => dir.path().join(name),
        };
        let path = path.display().to_string();
        fails(
            dir.path(),
            &replay_args(&input, &dir.path().join("out"), &["--tiers", &path]),
            needle,
        );
    }
}

#[test]
fn gen_refuses_bad_markets() {
    let dir = TempDir::new().expect("a temporary folder");
    let out = dir.path().join("out").display().to_string();
    let cases: [(&[&str], &str); 5] = [
        (&["--symbols", "0"], "at least one symbol"),
        (&["--duration", "forever"], "forever"),
        (&["--rate=-1"], "events per second"),
        (&["--depth-levels", "51"], "depth levels must be at most 50"),
        (
            &["--depth-levels", "2", "--depth-interval", "0s"],
            "depth interval must be positive",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["gen", "--out", &out];
        args.extend_from_slice(extra);
        let finished = run_bot4(&args, TIMEOUT);
        assert_fails_with(&finished, needle, &dir.path().join("out"));
    }
}

#[test]
fn help_works_for_every_command() {
    for args in [
        &["--help"][..],
        &["gen", "--help"],
        &["replay", "--help"],
        &["demo", "--help"],
        &["help", "replay"],
    ] {
        let finished = run_bot4(args, TIMEOUT);
        assert!(
            finished.status.success(),
            "bot4 {args:?}\n{}",
            finished.describe()
        );
        assert!(
            finished.stdout.contains("Usage: bot4"),
            "bot4 {args:?}\n{}",
            finished.describe()
        );
        assert!(
            !finished.stderr.contains("panicked"),
            "{}",
            finished.describe()
        );
    }
    let replay = run_bot4(&["replay", "--help"], TIMEOUT).stdout;
    for flag in [
        "--input",
        "--out",
        "--workers",
        "--processes",
        "--hostfile",
        "--epoch",
        "--control",
        "--instruments",
    ] {
        assert!(
            replay.contains(flag),
            "replay --help lists {flag}\n{replay}"
        );
    }
}

#[test]
fn a_failed_run_leaves_the_earlier_output_untouched() {
    let dir = workspace();
    let good = dir.path().join("good");
    std::fs::create_dir(&good).expect("creating the good input folder");
    write(&good, "ticks.csv", GOOD_TICKS);
    std::fs::copy(
        dir.path().join("instruments.csv"),
        good.join("instruments.csv"),
    )
    .expect("copying the registry");
    let out = dir.path().join("out");
    let first = run_bot4(&replay_args(&good, &out, &["--workers", "2"]), TIMEOUT);
    assert!(first.status.success(), "{}", first.describe());
    let before = std::fs::read(out.join("summary.json")).expect("summary of the first run");
    let ticks_before = std::fs::read(out.join("ticks").join("part-00000-0000.parquet"))
        .expect("a tick part of the first run");

    // A second run into the same folder that fails on its second worker's file.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).expect("creating the bad input folder");
    write(&bad, "a.csv", GOOD_TICKS);
    write(
        &bad,
        "b.csv",
        "ts,symbol,kind,price,size,side\n\
         1767225601000000000,ETH-USDT,trade,3000.00,1,sell\n\
         1767225600500000000,ETH-USDT,trade,3000.01,1,buy\n",
    );
    let args = replay_args(&bad, &out, &["--workers", "2", "--instruments"]);
    let mut args = args;
    args.push(dir.path().join("instruments.csv").display().to_string());
    let second = run_bot4(&args, TIMEOUT);
    assert!(!second.status.success(), "{}", second.describe());
    assert!(
        second.stderr.contains("must be sorted by ts"),
        "{}",
        second.describe()
    );
    assert_eq!(
        std::fs::read(out.join("summary.json")).expect("the first summary is still there"),
        before
    );
    assert_eq!(
        std::fs::read(out.join("ticks").join("part-00000-0000.parquet")).expect("the first ticks"),
        ticks_before
    );
    let staging: Vec<_> = std::fs::read_dir(&out)
        .expect("listing the output folder")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".staging"))
        .collect();
    assert!(staging.is_empty(), "no staging folder is left behind");
}
