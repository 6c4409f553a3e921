#!/usr/bin/env python3
"""Regenerate the statistics reference fixtures under tests/fixtures/stats/.

Usage: make_stats_fixtures.py [--bot4 PATH_TO_BOT4] [--out DIR] [--synthetic CSV]

One JSON file per input series, holding the series itself and what statsmodels computes
on it:

- ``jarque_bera``: ``statsmodels.stats.stattools.jarque_bera``;
- ``ljung_box``: ``statsmodels.stats.diagnostic.acorr_ljungbox(x, lags=[1, 5, 10, 20])``
  (``model_df=0``);
- ``adf``: ``statsmodels.tsa.stattools.adfuller`` for regression ``c``, ``ct``, ``n`` and
  ``ctt``, each with ``autolag="AIC"``, ``autolag="BIC"`` (default ``maxlag``) and with a
  fixed lag (``autolag=None, maxlag=4``); then for each of ``n``, ``c``, ``ct``, ``ctt``
  with ``autolag="t-stat"`` (default ``maxlag``).

The series:

- ``sp500_close`` and ``sp500_logret``: S&P 500 daily closes shipped with ``arch``
  (Yahoo! Finance, 1999-2018), as levels and as log returns;
- ``synthetic_logret``: log returns of the 5-minute closes of a ``bot4 gen`` market, read
  from ``tests/fixtures/indicators/synthetic.csv`` (made by make_indicator_fixtures.py
  from ``bot4 gen --seed 11``); ``--bot4`` is accepted for symmetry with that script and
  is not needed here;
- ``random_walk``: a seeded numpy Gaussian random walk, n = 1000;
- ``ar1_phi06``: a seeded numpy Gaussian AR(1) with phi = 0.6, n = 1000.

JSON floats are written with Python's shortest round-trip repr, so the Rust tests compare
against exactly what statsmodels computed. Run through tests/python/regenerate_fixtures.sh,
which makes a virtual environment with the pinned references.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.stattools import jarque_bera
from statsmodels.tsa.stattools import adfuller

LB_LAGS = [1, 5, 10, 20]
FIXED_LAG = 4


def series() -> dict[str, tuple[str, np.ndarray]]:
    """Every input series, by name, with a one-line description."""
    from arch.data import sp500

    close = sp500.load()["Close"].to_numpy(float)
    out: dict[str, tuple[str, np.ndarray]] = {
        "sp500_close": ("S&P 500 daily close levels (arch.data.sp500)", close),
        "sp500_logret": ("S&P 500 daily close log returns (arch.data.sp500)",
                         np.diff(np.log(close))),
    }
    return out


def synthetic(csv: Path) -> np.ndarray:
    """Log returns of the 5-minute closes of the generated market."""
    c = pd.read_csv(csv)["close"].to_numpy(float)
    return np.diff(np.log(c))


def simulated() -> dict[str, tuple[str, np.ndarray]]:
    rng = np.random.default_rng(20240611)
    walk = np.cumsum(rng.standard_normal(1000))
    rng = np.random.default_rng(6)
    e = rng.standard_normal(1000)
    ar = np.empty(1000)
    ar[0] = e[0]
    for t in range(1, 1000):
        ar[t] = 0.6 * ar[t - 1] + e[t]
    return {
        "random_walk": ("numpy default_rng(20240611) Gaussian random walk, n=1000", walk),
        "ar1_phi06": ("numpy default_rng(6) Gaussian AR(1), phi=0.6, x0=e0, n=1000", ar),
    }


def references(x: np.ndarray) -> dict:
    jb, jb_p, skew, kurt = jarque_bera(x)
    lb = acorr_ljungbox(x, lags=LB_LAGS, return_df=True)
    out = {
        "jarque_bera": {"statistic": float(jb), "p_value": float(jb_p),
                        "skewness": float(skew), "kurtosis": float(kurt)},
        "ljung_box": [
            {"lag": int(lag), "statistic": float(row.lb_stat), "p_value": float(row.lb_pvalue)}
            for lag, row in lb.iterrows()
        ],
        "adf": [],
    }
    # The cases in the order first committed, then the ones added later, so that a
    # regeneration only appends.
    cases = [(regression, autolag, maxlag)
             for regression in ("c", "ct", "n", "ctt")
             for autolag, maxlag in (("AIC", None), ("BIC", None), (None, FIXED_LAG))]
    cases += [(regression, "t-stat", None) for regression in ("n", "c", "ct", "ctt")]
    for regression, autolag, maxlag in cases:
        r = adfuller(x, maxlag=maxlag, regression=regression, autolag=autolag,
                     result_object=True)
        out["adf"].append({
            "regression": regression,
            "autolag": autolag,
            "maxlag": maxlag,
            "statistic": float(r.statistic),
            "p_value": float(r.pvalue),
            "used_lag": int(r.lags),
            "n_obs": int(r.nobs),
            "critical_1": float(r.critical_values["1%"]),
            "critical_5": float(r.critical_values["5%"]),
            "critical_10": float(r.critical_values["10%"]),
        })
    return out


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bot4", help="path to the bot4 binary (unused: see --synthetic)")
    ap.add_argument("--out", type=Path, default=root / "tests/fixtures/stats")
    ap.add_argument("--synthetic", type=Path,
                    default=root / "tests/fixtures/indicators/synthetic.csv")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    all_series = series()
    all_series["synthetic_logret"] = (
        "log returns of 5-minute closes of `bot4 gen --seed 11` "
        "(tests/fixtures/indicators/synthetic.csv)", synthetic(args.synthetic))
    all_series.update(simulated())

    for name, (description, x) in all_series.items():
        doc = {
            "name": name,
            "description": description,
            "reference": f"statsmodels {statsmodels.__version__}",
            "series": [float(v) for v in x],
            **references(x),
        }
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {path} ({len(x)} values)")


if __name__ == "__main__":
    main()
