//! GARCH(1,1) fits of `bot4_operators::models::garch` against arch 8.0.0.
//!
//! The fixtures (`tests/fixtures/garch/<series>_<dist>.json`, made by
//! `tests/python/make_garch_fixtures.py` through `tests/python/regenerate_fixtures.sh`)
//! hold each series (S&P 500, simulated normal and Student-t GARCH, a `bot4 gen` market;
//! all returns in percent) and arch's
//! `arch_model(y, mean='Constant', vol='GARCH', p=1, q=1, dist=..., rescale=False)` fit:
//! parameters, log-likelihood and the variance forecasts for `T+1 … T+10`.
//!
//! The comparison rule. Both sides maximise the same likelihood (same recursion,
//! backcast, bounds and constants) with different optimisers, so:
//!
//! - the log-likelihood must agree to 1e-4 relative **or be higher** than arch's (a
//!   better optimum is not an error); in practice it agrees to ~1e-9;
//! - the parameters `μ, ω, α, β` must agree to 1e-3 absolute (the series are in
//!   percent, so this is 1e-3 of a percent for `μ`, and for `ω` about 1e-3 of a daily
//!   variance of 1), and `ν` to 1e-3 relative, except where the likelihood is flat in `ν`
//!   (arch's `ν > 50`: the t is indistinguishable from the normal; then only `ν > 50`
//!   is required);
//! - the forecasts must agree to 1e-4 relative.
//!
//! Parameters and forecasts are only held to these tolerances where our optimum is not
//! better than arch's by more than [`BETTER_LLF`] log-likelihood units: a strictly
//! better optimum sits elsewhere on a flat ridge (this happens on `sim_normal_t`, a
//! normal GARCH fitted with t innovations, where arch's SLSQP stops at `ν ≈ 221` and the
//! likelihood keeps rising to the bound `ν = 500`: ours is higher by 0.24).

use std::path::Path;

use bot4_operators::models::garch::{fit, Distribution};
use serde_json::Value;

const FIXTURES: [&str; 8] = [
    "sp500_normal",
    "sp500_t",
    "sim_normal_normal",
    "sim_normal_t",
    "sim_t_normal",
    "sim_t_t",
    "synthetic_normal",
    "synthetic_t",
];

const PARAM_ABS: f64 = 1e-3;
const NU_REL: f64 = 1e-3;
const LLF_REL: f64 = 1e-4;
const FORECAST_REL: f64 = 1e-4;
/// A log-likelihood higher than arch's by more than this is a better optimum.
const BETTER_LLF: f64 = 1e-3;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/garch")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("the fixture reads");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().expect("a number")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// Largest differences seen, to report.
#[derive(Debug, Default)]
struct Worst {
    param_abs: f64,
    nu_rel: f64,
    llf_rel: f64,
    forecast_rel: f64,
}

#[allow(clippy::print_stderr, reason = "report the measured agreement")]
fn report(line: &str) {
    eprintln!("{line}");
}

#[test]
fn garch_fits_match_arch() {
    let mut worst = Worst::default();
    for name in FIXTURES {
        let doc = load(name);
        let y = floats(&doc["y"]);
        let dist = match doc["dist"].as_str().expect("a string") {
            "normal" => Distribution::Normal,
            "t" => Distribution::StudentT,
            other => panic!("unknown distribution {other}"),
        };
        let g = fit(&y, dist).expect("the fit succeeds");
        assert!(g.converged, "{name}: did not converge");
        let want = &doc["params"];
        let llf = num(&doc, "loglikelihood");
        let llf_rel = (g.log_likelihood - llf) / llf.abs();
        report(&format!(
            "{name}: llf {} vs arch {llf} (relative {llf_rel:e}); {:?}; {} iterations",
            g.log_likelihood, g.params, g.iterations
        ));
        assert!(
            llf_rel >= -LLF_REL,
            "{name}: log-likelihood {} below arch's {llf}",
            g.log_likelihood
        );
        if g.log_likelihood - llf > BETTER_LLF {
            report(&format!(
                "{name}: a better optimum than arch's; parameters not compared"
            ));
            continue;
        }
        worst.llf_rel = worst.llf_rel.max(llf_rel.abs());
        let p = g.params;
        for (what, got) in [
            ("mu", p.mu),
            ("omega", p.omega),
            ("alpha", p.alpha),
            ("beta", p.beta),
        ] {
            let diff = (got - num(want, what)).abs();
            assert!(
                diff <= PARAM_ABS,
                "{name} {what}: {got} vs arch {} (absolute {diff:e})",
                num(want, what)
            );
            worst.param_abs = worst.param_abs.max(diff);
        }
        if dist == Distribution::StudentT {
            let (got, nu) = (p.nu.expect("a t fit has nu"), num(want, "nu"));
            if nu > 50.0 {
                assert!(got > 50.0, "{name}: nu {got}, arch {nu} (flat likelihood)");
            } else {
                let rel = (got - nu).abs() / nu;
                assert!(
                    rel <= NU_REL,
                    "{name}: nu {got} vs arch {nu} (relative {rel:e})"
                );
                worst.nu_rel = worst.nu_rel.max(rel);
            }
        } else {
            assert_eq!(p.nu, None);
        }
        let forecasts = g.forecast(doc["horizon"].as_u64().expect("an integer") as usize);
        for (h, (got, want)) in forecasts
            .iter()
            .zip(floats(&doc["forecast_variance"]))
            .enumerate()
        {
            let rel = (got - want).abs() / want.abs();
            assert!(
                rel <= FORECAST_REL,
                "{name} h={}: {got} vs arch {want} (relative {rel:e})",
                h + 1
            );
            worst.forecast_rel = worst.forecast_rel.max(rel);
            assert_eq!(g.variance_forecast(h + 1).to_bits(), got.to_bits());
        }
    }
    report(&format!("garch vs arch, worst: {worst:?}"));
}
