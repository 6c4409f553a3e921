#!/usr/bin/env python3
"""Regenerate the GARCH(1,1) reference fixtures under tests/fixtures/garch/.

Usage: make_garch_fixtures.py [--out DIR] [--synthetic CSV]

For each input series and each innovation distribution (normal, Student-t), one JSON file
``<series>_<dist>.json`` holding the series itself and what ``arch`` fits on it:

    arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist=..., rescale=False)
        .fit(disp="off", tol=1e-12, options={"ftol": 1e-12, "maxiter": 1000})

- ``params``: mu, omega, alpha, beta (and nu for the t);
- ``loglikelihood``: the maximised log-likelihood, constants included;
- ``forecast_variance``: ``res.forecast(horizon=10).variance`` for t+1..t+10 from the end
  of the sample;
- ``converged``: whether SLSQP reported success.

The series (all in percent, i.e. log returns x 100, the scale arch expects):

- ``sp500``: S&P 500 daily close log returns x 100 (``arch.data.sp500``, Yahoo! Finance,
  1999-2018), n = 5029;
- ``sim_normal``: a GARCH(1,1) with mu = 0.03, omega = 0.05, alpha = 0.08, beta = 0.9 and
  normal innovations, from numpy's ``default_rng(20240601)``, n = 2000;
- ``sim_t``: the same GARCH with unit-variance Student-t(6) innovations,
  ``default_rng(20240602)``, n = 2000;
- ``synthetic``: log returns x 100 of the 5-minute closes in
  ``tests/fixtures/indicators/synthetic.csv`` (a ``bot4 gen`` market), n = 287.

Floats are written with Python's shortest round-trip repr. Run through
tests/python/regenerate_fixtures.sh, which pins arch 8.0.0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import arch
import numpy as np
import pandas as pd
from arch import arch_model

HORIZON = 10
BURN = 500


def simulate(seed: int, n: int, t_nu: float | None) -> np.ndarray:
    """A GARCH(1,1) path with mu 0.03, omega 0.05, alpha 0.08, beta 0.9."""
    mu, omega, alpha, beta = 0.03, 0.05, 0.08, 0.9
    rng = np.random.default_rng(seed)
    total = n + BURN
    if t_nu is None:
        z = rng.standard_normal(total)
    else:
        z = rng.standard_t(t_nu, total) / np.sqrt(t_nu / (t_nu - 2.0))
    s2 = omega / (1.0 - alpha - beta)
    out = np.empty(total)
    for t in range(total):
        e = np.sqrt(s2) * z[t]
        out[t] = mu + e
        s2 = omega + alpha * e * e + beta * s2
    return out[BURN:]


def series(synthetic: Path) -> dict[str, tuple[str, np.ndarray]]:
    from arch.data import sp500

    close = sp500.load()["Close"].to_numpy(float)
    bars = pd.read_csv(synthetic)["close"].to_numpy(float)
    return {
        "sp500": ("S&P 500 daily close log returns x 100 (arch.data.sp500)",
                  100.0 * np.diff(np.log(close))),
        "sim_normal": ("simulated GARCH(1,1), normal, mu .03 omega .05 alpha .08 beta .9, "
                       "default_rng(20240601)", simulate(20240601, 2000, None)),
        "sim_t": ("simulated GARCH(1,1), Student-t(6), mu .03 omega .05 alpha .08 beta .9, "
                  "default_rng(20240602)", simulate(20240602, 2000, 6.0)),
        "synthetic": ("bot4 gen 5-minute close log returns x 100 "
                      "(tests/fixtures/indicators/synthetic.csv)",
                      100.0 * np.diff(np.log(bars))),
    }


def fit(y: np.ndarray, dist: str) -> dict:
    model = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist=dist, rescale=False)
    res = model.fit(disp="off", tol=1e-12, options={"ftol": 1e-12, "maxiter": 1000})
    p = res.params
    params = {"mu": float(p["mu"]), "omega": float(p["omega"]),
              "alpha": float(p["alpha[1]"]), "beta": float(p["beta[1]"])}
    if dist == "t":
        params["nu"] = float(p["nu"])
    fc = res.forecast(horizon=HORIZON, reindex=False).variance.to_numpy()[-1]
    return {
        "params": params,
        "loglikelihood": float(res.loglikelihood),
        "forecast_variance": [float(v) for v in fc],
        "converged": bool(res.convergence_flag == 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--out", type=Path, default=root / "tests/fixtures/garch")
    parser.add_argument("--synthetic", type=Path,
                        default=root / "tests/fixtures/indicators/synthetic.csv")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (description, y) in series(args.synthetic).items():
        for dist in ("normal", "t"):
            doc = {
                "series": name,
                "description": description,
                "dist": dist,
                "arch_version": arch.__version__,
                "call": "arch_model(y, mean='Constant', vol='GARCH', p=1, q=1, "
                        f"dist='{dist}', rescale=False).fit(disp='off', tol=1e-12, "
                        "options={'ftol': 1e-12, 'maxiter': 1000})",
                "horizon": HORIZON,
                "y": [float(v) for v in y],
                **fit(y, dist),
            }
            path = args.out / f"{name}_{dist}.json"
            path.write_text(json.dumps(doc, indent=1) + "\n")
            print(f"{path}: n={len(y)} llf={doc['loglikelihood']!r} {doc['params']}")


if __name__ == "__main__":
    main()
