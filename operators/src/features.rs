//! Per-symbol market features, updated in O(1) per tick with no allocation.
//!
//! Three layers, all fed by the same tick:
//!
//! - **Book** (each quote): the mid `m = (bid + ask) / 2` feeds two exponential moving
//!   averages (half-lives in quotes), the log return `r = ln(m / m_prev)` and an
//!   event-time aware volatility `σ²/s = EW(r²) / EW(Δt)`, annualised; the quote's
//!   microprice and top-of-book imbalance ([`QuoteState`]).
//! - **Order flow** (each trade): the signed-volume imbalance of the last trades
//!   ([`TradeSignImbalance`]).
//! - **Bars**: trades build time bars ([`TimeBars`]); a bar closes on the first tick
//!   (quote or trade) at or past its end, and the closed bar goes through the standard
//!   [`IndicatorSet`]. Its scale-free model inputs ([`BAR_INPUT_NAMES`]) ride on the
//!   tick's feature vector as [`BarFeatures`].
//!
//! Trades leave the book features unchanged but still produce a vector (with
//! `log_return = 0`), so every tick yields one.

use bot4_schemas::{
    BarFeatures, Decimal, FeatureVector, Nanos, SymbolId, Tick, TickKind, BAR_INPUTS,
    BAR_INPUT_NAMES, NANOS_PER_SECOND,
};
use rust_decimal::prelude::ToPrimitive;

use crate::bars::TimeBars;
use crate::indicators::microstructure::{signed_trade_size, Quote, QuoteState, TradeSignImbalance};
use crate::indicators::set::{column, IndicatorSet, COLUMNS};
use crate::indicators::{Candle, Indicator};

/// Seconds in a 365-day year, for annualising volatility.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// Longest gap between quotes that counts towards the volatility clock, in seconds:
/// a quiet hour must not read as a calm market.
const MAX_GAP_SECONDS: f64 = 60.0;

/// Parameters of [`Features`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FeatureConfig {
    /// Half-life of the fast EMA, in quotes.
    pub fast_half_life: f64,
    /// Half-life of the slow EMA, in quotes.
    pub slow_half_life: f64,
    /// Half-life of the volatility estimate, in quotes.
    pub vol_half_life: f64,
    /// Width of the time bars the indicators and bar models run on, in ns.
    pub bar_width: Nanos,
    /// Trades in the order-flow imbalance window.
    pub trade_imbalance_period: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            fast_half_life: 30.0,
            slow_half_life: 150.0,
            vol_half_life: 300.0,
            bar_width: 60 * NANOS_PER_SECOND,
            trade_imbalance_period: 50,
        }
    }
}

/// The weight of a new observation in an EMA of half-life `h` observations.
///
/// `α = 1 − 2^(−1/h) = −expm1(−ln 2 / h)`, computed in the second form so that it stays
/// positive (and accurate) for half-lives far beyond any useful one.
pub fn alpha_from_half_life(h: f64) -> f64 {
    -(-std::f64::consts::LN_2 / h.max(1e-9)).exp_m1()
}

/// The feature state of one symbol.
#[derive(Debug, Clone)]
pub struct Features {
    symbol: SymbolId,
    a_fast: f64,
    a_slow: f64,
    a_vol: f64,
    bid: Decimal,
    ask: Decimal,
    mid: f64,
    ema_fast: f64,
    ema_slow: f64,
    ew_r2: f64,
    ew_dt: f64,
    last_quote_ts: Nanos,
    quotes: u64,
    count: u64,
    book: QuoteState,
    flow: TradeSignImbalance,
    trade_imbalance: f64,
    bars: TimeBars,
    indicators: IndicatorSet,
    closed_bars: u64,
    last_close: Option<f64>,
}

impl Features {
    /// Empty state for `symbol`.
    pub fn new(symbol: SymbolId, config: FeatureConfig) -> Self {
        Self {
            symbol,
            a_fast: alpha_from_half_life(config.fast_half_life),
            a_slow: alpha_from_half_life(config.slow_half_life),
            a_vol: alpha_from_half_life(config.vol_half_life),
            bid: Decimal::ZERO,
            ask: Decimal::ZERO,
            mid: 0.0,
            ema_fast: 0.0,
            ema_slow: 0.0,
            ew_r2: 0.0,
            ew_dt: 0.0,
            last_quote_ts: 0,
            quotes: 0,
            count: 0,
            book: QuoteState::new(),
            flow: TradeSignImbalance::new(config.trade_imbalance_period),
            trade_imbalance: 0.0,
            bars: TimeBars::new(config.bar_width),
            indicators: IndicatorSet::new(),
            closed_bars: 0,
            last_close: None,
        }
    }

