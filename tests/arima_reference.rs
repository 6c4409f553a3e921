//! AR and ARIMA fits of `bot4_operators::models::arima` against their references.
//!
//! The fixtures (`tests/fixtures/arima/*.json`, made by
//! `tests/python/make_arima_fixtures.py` through `tests/python/regenerate_fixtures.sh`)
//! hold each input series and:
//!
//! - statsmodels 0.15.0 `AutoReg(x, lags=p, trend='c'|'n').fit()` for p = 1, 3, 5:
//!   params, sigma2, llf and 10-step forecasts must agree to 1e-8 relative;
//! - ARIMA(p,d,q) by conditional sum of squares, minimised in scipy on an independent
//!   implementation of the objective: our objective at our optimum must be no larger than
//!   the reference's × (1 + 1e-6), parameters must agree to 1e-3 (absolute, relative
//!   above 1) and 10-step forecasts to 1e-3 relative (to the larger of the value and the
//!   series' standard deviation, since forecasts of returns sit near zero).

use std::path::Path;

use bot4_operators::models::arima::{fit_ar, fit_arima};
use serde_json::Value;

const SERIES: [&str; 3] = ["sp500_logret100", "ar2_sim", "synthetic_logret"];
const AR_TOL: f64 = 1e-8;
const CSS_OBJECTIVE_TOL: f64 = 1e-6;
const CSS_TOL: f64 = 1e-3;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/arima")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("the fixture reads");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

fn int(v: &Value, key: &str) -> usize {
    usize::try_from(v[key].as_u64().expect("an integer")).expect("fits")
}

fn relative(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
}

fn sd(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
#[allow(clippy::print_stderr, reason = "report the measured agreement")]
fn autoreg_matches_statsmodels() {
    let mut worst: f64 = 0.0;
    let mut cases = 0;
    for name in SERIES {
        let doc = load(name);
        let x = floats(&doc["series"]);
        for case in doc["autoreg"].as_array().expect("cases") {
            let p = int(case, "p");
            let trend = case["trend"].as_str() == Some("c");
            let what = format!("{name} AR({p}) trend {}", case["trend"]);
            let fit = fit_ar(&x, p, trend).expect("the AR fits");
            assert_eq!(fit.nobs, int(case, "nobs"), "{what}: nobs");
            let want = floats(&case["params"]);
            assert_eq!(fit.params.len(), want.len(), "{what}: parameter count");
            let mut check = |label: &str, got: f64, want: f64| {
                let rel = relative(got, want);
                assert!(
                    rel <= AR_TOL,
                    "{what} {label}: got {got}, statsmodels {want} (relative {rel:e})"
                );
                worst = worst.max(rel);
            };
            for (i, (g, w)) in fit.params.iter().zip(&want).enumerate() {
                check(&format!("param {i}"), *g, *w);
            }
            check(
                "sigma2",
                fit.sigma2,
                case["sigma2"].as_f64().expect("sigma2"),
            );
            check("llf", fit.llf, case["llf"].as_f64().expect("llf"));
            let forecast = fit.forecast(&x, 10);
            for (h, (g, w)) in forecast.iter().zip(floats(&case["forecast"])).enumerate() {
                check(&format!("forecast {}", h + 1), *g, w);
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 18);
    eprintln!("AutoReg: {cases} fits, worst relative difference {worst:e}");
}

#[test]
#[allow(clippy::print_stderr, reason = "report the measured agreement")]
fn arima_css_matches_the_scipy_reference() {
    let (mut worst_objective, mut worst_param, mut worst_forecast): (f64, f64, f64) =
        (f64::NEG_INFINITY, 0.0, 0.0);
    let mut cases = 0;
    for name in SERIES {
        let doc = load(name);
        let x = floats(&doc["series"]);
        let scale = sd(&x);
        for case in doc["arima_css"].as_array().expect("cases") {
            let (p, d, q) = (int(case, "p"), int(case, "d"), int(case, "q"));
            let constant = case["constant"].as_bool().expect("a flag");
            let what = format!("{name} ARIMA({p},{d},{q}) constant {constant}");
            let fit = fit_arima(&x, p, d, q, constant).expect("the ARIMA fits");
            assert_eq!(fit.n_used, int(case, "n_used"), "{what}: n_used");
            let objective = case["objective"].as_f64().expect("objective");
            let excess = fit.css / objective - 1.0;
            assert!(
                excess <= CSS_OBJECTIVE_TOL,
                "{what}: objective {} vs reference {objective} (excess {excess:e})",
                fit.css
            );
            worst_objective = worst_objective.max(excess);
            let want = floats(&case["params"]);
            for (i, (g, w)) in fit.params.iter().zip(&want).enumerate() {
                let diff = (g - w).abs() / w.abs().max(1.0);
                assert!(
                    diff <= CSS_TOL,
                    "{what} param {i}: got {:?}, reference {want:?}",
                    fit.params
                );
                worst_param = worst_param.max(diff);
            }
            for (h, (g, w)) in fit
                .forecast(10)
                .iter()
                .zip(floats(&case["forecast"]))
                .enumerate()
            {
                let diff = (g - w).abs() / w.abs().max(scale);
                assert!(
                    diff <= CSS_TOL,
                    "{what} forecast {}: got {g}, reference {w}",
                    h + 1
                );
                worst_forecast = worst_forecast.max(diff);
            }
            eprintln!(
                "{what}: objective {} (reference {objective}), stationary {}, invertible {}, MA at \
                 the boundary {}",
                fit.css,
                fit.stationary,
                fit.invertible,
                fit.ma_at_boundary()
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 12);
    eprintln!(
        "ARIMA CSS: {cases} fits; objective excess at most {worst_objective:e}, params within \
         {worst_param:e}, forecasts within {worst_forecast:e}"
    );
}
