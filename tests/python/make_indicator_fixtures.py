#!/usr/bin/env python3
"""Regenerate the indicator reference fixtures under tests/fixtures/indicators/.

Usage: make_indicator_fixtures.py --bot4 PATH_TO_BOT4 [--out DIR]

Two input series, each written as one CSV with the OHLCV columns followed by every
reference column:

- ``synthetic.csv``: 5-minute bars of the first symbol of a market ``bot4 gen`` makes
  (seed 11, one day), built here from its trade ticks: open/high/low/close of the trade
  prices, volume the sum of trade sizes, a bar only where there were trades;
- ``sp500.csv``: the S&P 500 daily bars that ship with the ``arch`` package (a real,
  public series: Yahoo! Finance, 1999-2018).

Reference columns come from TA-Lib (the C library, through its Python wrapper) where
TA-Lib has the indicator, and from pandas/numpy computed from the definition otherwise.
A missing value (TA-Lib's warm-up) is an empty cell. Floats are written with 17
significant digits, so the Rust tests compare against exactly what the references
computed.

Run through tests/python/regenerate_fixtures.sh, which makes a virtual environment with
the pinned references.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import talib

# 5-minute bars, in ns.
BAR_NS = 5 * 60 * 1_000_000_000


def synthetic_bars(bot4: str) -> pd.DataFrame:
    """Bars of the first symbol of a generated market."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [bot4, "gen", "--symbols", "2", "--duration", "1d", "--seed", "11",
             "--rate", "4", "--out", tmp],
            check=True, stdout=subprocess.DEVNULL,
        )
        files = sorted(Path(tmp).glob("ticks/**/*.parquet"))
        ticks = pq.read_table(files[0]).to_pandas()
    trades = ticks[ticks["kind"] == "trade"].copy()
    trades["ts_ns"] = trades["ts"].astype("int64")
    trades["price"] = trades["price"].astype(float)
    trades["size"] = trades["size"].astype(float)
    trades["bar"] = trades["ts_ns"] // BAR_NS
    bars = trades.groupby("bar", sort=True).agg(
        open=("price", "first"), high=("price", "max"), low=("price", "min"),
        close=("price", "last"), volume=("size", "sum"),
    )
    bars.insert(0, "ts", bars.index.to_numpy(dtype="int64") * BAR_NS)
    return bars.reset_index(drop=True)


def sp500_bars() -> pd.DataFrame:
    """The S&P 500 daily bars shipped with arch."""
    from arch.data import sp500

    df = sp500.load()
    ts = pd.DatetimeIndex(df.index).tz_localize("UTC").as_unit("ns").asi8
    return pd.DataFrame({
        "ts": ts,
        "open": df["Open"].to_numpy(float),
        "high": df["High"].to_numpy(float),
        "low": df["Low"].to_numpy(float),
        "close": df["Close"].to_numpy(float),
        "volume": df["Volume"].to_numpy(float),
    })


def references(bars: pd.DataFrame) -> pd.DataFrame:
    """Every reference column for `bars`."""
    o, h, l, c, v = (bars[k].to_numpy(float) for k in ("open", "high", "low", "close", "volume"))
    out = bars.copy()
    # TA-Lib.
    out["sma_20"] = talib.SMA(c, 20)
    out["ema_12"] = talib.EMA(c, 12)
    out["ema_26"] = talib.EMA(c, 26)
    out["wma_20"] = talib.WMA(c, 20)
    out["rsi_14"] = talib.RSI(c, 14)
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    out["macd"], out["macd_signal"], out["macd_hist"] = macd, signal, hist
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    out["bb_upper_20"], out["bb_middle_20"], out["bb_lower_20"] = upper, middle, lower
    k, d = talib.STOCH(h, l, c, 5, 3, 0, 3, 0)
    out["stoch_k"], out["stoch_d"] = k, d
    out["cci_20"] = talib.CCI(h, l, c, 20)
    out["trange"] = talib.TRANGE(h, l, c)
    out["atr_14"] = talib.ATR(h, l, c, 14)
    out["adx_14"] = talib.ADX(h, l, c, 14)
    out["plus_di_14"] = talib.PLUS_DI(h, l, c, 14)
    out["minus_di_14"] = talib.MINUS_DI(h, l, c, 14)
    out["obv"] = talib.OBV(c, v)
    # From the definitions, with pandas.
    close = pd.Series(c)
    mean = close.rolling(20).mean()
    std = close.rolling(20).std(ddof=0)
    out["zscore_20"] = ((close - mean) / std).where(std > 0, 0.0).where(mean.notna())
    logret = np.log(close / close.shift(1))
    out["log_return"] = logret
    out["realized_vol_20"] = np.sqrt((logret**2).rolling(20).mean())
    hl = np.log(pd.Series(h) / pd.Series(l))
    co = np.log(close / pd.Series(o))
    out["parkinson_20"] = np.sqrt((hl**2).rolling(20).mean() / (4 * np.log(2)))
    gk = 0.5 * hl**2 - (2 * np.log(2) - 1) * co**2
    out["garman_klass_20"] = np.sqrt(gk.rolling(20).mean().clip(lower=0))
    tp = (pd.Series(h) + pd.Series(l) + close) / 3
    vol = pd.Series(v)
    out["vwap_20"] = (tp * vol).rolling(20).sum() / vol.rolling(20).sum()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bot4", required=True, help="the bot4 binary")
    parser.add_argument("--out", default="tests/fixtures/indicators", help="fixture folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, bars in (("synthetic", synthetic_bars(args.bot4)), ("sp500", sp500_bars())):
        if len(bars) < 100:
            print(f"{name}: only {len(bars)} bars", file=sys.stderr)
            return 1
        table = references(bars)
        path = out / f"{name}.csv"
        table.to_csv(path, index=False, float_format="%.17g", na_rep="")
        print(f"{path}: {len(table)} bars, {len(table.columns) - 6} reference columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