    /// Fold in one tick of this symbol and return the features after it.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::features::{FeatureConfig, Features};
    /// use bot4_schemas::{Decimal, SymbolId, Tick, TickKind};
    /// let mut f = Features::new(SymbolId(0), FeatureConfig::default());
    /// let quote = |ts, bid: i64| Tick { ts, seq: ts as u64, symbol: SymbolId(0), kind: TickKind::Quote {
    ///     bid: Decimal::from(bid), bid_size: Decimal::ONE, ask: Decimal::from(bid + 2), ask_size: Decimal::ONE } };
    /// f.update(&quote(1_000_000_000, 100));
    /// let v = f.update(&quote(2_000_000_000, 110));
    /// assert_eq!(v.mid, 111.0);
    /// assert!((v.log_return - (111.0f64 / 101.0).ln()).abs() < 1e-12);
    /// assert!(v.ema_fast > v.ema_slow);
    /// ```
    #[inline]
    pub fn update(&mut self, tick: &Tick) -> FeatureVector {
        self.count += 1;
        let mut log_return = 0.0;
        // A tick at or past the open bar's end closes it; a trade of a later slice
        // closes it too (and opens the next).
        let closed = self
            .bars
            .close_until(tick.ts)
            .or_else(|| self.bars.update(tick));
        let bar = closed.map(|bar| self.close_bar(&bar));
        if let Some(signed) = signed_trade_size(tick) {
            if let Some(imbalance) = self.flow.update(signed) {
                self.trade_imbalance = imbalance;
            }
        }
        // One conversion of the book to floats serves the microstructure and the mid.
        let quote = Quote::from_tick(tick);
        if let Some(quote) = quote {
            self.book.update(quote);
        }
        if let (TickKind::Quote { bid, ask, .. }, Some(quote)) = (tick.kind, quote) {
            let mid = (quote.bid + quote.ask) * 0.5;
            self.bid = bid;
            self.ask = ask;
            if self.quotes == 0 {
                self.ema_fast = mid;
                self.ema_slow = mid;
            } else {
                log_return = (mid / self.mid).ln();
                let dt = ((tick.ts - self.last_quote_ts) as f64 / NANOS_PER_SECOND as f64)
                    .clamp(0.0, MAX_GAP_SECONDS);
                self.ew_r2 += self.a_vol * (log_return * log_return - self.ew_r2);
                self.ew_dt += self.a_vol * (dt - self.ew_dt);
                self.ema_fast += self.a_fast * (mid - self.ema_fast);
                self.ema_slow += self.a_slow * (mid - self.ema_slow);
            }
            self.mid = mid;
            self.last_quote_ts = tick.ts;
            self.quotes += 1;
        }
        FeatureVector {
            ts: tick.ts,
            seq: tick.seq,
            symbol: self.symbol,
            bid: self.bid,
            ask: self.ask,
            mid: self.mid,
            ema_fast: self.ema_fast,
            ema_slow: self.ema_slow,
            log_return,
            volatility: self.volatility(),
            spread: if self.mid > 0.0 {
                (self.ask - self.bid).to_f64().unwrap_or(0.0) / self.mid
            } else {
                0.0
            },
            count: self.quotes,
            microprice: self.book.last().map_or(self.mid, |q| q.microprice),
            imbalance: self.book.last().map_or(0.0, |q| q.imbalance),
            trade_imbalance: self.trade_imbalance,
            bar,
        }
    }

