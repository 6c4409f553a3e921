//! The statistical tests of `bot4_operators::stats` against statsmodels 0.15.0.
//!
//! The fixtures (`tests/fixtures/stats/*.json`, made by
//! `tests/python/make_stats_fixtures.py` through `tests/python/regenerate_fixtures.sh`)
//! hold each input series and statsmodels' `jarque_bera`, `acorr_ljungbox(lags=[1, 5,
//! 10, 20])` and `adfuller` (regression `c`/`ct`/`n`/`ctt`, each with `autolag` AIC, BIC,
//! and none with `maxlag=4`; and each with `autolag="t-stat"`) on it. Statistics and critical values must agree to 1e-6 relative,
//! p-values to 1e-4 absolute, and the ADF lag and observation count exactly.

use std::path::Path;

use bot4_operators::stats::adf::{adf, AdfOptions, LagSelection, Regression};
use bot4_operators::stats::jarque_bera::jarque_bera;
use bot4_operators::stats::ljung_box::ljung_box;
use serde_json::Value;

const SERIES: [&str; 5] = [
    "sp500_close",
    "sp500_logret",
    "synthetic_logret",
    "random_walk",
    "ar1_phi06",
];

const REL_TOL: f64 = 1e-6;
const P_TOL: f64 = 1e-4;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/stats")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("the fixture reads");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().expect("a number")
}

fn int(v: &Value, key: &str) -> usize {
    usize::try_from(v[key].as_u64().expect("an integer")).expect("fits")
}

fn series(doc: &Value) -> Vec<f64> {
    doc["series"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// Largest differences seen, to report.
#[derive(Debug, Default)]
struct Worst {
    stat_rel: f64,
    p_abs: f64,
}

impl Worst {
    fn stat(&mut self, what: &str, got: f64, want: f64) {
        let rel = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
        assert!(
            rel <= REL_TOL,
            "{what}: got {got}, statsmodels {want} (relative {rel:e})"
        );
        self.stat_rel = self.stat_rel.max(rel);
    }

    fn p(&mut self, what: &str, got: f64, want: f64) {
        let abs = (got - want).abs();
        assert!(
            abs <= P_TOL,
            "{what}: p {got}, statsmodels {want} (absolute {abs:e})"
        );
        self.p_abs = self.p_abs.max(abs);
    }
}

#[allow(clippy::print_stderr, reason = "report the measured agreement")]
fn report(test: &str, worst: &Worst) {
    eprintln!(
        "{test}: max relative statistic difference {:e}, max absolute p-value difference {:e}",
        worst.stat_rel, worst.p_abs
    );
}

#[test]
fn jarque_bera_matches_statsmodels() {
    let mut worst = Worst::default();
    for name in SERIES {
        let doc = load(name);
        let want = &doc["jarque_bera"];
        let got = jarque_bera(&series(&doc)).expect("valid series");
        worst.stat(&format!("{name} JB"), got.statistic, num(want, "statistic"));
        worst.stat(&format!("{name} skew"), got.skewness, num(want, "skewness"));
        worst.stat(&format!("{name} kurt"), got.kurtosis, num(want, "kurtosis"));
        worst.p(&format!("{name} JB"), got.p_value, num(want, "p_value"));
    }
    report("jarque_bera", &worst);
}

#[test]
fn ljung_box_matches_statsmodels() {
    let mut worst = Worst::default();
    for name in SERIES {
        let doc = load(name);
        let want = doc["ljung_box"].as_array().expect("an array");
        let lags: Vec<usize> = want.iter().map(|w| int(w, "lag")).collect();
        let got = ljung_box(&series(&doc), &lags).expect("valid series");
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.lag, int(w, "lag"));
            let what = format!("{name} LB({})", g.lag);
            worst.stat(&what, g.statistic, num(w, "statistic"));
            worst.p(&what, g.p_value, num(w, "p_value"));
        }
    }
    report("ljung_box", &worst);
}

#[test]
fn adf_matches_statsmodels() {
    let mut worst = Worst::default();
    let mut crit_rel: f64 = 0.0;
    let mut cases = 0;
    for name in SERIES {
        let doc = load(name);
        let x = series(&doc);
        for w in doc["adf"].as_array().expect("an array") {
            let regression = match w["regression"].as_str().expect("a string") {
                "n" => Regression::None,
                "c" => Regression::Constant,
                "ct" => Regression::ConstantTrend,
                "ctt" => Regression::ConstantQuadraticTrend,
                other => panic!("unknown regression {other}"),
            };
            let lag = match w["autolag"].as_str() {
                Some("AIC") => LagSelection::Aic,
                Some("BIC") => LagSelection::Bic,
                Some("t-stat") => LagSelection::TStat,
                None => LagSelection::Fixed,
                Some(other) => panic!("unknown autolag {other}"),
            };
            let max_lag = w["maxlag"]
                .as_u64()
                .map(|m| usize::try_from(m).expect("fits"));
            let options = AdfOptions {
                regression,
                max_lag,
                lag,
            };
            let what = format!("{name} ADF {options:?}");
            let got = adf(&x, options).expect("valid series");
            assert_eq!(got.used_lag, int(w, "used_lag"), "{what}: used lag");
            assert_eq!(got.n_obs, int(w, "n_obs"), "{what}: n_obs");
            worst.stat(&what, got.statistic, num(w, "statistic"));
            worst.p(&what, got.p_value, num(w, "p_value"));
            for (g, key) in [
                (got.critical_1, "critical_1"),
                (got.critical_5, "critical_5"),
                (got.critical_10, "critical_10"),
            ] {
                let want = num(w, key);
                let rel = (g - want).abs() / want.abs();
                assert!(rel <= REL_TOL, "{what} {key}: {g} vs {want}");
                crit_rel = crit_rel.max(rel);
            }
            cases += 1;
        }
    }
    // 4 regressions × (AIC, BIC, fixed lag 4, t-stat).
    assert_eq!(cases, SERIES.len() * 16);
    report("adf", &worst);
    report(
        "adf critical values",
        &Worst {
            stat_rel: crit_rel,
            p_abs: 0.0,
        },
    );
}
