#!/usr/bin/env python3
"""Regenerate the AR/ARIMA reference fixtures under tests/fixtures/arima/.

Usage: make_arima_fixtures.py [--out DIR] [--synthetic CSV]

One JSON file per input series, holding the series itself and:

- ``autoreg``: ``statsmodels.tsa.ar_model.AutoReg(x, lags=p, trend=t).fit()`` for
  p = 1, 3, 5 and trend ``c`` and ``n``: ``params`` (constant first, then lags 1..p),
  ``sigma2`` (``ssr / nobs``), ``llf``, ``nobs`` and ``forecast`` = ``res.forecast(10)``;
- ``arima_css``: ARIMA(p, d, q) by conditional sum of squares. statsmodels 0.15's
  ``ARIMA`` no longer offers CSS, so the reference is computed here, independently of
  the Rust code: ``y`` = ``x`` differenced ``d`` times, residuals
  ``e_t = y_t - c - sum_i phi_i y_{t-i} - sum_j theta_j e_{t-j}`` for ``t >= p`` with
  pre-sample residuals zero (by ``scipy.signal.lfilter``, checked at the optimum against
  a plain loop), objective ``sum_{t>=p} e_t^2`` over invertible MA polynomials (``+inf``
  outside, as in the Rust fit), minimised by restarted Nelder-Mead from several starts
  and from unconstrained ``scipy.optimize.least_squares`` optima that are invertible (the
  best kept).
  Stored: ``params`` (``[c,] phi_1..phi_p, theta_1..theta_q``), ``objective``,
  ``n_used`` (``len(y) - p``) and ``forecast``: 10 steps past the end of the data,
  future residuals zero, integrated back ``d`` times to levels. Also, for information
  only, ``mle_params``: statsmodels' exact-likelihood ``ARIMA(x, order).fit().params``.

The series:

- ``sp500_logret100``: S&P 500 daily close log returns x 100 (``arch.data.sp500``);
- ``ar2_sim``: a seeded numpy Gaussian AR(2), ``x_t = 0.2 + 0.5 x_{t-1} - 0.3 x_{t-2} +
  e_t``, n = 1000;
- ``synthetic_logret``: log returns of the closes of
  ``tests/fixtures/indicators/synthetic.csv`` (``bot4 gen --seed 11``).

JSON floats are written with Python's shortest round-trip repr. Run through
tests/python/regenerate_fixtures.sh, which makes a virtual environment with the pinned
references.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy.optimize import least_squares, minimize
from scipy.signal import lfilter
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.arima.model import ARIMA

AR_LAGS = [1, 3, 5]
HORIZON = 10
# (p, d, q, constant)
ARIMA_SPECS = [(1, 0, 1, True), (2, 1, 1, False), (2, 1, 1, True), (0, 1, 1, False)]


def series(synthetic_csv: Path) -> dict[str, tuple[str, np.ndarray]]:
    from arch.data import sp500

    close = sp500.load()["Close"].to_numpy(float)
    rng = np.random.default_rng(20250211)
    e = rng.standard_normal(1100)
    ar = np.zeros(1100)
    for t in range(2, 1100):
        ar[t] = 0.2 + 0.5 * ar[t - 1] - 0.3 * ar[t - 2] + e[t]
    c = pd.read_csv(synthetic_csv)["close"].to_numpy(float)
    return {
        "sp500_logret100": ("S&P 500 daily close log returns x 100 (arch.data.sp500)",
                            100.0 * np.diff(np.log(close))),
        "ar2_sim": ("numpy default_rng(20250211) Gaussian AR(2), c=0.2, phi=(0.5, -0.3), "
                    "100 burn-in values dropped, n=1000", ar[100:]),
        "synthetic_logret": ("log returns of 5-minute closes of `bot4 gen --seed 11` "
                             "(tests/fixtures/indicators/synthetic.csv)", np.diff(np.log(c))),
    }


def autoreg(x: np.ndarray) -> list[dict]:
    out = []
    for p in AR_LAGS:
        for trend in ("c", "n"):
            r = AutoReg(x, lags=p, trend=trend).fit()
            out.append({
                "p": p,
                "trend": trend,
                "params": [float(v) for v in r.params],
                "sigma2": float(r.sigma2),
                "llf": float(r.llf),
                "nobs": int(r.nobs),
                "forecast": [float(v) for v in r.forecast(HORIZON)],
            })
    return out


def difference(x: np.ndarray, d: int) -> np.ndarray:
    y = np.asarray(x, float)
    for _ in range(d):
        y = y[1:] - y[:-1]
    return y


def split(theta: np.ndarray, p: int, q: int, constant: bool):
    k = 1 if constant else 0
    c = theta[0] if constant else 0.0
    return c, theta[k:k + p], theta[k + p:k + p + q]


def css_residuals_loop(theta: np.ndarray, y: np.ndarray, p: int, q: int, constant: bool):
    """The CSS residuals e_p .. e_{n-1}, written as plainly as possible (the check)."""
    c, phi, ma = split(theta, p, q, constant)
    n = len(y)
    e = np.zeros(n)
    for t in range(p, n):
        v = y[t] - c
        for i in range(p):
            v -= phi[i] * y[t - 1 - i]
        for j in range(q):
            if t - 1 - j >= 0:
                v -= ma[j] * e[t - 1 - j]
        e[t] = v
    return e[p:]


def css_residuals(theta: np.ndarray, y: np.ndarray, p: int, q: int, constant: bool):
    """The same residuals by a linear filter (fast enough for the optimiser):
    ``u_t = y_t - c - sum_i phi_i y_{t-i}`` for ``t >= p``, then ``theta(B) e = u`` with
    zero initial state. Residuals before ``t = p`` are zero, so the MA recursion starting
    at ``t = p`` from a zero state is the same recursion."""
    c, phi, ma = split(theta, p, q, constant)
    n = len(y)
    u = y[p:] - c
    for i in range(p):
        u = u - phi[i] * y[p - 1 - i:n - 1 - i]
    if q == 0:
        return u
    with np.errstate(all="ignore"):
        return lfilter([1.0], np.concatenate([[1.0], ma]), u)


def invertible(theta, p: int, q: int, constant: bool) -> bool:
    """Whether 1 + sum_j theta_j z^j has all its roots outside the unit circle."""
    _, _, ma = split(np.asarray(theta, float), p, q, constant)
    if q == 0 or not np.any(ma):
        return True
    coefficients = np.concatenate([[1.0], ma])[::-1]  # highest power first
    coefficients = np.trim_zeros(coefficients, "f")
    return bool(np.all(np.abs(np.roots(coefficients)) > 1.0))


def css_objective(theta, y, p, q, constant) -> float:
    """The CSS objective over invertible MA polynomials (+inf outside, as in the Rust
    fit: beyond the unit circle the residual recursion explodes and the sum of squares
    is a rounding artefact)."""
    if not invertible(theta, p, q, constant):
        return np.inf
    e = css_residuals(np.asarray(theta, float), y, p, q, constant)
    with np.errstate(all="ignore"):
        v = float(e @ e)
    return v if np.isfinite(v) else np.inf


def nelder_mead(obj, x0: np.ndarray) -> np.ndarray:
    """Nelder-Mead with tight tolerances, restarted from its optimum until a restart no
    longer improves it."""
    x, value = np.asarray(x0, float), obj(x0)
    for _ in range(20):
        r = minimize(obj, x, method="Nelder-Mead",
                     options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 40000,
                              "maxfev": 80000, "adaptive": len(x) > 2})
        if not r.fun < value - 1e-15 * abs(value):
            if r.fun < value:
                x, value = r.x, r.fun
            break
        x, value = r.x, r.fun
    return x


def css_fit(y: np.ndarray, p: int, q: int, constant: bool) -> np.ndarray:
    k = (1 if constant else 0) + p + q
    starts = [np.zeros(k)]
    # An AR(p) least-squares start, MA terms zero.
    if p > 0:
        rows = np.column_stack([y[p - 1 - i:len(y) - 1 - i] for i in range(p)])
        if constant:
            rows = np.column_stack([np.ones(len(y) - p), rows])
        b = np.linalg.lstsq(rows, y[p:], rcond=None)[0]
        starts.append(np.concatenate([b, np.zeros(q)]))
    rng = np.random.default_rng(7)
    for _ in range(3):
        s = rng.uniform(-0.5, 0.5, k)
        if constant:
            s[0] = y.mean() * 0.5
        starts.append(s)
    fun = lambda th: css_residuals(th, y, p, q, constant)  # noqa: E731
    obj = lambda th: css_objective(th, y, p, q, constant)  # noqa: E731
    best, best_value = None, np.inf
    for s in starts:
        candidates = [nelder_mead(obj, s)]
        # Unconstrained Levenberg-Marquardt, kept (and polished) only if it stays inside.
        try:
            r = least_squares(fun, s, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                              max_nfev=20000)
            if np.isfinite(obj(r.x)):
                candidates.append(nelder_mead(obj, r.x))
        except (ValueError, FloatingPointError):
            pass
        for x0 in candidates:
            v = obj(x0)
            if v < best_value:
                best, best_value = np.asarray(x0, float), v
    return best


def css_forecast(x: np.ndarray, theta: np.ndarray, p: int, d: int, q: int,
                 constant: bool) -> list[float]:
    y = difference(x, d)
    c, phi, ma = split(theta, p, q, constant)
    e = np.concatenate([np.zeros(p), css_residuals(theta, y, p, q, constant)])
    yy = list(y)
    ee = list(e)
    for _ in range(HORIZON):
        v = c
        for i in range(p):
            v += phi[i] * yy[-1 - i]
        for j in range(q):
            v += ma[j] * ee[-1 - j]
        yy.append(v)
        ee.append(0.0)
    f = np.array(yy[len(y):])
    # Integrate back: the last value of each lower differencing level, innermost first.
    for level in range(d - 1, -1, -1):
        last = difference(x, level)[-1]
        f = last + np.cumsum(f)
    return [float(v) for v in f]


def arima_css(x: np.ndarray) -> list[dict]:
    out = []
    for p, d, q, constant in ARIMA_SPECS:
        y = difference(x, d)
        theta = css_fit(y, p, q, constant)
        check = css_residuals_loop(theta, y, p, q, constant)
        fast = css_residuals(theta, y, p, q, constant)
        assert np.allclose(check, fast, rtol=1e-10, atol=1e-12), "the two CSS forms differ"
        entry = {
            "p": p, "d": d, "q": q, "constant": constant,
            "params": [float(v) for v in theta],
            "objective": css_objective(theta, y, p, q, constant),
            "n_used": len(y) - p,
            "forecast": css_forecast(x, theta, p, d, q, constant),
        }
        trend = ("c" if d == 0 else "t") if constant else "n"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                r = ARIMA(x, order=(p, d, q), trend=trend).fit()
                entry["mle_params"] = [float(v) for v in r.params]
                entry["mle_param_names"] = list(r.model.param_names)
            except Exception as err:  # noqa: BLE001 - information only
                entry["mle_error"] = str(err)
        out.append(entry)
    return out


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=root / "tests/fixtures/arima")
    ap.add_argument("--synthetic", type=Path,
                    default=root / "tests/fixtures/indicators/synthetic.csv")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (description, x) in series(args.synthetic).items():
        doc = {
            "name": name,
            "description": description,
            "reference": (f"statsmodels {statsmodels.__version__}, "
                          f"scipy {scipy.__version__}, numpy {np.__version__}"),
            "series": [float(v) for v in x],
            "autoreg": autoreg(x),
            "arima_css": arima_css(x),
        }
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {path} ({len(x)} values)")


if __name__ == "__main__":
    main()