    /// Run a closed bar through the indicators and make its model inputs.
    fn close_bar(&mut self, bar: &bot4_schemas::Bar) -> BarFeatures {
        const RSI: usize = column("rsi_14");
        const MACD_HIST: usize = column("macd_hist");
        const ATR: usize = column("atr_14");
        const ZSCORE: usize = column("zscore_20");
        const STOCH_K: usize = column("stoch_k");
        const CCI: usize = column("cci_20");
        const PLUS_DI: usize = column("plus_di_14");
        const MINUS_DI: usize = column("minus_di_14");
        const RETURN: usize = column("log_return");
        const VOLATILITY: usize = column("realized_vol_20");
        let candle = Candle::from_bar(bar);
        let v: [Option<f64>; COLUMNS.len()] = self.indicators.update(&candle);
        self.closed_bars += 1;
        let log_return = match self.last_close {
            Some(prev) if prev > 0.0 && candle.close > 0.0 => (candle.close / prev).ln(),
            _ => 0.0,
        };
        self.last_close = Some(candle.close);
        let volatility = v[VOLATILITY].unwrap_or(0.0);
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        let inputs: [Option<f64>; BAR_INPUTS] = [
            v[RSI].map(|r| r / 50.0 - 1.0),
            ratio(v[MACD_HIST], v[ATR]),
            v[ZSCORE],
            v[STOCH_K].map(|k| k / 50.0 - 1.0),
            v[CCI].map(|c| c / 100.0),
            v[PLUS_DI].zip(v[MINUS_DI]).map(|(p, m)| (p - m) / 100.0),
            ratio(v[RETURN], v[VOLATILITY]),
            Some(self.trade_imbalance),
        ];
        debug_assert_eq!(BAR_INPUT_NAMES.len(), inputs.len());
        BarFeatures {
            bar: *bar,
            log_return,
            volatility,
            count: self.closed_bars,
            warm: inputs.iter().all(Option::is_some),
            inputs: inputs.map(|x| x.filter(|x| x.is_finite()).unwrap_or(0.0)),
        }
    }

