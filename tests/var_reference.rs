//! VaR and CVaR of `bot4_operators::risk::var` against scipy.
//!
//! The fixture (`tests/fixtures/risk/var.json`, made by `tests/python/risk_fixtures.py`)
//! holds scipy's unit-variance Student-t and normal VaR and CVaR multipliers for
//! confidences 0.95 … 0.999 and degrees of freedom 2.1 … 10⁶ (the CVaR's closed form
//! checked there against the integrated tail), positions with means, and portfolios
//! (correlated, mixed tails, a correlation matrix that is not positive semi-definite).
//! Every number must agree to 1e-9 relative.

use std::path::Path;

use bot4_operators::risk::var::{portfolio_var, TailModel, VarPosition};
use serde_json::Value;

const REL: f64 = 1e-9;

fn load() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/risk/var.json");
    let text = std::fs::read_to_string(&path).expect("the fixture reads");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().expect("a number")
}

fn dof(v: &Value, key: &str) -> Option<f64> {
    v[key].as_f64()
}

fn rows<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().expect("an array")
}

/// The relative difference, against an absolute floor of 1e-12 of `scale` for values
/// that are zero.
fn rel(got: f64, want: f64, scale: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-12 * scale.abs()).max(f64::MIN_POSITIVE)
}

#[test]
fn tail_multipliers_match_scipy() {
    let fixture = load();
    let mut worst: f64 = 0.0;
    for row in rows(&fixture, "tails") {
        let (alpha, nu) = (num(row, "confidence"), dof(row, "dof"));
        let tail = TailModel::new(alpha, nu).expect("a valid tail");
        for (got, key) in [
            (tail.var_multiplier(), "var"),
            (tail.cvar_multiplier(), "cvar"),
        ] {
            let e = rel(got, num(row, key), 1.0);
            assert!(
                e <= REL,
                "α {alpha} ν {nu:?} {key}: {got} vs {}",
                num(row, key)
            );
            worst = worst.max(e);
        }
    }
    assert!(worst <= REL, "largest relative difference {worst:e}");
}

#[test]
fn positions_match_scipy() {
    let fixture = load();
    for row in rows(&fixture, "positions") {
        let tail = TailModel::new(num(row, "confidence"), dof(row, "dof")).expect("a valid tail");
        let e = tail
            .estimate(num(row, "notional"), num(row, "sigma"), num(row, "mean"))
            .expect("valid inputs");
        let scale = num(row, "notional");
        for (got, key) in [(e.var, "var"), (e.cvar, "cvar")] {
            assert!(rel(got, num(row, key), scale) <= REL, "{row}: {key} {got}");
        }
    }
}

#[test]
fn portfolios_match_scipy() {
    let fixture = load();
    for row in rows(&fixture, "portfolios") {
        let name = row["name"].as_str().expect("a name");
        let positions: Vec<VarPosition> = rows(row, "positions")
            .iter()
            .map(|p| VarPosition {
                notional: num(p, "notional"),
                sigma: num(p, "sigma"),
                mean: num(p, "mean"),
                dof: dof(p, "dof"),
            })
            .collect();
        let correlation: Vec<f64> = rows(row, "correlation")
            .iter()
            .map(|x| x.as_f64().expect("a number"))
            .collect();
        let p =
            portfolio_var(&positions, &correlation, num(row, "confidence")).expect("valid inputs");
        let scale = positions
            .iter()
            .map(|q| q.notional.abs() * q.sigma)
            .sum::<f64>();
        for (got, key) in [
            (p.sigma, "sigma"),
            (p.estimate.var, "var"),
            (p.estimate.cvar, "cvar"),
            (p.undiversified.var, "undiversified_var"),
            (p.undiversified.cvar, "undiversified_cvar"),
        ] {
            assert!(
                rel(got, num(row, key), scale) <= REL,
                "{name}: {key} {got} vs {}",
                num(row, key)
            );
        }
        assert_eq!(p.var_dof, dof(row, "var_dof"), "{name}");
        assert_eq!(p.cvar_dof, dof(row, "cvar_dof"), "{name}");
        assert_eq!(Some(p.clipped), row["clipped"].as_bool(), "{name}");
    }
}
