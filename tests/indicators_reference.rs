//! The incremental indicators of `bot4_operators::indicators` against independent
//! references: TA-Lib (the C library) where it has the indicator, pandas/numpy from the
//! definition otherwise, on a series the project generates and on a real one (S&P 500
//! daily bars).
//!
//! The fixtures are committed CSV files made by `tests/python/regenerate_fixtures.sh`;
//! each row is a bar (`ts,open,high,low,close,volume`) followed by one column per
//! reference value, empty while the reference is still warming up. Every indicator must
//! be warming up exactly where the reference is, and agree with it everywhere else.

use std::collections::BTreeMap;
use std::path::Path;

use bot4_operators::indicators::adx::Adx;
use bot4_operators::indicators::atr::{Atr, TrueRange};
use bot4_operators::indicators::bollinger::Bollinger;
use bot4_operators::indicators::cci::Cci;
use bot4_operators::indicators::ema::Ema;
use bot4_operators::indicators::macd::Macd;
use bot4_operators::indicators::obv::Obv;
use bot4_operators::indicators::returns::LogReturn;
use bot4_operators::indicators::rsi::Rsi;
use bot4_operators::indicators::sma::Sma;
use bot4_operators::indicators::stochastic::Stochastic;
use bot4_operators::indicators::volatility::{GarmanKlass, Parkinson, RealizedVol};
use bot4_operators::indicators::vwap::RollingVwap;
use bot4_operators::indicators::wma::Wma;
use bot4_operators::indicators::zscore::ZScore;
use bot4_operators::indicators::{Candle, Indicator};

/// One fixture: its bars and its reference columns.
struct Fixture {
    name: &'static str,
    candles: Vec<Candle>,
    columns: BTreeMap<String, Vec<Option<f64>>>,
}

fn load(name: &'static str) -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/indicators")
        .join(format!("{name}.csv"));
    let mut reader = csv::Reader::from_path(&path).expect("the fixture opens");
    let headers: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let mut columns: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("a row");
        for (name, cell) in headers.iter().zip(record.iter()) {
            let value = (!cell.is_empty()).then(|| cell.parse::<f64>().expect("a number"));
            columns.entry(name.clone()).or_default().push(value);
        }
    }
    let col = |c: &str| -> Vec<f64> {
        columns[c]
            .iter()
            .map(|v| v.expect("bars have no gaps"))
            .collect()
    };
    let (ts, open, high, low, close, volume) = (
        col("ts"),
        col("open"),
        col("high"),
        col("low"),
        col("close"),
        col("volume"),
    );
    let candles = (0..ts.len())
        .map(|i| Candle {
            ts: ts[i] as i64,
            open: open[i],
            high: high[i],
            low: low[i],
            close: close[i],
            volume: volume[i],
        })
        .collect();
    Fixture {
        name,
        candles,
        columns,
    }
}

/// Run `indicator` over `inputs`, keeping one value of each output with `pick`.
fn run<I: Indicator, T>(
    mut indicator: I,
    inputs: impl IntoIterator<Item = I::Input>,
    pick: impl Fn(&I::Output) -> T,
) -> Vec<Option<T>> {
    inputs
        .into_iter()
        .map(|x| indicator.update(x).map(|v| pick(&v)))
        .collect()
}

/// Our values of every reference column of `f`.
fn ours(f: &Fixture) -> BTreeMap<&'static str, Vec<Option<f64>>> {
    let closes = || f.candles.iter().map(|c| c.close);
    let candles = || f.candles.iter().copied();
    let id = |v: &f64| *v;
    let mut out = BTreeMap::new();
    out.insert("sma_20", run(Sma::new(20), closes(), id));
    out.insert("ema_12", run(Ema::new(12), closes(), id));
    out.insert("ema_26", run(Ema::new(26), closes(), id));
    out.insert("wma_20", run(Wma::new(20), closes(), id));
    out.insert("rsi_14", run(Rsi::new(14), closes(), id));
    out.insert("macd", run(Macd::new(12, 26, 9), closes(), |m| m.macd));
    out.insert(
        "macd_signal",
        run(Macd::new(12, 26, 9), closes(), |m| m.signal),
    );
    out.insert("macd_hist", run(Macd::new(12, 26, 9), closes(), |m| m.hist));
    let bands = || Bollinger::new(20, 2.0, 2.0);
    out.insert("bb_upper_20", run(bands(), closes(), |b| b.upper));
    out.insert("bb_middle_20", run(bands(), closes(), |b| b.middle));
    out.insert("bb_lower_20", run(bands(), closes(), |b| b.lower));
    out.insert("stoch_k", run(Stochastic::new(5, 3, 3), candles(), |s| s.k));
    out.insert("stoch_d", run(Stochastic::new(5, 3, 3), candles(), |s| s.d));
    out.insert("cci_20", run(Cci::new(20), candles(), id));
    out.insert("trange", run(TrueRange::new(), candles(), id));
    out.insert("atr_14", run(Atr::new(14), candles(), id));
    out.insert("adx_14", run(Adx::new(14), candles(), |a| a.adx));
    out.insert("plus_di_14", run(Adx::new(14), candles(), |a| a.plus_di));
    out.insert("minus_di_14", run(Adx::new(14), candles(), |a| a.minus_di));
    out.insert("obv", run(Obv::new(), candles(), id));
    out.insert("zscore_20", run(ZScore::new(20), closes(), id));
    out.insert("log_return", run(LogReturn::new(), closes(), id));
    out.insert("realized_vol_20", run(RealizedVol::new(20), closes(), id));
    out.insert("parkinson_20", run(Parkinson::new(20), candles(), id));
    out.insert("garman_klass_20", run(GarmanKlass::new(20), candles(), id));
    out.insert("vwap_20", run(RollingVwap::new(20), candles(), id));
    out
}

/// Columns whose reference starts earlier than ours: TA-Lib gives +DI/−DI from bar
/// `period`, the ADX stage emits them with ADX, from bar `2·period − 1`.
const LATER_START: [&str; 2] = ["plus_di_14", "minus_di_14"];

fn check(name: &'static str) {
    let f = load(name);
    let ours = ours(&f);
    let mut problems = Vec::new();
    for (column, reference) in &f.columns {
        if ["ts", "open", "high", "low", "close", "volume"].contains(&column.as_str()) {
            continue;
        }
        let Some(mine) = ours.get(column.as_str()) else {
            problems.push(format!("{column}: no indicator computes it"));
            continue;
        };
        // Agreement to 1e-9 of the column's scale: the references are doubles too, but
        // sum in other orders.
        let scale = reference
            .iter()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-12);
        let mut first_bad = None;
        let mut compared = 0;
        for (i, (a, b)) in mine.iter().zip(reference).enumerate() {
            let bad = match (a, b) {
                (Some(a), Some(b)) => {
                    compared += 1;
                    (a - b).abs() > 1e-9 * scale
                }
                (None, None) => false,
                (None, Some(_)) => !LATER_START.contains(&column.as_str()),
                (Some(_), None) => true,
            };
            if bad && first_bad.is_none() {
                first_bad = Some(format!(
                    "{column}: bar {i}: ours {a:?}, reference {b:?} (scale {scale:e})"
                ));
            }
        }
        problems.extend(first_bad);
        if compared < f.candles.len() / 2 {
            problems.push(format!("{column}: only {compared} values compared"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}: {} column(s) disagree:\n{}",
        f.name,
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn indicators_match_the_references_on_generated_bars() {
    check("synthetic");
}

#[test]
fn indicators_match_the_references_on_sp500_daily_bars() {
    check("sp500");
}