    /// Annualised volatility of the mid, zero until two quotes have been seen.
    pub fn volatility(&self) -> f64 {
        if self.ew_dt > 0.0 {
            (self.ew_r2 / self.ew_dt * SECONDS_PER_YEAR).sqrt()
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quote(ts: Nanos, bid: f64, spread: f64) -> Tick {
        Tick {
            ts,
            seq: ts as u64,
            symbol: SymbolId(0),
            kind: TickKind::Quote {
                bid: Decimal::from_f64_retain(bid).unwrap().round_dp(6),
                bid_size: Decimal::ONE,
                ask: Decimal::from_f64_retain(bid + spread).unwrap().round_dp(6),
                ask_size: Decimal::ONE,
            },
        }
    }

    proptest! {
        /// The incremental EMAs and volatility equal a from-scratch computation over the
        /// whole history.
        #[test]
        fn matches_naive_recomputation(
            steps in proptest::collection::vec((1i64..5_000_000_000, -0.01f64..0.01), 2..200)
        ) {
            let config = FeatureConfig::default();
            let mut f = Features::new(SymbolId(0), config);
            let (mut ts, mut price) = (NANOS_PER_SECOND, 100.0f64);
            let mut mids = Vec::new();
            let mut times = Vec::new();
            let mut last = None;
            for (dt, r) in steps {
                ts += dt;
                price *= r.exp();
                let t = quote(ts, price, 0.01);
                let mid = t.reference_price().and_then(|m| m.to_f64()).unwrap();
                mids.push(mid);
                times.push(ts);
                last = Some(f.update(&t));
            }
            let last = last.unwrap();
            let (af, a_slow, av) = (alpha_from_half_life(config.fast_half_life), alpha_from_half_life(config.slow_half_life), alpha_from_half_life(config.vol_half_life));
            let (mut ef, mut es, mut r2, mut edt) = (mids[0], mids[0], 0.0, 0.0);
            for i in 1..mids.len() {
                let r = (mids[i] / mids[i - 1]).ln();
                let dt = ((times[i] - times[i - 1]) as f64 / 1e9).clamp(0.0, MAX_GAP_SECONDS);
                ef = af * mids[i] + (1.0 - af) * ef;
                es = a_slow * mids[i] + (1.0 - a_slow) * es;
                r2 = av * r * r + (1.0 - av) * r2;
                edt = av * dt + (1.0 - av) * edt;
            }
            let vol = if edt > 0.0 { (r2 / edt * SECONDS_PER_YEAR).sqrt() } else { 0.0 };
            prop_assert!((last.ema_fast - ef).abs() <= 1e-9 * ef.abs());
            prop_assert!((last.ema_slow - es).abs() <= 1e-9 * es.abs());
            prop_assert!((last.volatility - vol).abs() <= 1e-9 * vol.max(1.0));
        }
    }

    fn trade(ts: Nanos, price: f64, size: i64, buy: bool) -> Tick {
        Tick {
            ts,
            seq: ts as u64,
            symbol: SymbolId(0),
            kind: TickKind::Trade {
                price: Decimal::from_f64_retain(price).unwrap().round_dp(4),
                size: Decimal::from(size),
                aggressor: if buy {
                    bot4_schemas::Side::Buy
                } else {
                    bot4_schemas::Side::Sell
                },
            },
        }
    }

    proptest! {
        /// The bars the feature stage closes, and their indicator values, are those of
        /// the bar builder and the indicator set run on their own over the same ticks;
        /// each bar is announced exactly once, on the first tick at or past its end.
        #[test]
        fn bars_match_the_bar_builder_and_the_indicator_set(
            steps in proptest::collection::vec((1i64..40_000_000_000, -0.01f64..0.01, any::<bool>(), 1i64..9), 50..400)
        ) {
            let config = FeatureConfig { bar_width: 60 * NANOS_PER_SECOND, ..FeatureConfig::default() };
            let mut f = Features::new(SymbolId(0), config);
            let mut bars = TimeBars::new(config.bar_width);
            let mut set = IndicatorSet::new();
            let (mut ts, mut price) = (0i64, 100.0f64);
            let mut announced = Vec::new();
            let mut expected = Vec::new();
            for (dt, r, is_trade, size) in steps {
                ts += dt;
                price *= r.exp();
                let tick = if is_trade { trade(ts, price, size, r > 0.0) } else { quote(ts, price, 0.01) };
                if let Some(bar) = bars.close_until(ts).or_else(|| bars.update(&tick)) {
                    prop_assert!(bar.end <= ts || is_trade);
                    expected.push((bar, set.update(&Candle::from_bar(&bar))));
                }
                if let Some(b) = f.update(&tick).bar {
                    announced.push(b);
                }
            }
            prop_assert_eq!(announced.len(), expected.len());
            for (i, (b, (bar, values))) in announced.iter().zip(&expected).enumerate() {
                prop_assert_eq!(&b.bar, bar);
                prop_assert_eq!(b.count, i as u64 + 1);
                let rsi = values[column("rsi_14")];
                prop_assert_eq!(b.inputs[0], rsi.map_or(0.0, |r| r / 50.0 - 1.0));
                prop_assert_eq!(b.inputs[2], values[column("zscore_20")].unwrap_or(0.0));
                prop_assert_eq!(b.warm, rsi.is_some() && values[column("adx_14")].is_some()
                    && values[column("realized_vol_20")].is_some() && values[column("macd_hist")].is_some()
                    && values[column("stoch_k")].is_some() && values[column("cci_20")].is_some());
                prop_assert!(b.inputs.iter().all(|x| x.is_finite()));
                if i > 0 {
                    let prev = crate::indicators::to_f64(expected[i - 1].0.close);
                    let close = crate::indicators::to_f64(bar.close);
                    prop_assert!((b.log_return - (close / prev).ln()).abs() < 1e-12);
                } else {
                    prop_assert_eq!(b.log_return, 0.0);
                }
            }
        }
    }

    #[test]
    fn a_quote_past_the_end_closes_the_bar() {
        let mut f = Features::new(SymbolId(0), FeatureConfig::default());
        assert!(f
            .update(&trade(10 * NANOS_PER_SECOND, 100.0, 1, true))
            .bar
            .is_none());
        assert!(f
            .update(&quote(59 * NANOS_PER_SECOND, 100.0, 0.5))
            .bar
            .is_none());
        let v = f.update(&quote(60 * NANOS_PER_SECOND, 100.0, 0.5));
        let bar = v.bar.expect("the quote at the bar's end closes it");
        assert_eq!(bar.bar.start, 0);
        assert_eq!(bar.bar.end, 60 * NANOS_PER_SECOND);
        assert_eq!(bar.count, 1);
        assert!(!bar.warm);
        assert_eq!(
            v.trade_imbalance, 0.0,
            "the window of 50 trades is not full"
        );
        assert_eq!(v.microprice, 100.25);
        assert_eq!(v.imbalance, 0.0);
    }

    #[test]
    fn trades_do_not_move_the_book() {
        let mut f = Features::new(SymbolId(0), FeatureConfig::default());
        f.update(&quote(1, 100.0, 1.0));
        let v = f.update(&Tick {
            ts: 2,
            seq: 2,
            symbol: SymbolId(0),
            kind: TickKind::Trade {
                price: Decimal::from(105),
                size: Decimal::ONE,
                aggressor: bot4_schemas::Side::Buy,
            },
        });
        assert_eq!(v.mid, 100.5);
        assert_eq!(v.log_return, 0.0);
        assert_eq!(v.count, 1);
    }
}
