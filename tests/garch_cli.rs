//! `bot4 garch` end to end: a fit of a bar file's log returns that agrees with arch (the
//! `synthetic_*` fixtures of `tests/garch_reference.rs`, fitted there on returns in
//! percent, here on plain returns: `α`, `β`, `ν` are unchanged, `ω` scales by 10⁻⁴ and
//! the log-likelihood shifts by `n ln 100`), and clear errors with a non-zero exit for
//! a missing file, a missing column, a NaN and a series too short.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bot4_tests::{run_bot4, Finished};
use serde_json::Value;
use tempfile::TempDir;

const TIMEOUT: Duration = Duration::from_secs(120);

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn garch(input: &Path, column: &str, extra: &[&str]) -> Finished {
    let mut args = vec![
        "garch".to_owned(),
        "--input".to_owned(),
        input.display().to_string(),
        "--column".to_owned(),
        column.to_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_bot4(&args, TIMEOUT)
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn fits_the_log_returns_of_a_bar_file_as_arch_does() {
    for (dist, horizon) in [("normal", 10), ("t", 4)] {
        let done = garch(
            &fixture("indicators/synthetic.csv"),
            "close",
            &[
                "--returns",
                "--dist",
                dist,
                "--horizon",
                &horizon.to_string(),
            ],
        );
        assert!(done.status.success(), "{}", done.describe());
        let ours: Value = serde_json::from_str(&done.stdout).expect("JSON on stdout");
        let text = std::fs::read_to_string(fixture(&format!("garch/synthetic_{dist}.json")))
            .expect("the fixture");
        let arch: Value = serde_json::from_str(&text).expect("JSON fixture");
        let n = ours["n"].as_u64().expect("n") as f64;
        assert_eq!(n as usize, arch["y"].as_array().expect("y").len());
        for key in ["alpha", "beta"] {
            let (a, b) = (number(&ours[key]), number(&arch["params"][key]));
            assert!((a - b).abs() < 1e-3, "{dist} {key}: {a} vs arch {b}");
        }
        let omega = number(&ours["omega"]) * 1e4;
        let want = number(&arch["params"]["omega"]);
        assert!(
            (omega - want).abs() < 1e-3 * want,
            "{dist} omega: {omega} vs {want}"
        );
        let llf = number(&ours["log_likelihood"]) - n * 100f64.ln();
        let want = number(&arch["loglikelihood"]);
        assert!(
            (llf - want).abs() < 1e-4 * want.abs(),
            "{dist} llf {llf} vs {want}"
        );
        let forecasts = ours["forecast_variance"].as_array().expect("forecasts");
        assert_eq!(forecasts.len(), horizon);
        let arch_forecasts = arch["forecast_variance"].as_array().expect("forecasts");
        for (f, a) in forecasts.iter().zip(arch_forecasts) {
            let (f, a) = (number(f) * 1e4, number(a));
            assert!((f - a).abs() < 1e-4 * a, "{dist} forecast {f} vs {a}");
        }
        assert_eq!(ours["nu"].is_null(), dist == "normal");
        assert_eq!(ours["converged"], true);
        let p = number(&ours["persistence"]);
        let lr = number(&ours["long_run_variance"]);
        assert!((lr - number(&ours["omega"]) / (1.0 - p)).abs() < 1e-12);
    }
}

fn assert_fails(done: &Finished, message: &str) {
    assert!(
        !done.status.success() && done.stderr.contains(message),
        "expected a failure mentioning {message:?}: {}",
        done.describe()
    );
}

#[test]
fn bad_input_fails_with_a_clear_error() {
    let dir = TempDir::new().expect("a temporary folder");
    assert_fails(
        &garch(&dir.path().join("missing.csv"), "x", &[]),
        "missing.csv",
    );
    assert_fails(
        &garch(&fixture("indicators/synthetic.csv"), "price", &[]),
        "no `price` column",
    );
    let with_nan = dir.path().join("nan.csv");
    let mut text = String::from("x\n");
    for i in 0..300 {
        text.push_str(&format!(
            "{}\n",
            if i == 150 {
                "NaN".to_owned()
            } else {
                (i % 7).to_string()
            }
        ));
    }
    std::fs::write(&with_nan, text).expect("writing");
    assert_fails(
        &garch(&with_nan, "x", &[]),
        "line 152, column `x`: `NaN` is not a finite number",
    );
    let short = dir.path().join("short.csv");
    std::fs::write(&short, "x\n1\n2\n3\n4\n").expect("writing");
    assert_fails(
        &garch(&short, "x", &[]),
        "series too short: needs at least 100 values, got 4",
    );
    let flat = dir.path().join("flat.csv");
    std::fs::write(&flat, "x\n".to_owned() + &"1.5\n".repeat(200)).expect("writing");
    assert_fails(&garch(&flat, "x", &[]), "series is constant");
    assert_fails(
        &garch(
            &fixture("indicators/synthetic.csv"),
            "close",
            &["--dist", "cauchy"],
        ),
        "cauchy",
    );
}
