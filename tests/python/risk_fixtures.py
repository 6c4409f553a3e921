#!/usr/bin/env python3
"""Regenerate the VaR/CVaR reference fixture tests/fixtures/risk/var.json.

Usage: risk_fixtures.py [--out DIR]

The reference for ``bot4_operators::risk::var`` (checked by tests/var_reference.rs),
from scipy's Student-t and normal distributions:

- ``tails``: for confidences 0.95 ... 0.999 and degrees of freedom 2.1 ... 1e6 (and
  ``null``: normal), the VaR and CVaR of a unit-variance return with zero mean:
  ``var = c * t.ppf(a, nu)`` and
  ``cvar = c * t.pdf(q, nu) / (1 - a) * (nu + q^2) / (nu - 1)`` with
  ``c = sqrt((nu - 2) / nu)``; normal: ``norm.ppf(a)`` and ``norm.pdf(z) / (1 - a)``.
  The closed form of the CVaR is checked here against ``scipy.integrate.quad`` of the
  tail, ``c / (1 - a) * integral_q^inf x f(x) dx`` (to 1e-8 relative).
- ``positions``: ``var = |N| sigma m_var - N mu`` and ``cvar = |N| sigma m_cvar - N mu``.
- ``portfolios``: ``sigma_p = sqrt(max(w' R w, 0))`` with ``w_i = N_i sigma_i``
  (``clipped`` when ``w' R w < 0``), the tail with the largest multiplier among the
  positions' (separately for VaR and CVaR), the drift ``sum N_i mu_i``, and the
  undiversified sums of the positions' own VaR and CVaR.

JSON floats are written with Python's shortest round-trip repr. Needs scipy and numpy
(the reference environment of tests/python/regenerate_fixtures.sh has both).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import scipy
from scipy import integrate
from scipy.stats import norm, t

CONFIDENCES = [0.95, 0.975, 0.99, 0.995, 0.999]
DOFS = [2.1, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 30.0, 50.0, 100.0, 500.0,
        1000.0, 1e4, 1e5, 1e6, None]


def tail(a: float, nu: float | None) -> dict:
    """Unit-variance VaR and CVaR multipliers at confidence ``a``."""
    if nu is None:
        z = float(norm.ppf(a))
        return {"confidence": a, "dof": None, "var": z,
                "cvar": float(norm.pdf(z)) / (1.0 - a)}
    c = math.sqrt((nu - 2.0) / nu)
    q = float(t.ppf(a, nu))
    cvar = c * float(t.pdf(q, nu)) / (1.0 - a) * (nu + q * q) / (nu - 1.0)
    if nu <= 1e4:
        # The closed form against the integrated tail (quad is unreliable for a t
        # indistinguishable from the normal, and the closed form needs no check there).
        integral, _ = integrate.quad(lambda x: x * t.pdf(x, nu), q, np.inf,
                                     epsabs=0.0, epsrel=1e-12, limit=500)
        numeric = c * integral / (1.0 - a)
        assert abs(numeric - cvar) <= 1e-8 * cvar, (a, nu, numeric, cvar)
    return {"confidence": a, "dof": nu, "var": c * q, "cvar": cvar}


def position(notional: float, sigma: float, mean: float, nu: float | None, a: float) -> dict:
    m = tail(a, nu)
    return {"notional": notional, "sigma": sigma, "mean": mean, "dof": nu, "confidence": a,
            "var": abs(notional) * sigma * m["var"] - notional * mean,
            "cvar": abs(notional) * sigma * m["cvar"] - notional * mean}


def portfolio(name: str, positions: list[tuple], correlation: list[list[float]],
              a: float) -> dict:
    n = np.array([p[0] for p in positions])
    s = np.array([p[1] for p in positions])
    mu = np.array([p[2] for p in positions])
    r = np.array(correlation, dtype=float)
    w = n * s
    quad = float(w @ r @ w)
    sigma = math.sqrt(max(quad, 0.0))
    tails = [tail(a, p[3]) for p in positions]
    # The first of the largest multipliers, as the Rust code picks it.
    v = max(range(len(tails)), key=lambda i: (tails[i]["var"], -i))
    e = max(range(len(tails)), key=lambda i: (tails[i]["cvar"], -i))
    drift = float(n @ mu)
    own = [position(*p[:3], p[3], a) for p in positions]
    return {
        "name": name,
        "confidence": a,
        "positions": [{"notional": p[0], "sigma": p[1], "mean": p[2], "dof": p[3]}
                      for p in positions],
        "correlation": [float(x) for x in r.reshape(-1)],
        "sigma": sigma,
        "var": sigma * tails[v]["var"] - drift,
        "cvar": sigma * tails[e]["cvar"] - drift,
        "undiversified_var": sum(o["var"] for o in own),
        "undiversified_cvar": sum(o["cvar"] for o in own),
        "var_dof": tails[v]["dof"],
        "cvar_dof": tails[e]["dof"],
        "clipped": quad < 0.0,
    }


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=root / "tests/fixtures/risk")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    positions = [
        position(1_000_000.0, 0.02, 0.0, None, 0.99),
        position(1_000_000.0, 0.02, 0.001, 4.0, 0.99),
        position(-250_000.0, 0.035, 0.0005, 5.0, 0.99),
        position(80_000.0, 0.011, -0.0002, 2.5, 0.975),
        position(-3_000.0, 0.05, 0.0, 30.0, 0.999),
        position(500_000.0, 0.0, 0.0, 8.0, 0.99),
    ]
    portfolios = [
        portfolio("two_normal", [(100_000.0, 0.02, 0.0, None), (50_000.0, 0.03, 0.0, None)],
                  [[1.0, 0.5], [0.5, 1.0]], 0.99),
        portfolio("three_t_hedged",
                  [(300_000.0, 0.02, 0.0004, 4.0), (-150_000.0, 0.04, -0.001, 6.0),
                   (200_000.0, 0.01, 0.0, 30.0)],
                  [[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]], 0.99),
        portfolio("mixed_tails",
                  [(1.0e6, 0.015, 0.0, 2.5), (-4.0e5, 0.02, 0.0, 4.0), (2.5e5, 0.03, 0.0, None),
                   (6.0e5, 0.025, 0.0, 2.1)],
                  [[1.0, 0.8, 0.1, 0.3], [0.8, 1.0, 0.0, 0.2], [0.1, 0.0, 1.0, -0.4],
                   [0.3, 0.2, -0.4, 1.0]], 0.975),
        portfolio("not_psd", [(1.0, 1.0, 0.0, 5.0), (-1.0, 1.0, 0.0, 5.0), (-1.0, 1.0, 0.0, 5.0)],
                  [[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]], 0.99),
    ]
    doc = {
        "reference": f"scipy {scipy.__version__}, numpy {np.__version__}",
        "tails": [tail(a, nu) for a in CONFIDENCES for nu in DOFS],
        "positions": positions,
        "portfolios": portfolios,
    }
    path = args.out / "var.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {path} ({len(doc['tails'])} tails, {len(positions)} positions, "
          f"{len(portfolios)} portfolios)")


if __name__ == "__main__":
    main()
