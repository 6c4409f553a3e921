//! The standard indicator set: every bar indicator with its usual parameters, under the
//! column names `bot4 indicators` writes (`<indicator>_<period>`, or the bare name where
//! there is no period): the one list the command line and the reference tests share.

use super::adx::Adx;
use super::atr::{Atr, TrueRange};
use super::bollinger::Bollinger;
use super::cci::Cci;
use super::ema::Ema;
use super::macd::Macd;
use super::obv::Obv;
use super::returns::LogReturn;
use super::rsi::Rsi;
use super::sma::Sma;
use super::stochastic::Stochastic;
use super::volatility::{GarmanKlass, Parkinson, RealizedVol};
use super::vwap::{RollingVwap, SessionVwap};
use super::wma::Wma;
use super::zscore::ZScore;
use super::{Candle, Indicator};

/// The columns of [`IndicatorSet::update`], in order.
pub const COLUMNS: [&str; 31] = [
    "log_return",
    "sma_20",
    "sma_50",
    "ema_12",
    "ema_26",
    "wma_20",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper_20",
    "bb_middle_20",
    "bb_lower_20",
    "stoch_k",
    "stoch_d",
    "cci_20",
    "trange",
    "atr_14",
    "adx_14",
    "plus_di_14",
    "minus_di_14",
    "obv",
    "vwap_session",
    "vwap_20",
    "zscore_20",
    "realized_vol_20",
    "parkinson_20",
    "garman_klass_20",
    "high_20",
    "low_20",
    "volume_sma_20",
];

/// The index of column `name` in [`COLUMNS`]; a name that is not there fails to compile
/// where it is used in a constant.
pub const fn column(name: &str) -> usize {
    let mut i = 0;
    while i < COLUMNS.len() {
        if eq(COLUMNS[i].as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("no such indicator column");
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Every indicator of [`COLUMNS`], fed one bar at a time.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    log_return: LogReturn,
    sma_20: Sma,
    sma_50: Sma,
    ema_12: Ema,
    ema_26: Ema,
    wma_20: Wma,
    rsi_14: Rsi,
    macd: Macd,
    bollinger: Bollinger,
    stochastic: Stochastic,
    cci_20: Cci,
    trange: TrueRange,
    atr_14: Atr,
    adx_14: Adx,
    obv: Obv,
    vwap_session: SessionVwap,
    vwap_20: RollingVwap,
    zscore_20: ZScore,
    realized_vol_20: RealizedVol,
    parkinson_20: Parkinson,
    garman_klass_20: GarmanKlass,
    high_20: super::RollingExtreme,
    low_20: super::RollingExtreme,
    seen: usize,
    volume_sma_20: Sma,
}

impl Default for IndicatorSet {
    fn default() -> Self {
        Self::new()
    }
}

impl IndicatorSet {
    /// Fresh state, with the parameters the column names say (MACD 12/26/9, Bollinger
    /// 20 and 2σ, stochastic 5/3/3, sessions of one UTC day).
    pub fn new() -> Self {
        Self {
            log_return: LogReturn::new(),
            sma_20: Sma::new(20),
            sma_50: Sma::new(50),
            ema_12: Ema::new(12),
            ema_26: Ema::new(26),
            wma_20: Wma::new(20),
            rsi_14: Rsi::new(14),
            macd: Macd::new(12, 26, 9),
            bollinger: Bollinger::new(20, 2.0, 2.0),
            stochastic: Stochastic::new(5, 3, 3),
            cci_20: Cci::new(20),
            trange: TrueRange::new(),
            atr_14: Atr::new(14),
            adx_14: Adx::new(14),
            obv: Obv::new(),
            vwap_session: SessionVwap::daily(),
            vwap_20: RollingVwap::new(20),
            zscore_20: ZScore::new(20),
            realized_vol_20: RealizedVol::new(20),
            parkinson_20: Parkinson::new(20),
            garman_klass_20: GarmanKlass::new(20),
            high_20: super::RollingExtreme::max(20),
            low_20: super::RollingExtreme::min(20),
            seen: 0,
            volume_sma_20: Sma::new(20),
        }
    }

    /// Feed the next bar; every column's value (`None` while it warms up), in the order
    /// of [`COLUMNS`].
    pub fn update(&mut self, bar: &Candle) -> [Option<f64>; COLUMNS.len()] {
        let c = bar.close;
        let macd = self.macd.update(c);
        let bands = self.bollinger.update(c);
        let stoch = self.stochastic.update(*bar);
        let adx = self.adx_14.update(*bar);
        self.seen += 1;
        let high = self.high_20.push(bar.high);
        let low = self.low_20.push(bar.low);
        let full = self.seen >= 20;
        [
            self.log_return.update(c),
            self.sma_20.update(c),
            self.sma_50.update(c),
            self.ema_12.update(c),
            self.ema_26.update(c),
            self.wma_20.update(c),
            self.rsi_14.update(c),
            macd.map(|m| m.macd),
            macd.map(|m| m.signal),
            macd.map(|m| m.hist),
            bands.map(|b| b.upper),
            bands.map(|b| b.middle),
            bands.map(|b| b.lower),
            stoch.map(|s| s.k),
            stoch.map(|s| s.d),
            self.cci_20.update(*bar),
            self.trange.update(*bar),
            self.atr_14.update(*bar),
            adx.map(|a| a.adx),
            adx.map(|a| a.plus_di),
            adx.map(|a| a.minus_di),
            self.obv.update(*bar),
            self.vwap_session.update(*bar),
            self.vwap_20.update(*bar),
            self.zscore_20.update(c),
            self.realized_vol_20.update(c),
            self.parkinson_20.update(*bar),
            self.garman_klass_20.update(*bar),
            full.then_some(high),
            full.then_some(low),
            self.volume_sma_20.update(bar.volume),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name() {
        assert_eq!(column("log_return"), 0);
        assert_eq!(COLUMNS[column("adx_14")], "adx_14");
        assert_eq!(column("volume_sma_20"), COLUMNS.len() - 1);
    }

    #[test]
    fn every_column_has_a_value_once_warm() {
        let mut set = IndicatorSet::new();
        let mut last = [None; COLUMNS.len()];
        for i in 0..200 {
            let p = 100.0 + (i as f64 * 0.37).sin() * 5.0 + i as f64 * 0.01;
            last = set.update(&Candle {
                ts: i * 60_000_000_000,
                open: p,
                high: p + 1.0,
                low: p - 1.0,
                close: p + 0.25,
                volume: 10.0 + (i % 7) as f64,
            });
        }
        for (name, value) in COLUMNS.iter().zip(last) {
            let v = value.unwrap_or_else(|| panic!("{name} has no value after 200 bars"));
            assert!(v.is_finite(), "{name} = {v}");
        }
    }
}
