//! Set-up shared by the Bot4 benchmarks: the synthetic markets they run on and the
//! per-symbol operator chain they time.
//!
//! The benches themselves live beside this crate's `Cargo.toml`, one file per subject:
//! `replay_criterion.rs` (the whole graph) and `operator_chain_criterion.rs` (one
//! symbol's features → model → signal → risk); `src/bin/chain_latency.rs` adds the
//! per-tick latency percentiles criterion does not report.

#![deny(unsafe_code)]

use std::path::Path;

use bot4_operators::bars::TimeBars;
use bot4_operators::features::{FeatureConfig, Features};
use bot4_operators::indicators::Candle;
use bot4_operators::models::forecaster::{Forecaster, ForecasterConfig};
use bot4_operators::risk::sizing::{AccountView, Sizing};
use bot4_operators::risk::tiers::TierLimits;
use bot4_operators::risk::{RiskConfig, RiskSizer};
use bot4_operators::signals::bar_signal::{BarSignal, BarSignalConfig};
use bot4_pipeline::generate::{generate, Generated};
use bot4_pipeline::sources::synthetic::{SyntheticConfig, SyntheticMarket};
use bot4_pipeline::PipelineError;
use bot4_schemas::{Decimal, Instrument, SymbolId, Tick, NANOS_PER_SECOND};

/// The markets of the replay benchmark, by how many ticks each 1 s epoch carries: the
/// order loop closes once per epoch on every worker, so the sparser the market, the more
/// of a replay is spent on that per-epoch synchronisation rather than on ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchMarket {
    /// 8 symbols for 10 minutes at 50 clock steps per second: about 400 ticks in every
    /// 1 s epoch (≈ 240 000 ticks in all).
    Dense,
    /// 8 symbols for 5 minutes at 200 clock steps per second: about 1 600 ticks in every
    /// 1 s epoch (≈ 470 000 ticks in all), as a few liquid pairs' quotes and trades.
    Busy,
}

impl BenchMarket {
    /// Every market, in the order the benchmark runs them.
    pub const ALL: [BenchMarket; 2] = [BenchMarket::Dense, BenchMarket::Busy];

    /// The market's name in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            BenchMarket::Dense => "dense",
            BenchMarket::Busy => "busy",
        }
    }

    /// Its synthetic market.
    pub fn config(self) -> SyntheticConfig {
        let (minutes, events_per_second) = match self {
            BenchMarket::Dense => (10, 50.0),
            BenchMarket::Busy => (5, 200.0),
        };
        SyntheticConfig {
            symbols: 8,
            duration: minutes * 60 * NANOS_PER_SECOND,
            events_per_second,
            seed: 1,
            ..SyntheticConfig::default()
        }
    }

    /// Write it as Parquet tick files under `dir`.
    pub fn write(self, dir: &Path) -> Result<Generated, PipelineError> {
        generate(self.config(), dir, None)
    }
}

/// The symbol the chain benchmarks follow: the first and most liquid of the universe.
pub const CHAIN_SYMBOL: &str = "BTC-USDT";

/// Consecutive ticks of one symbol, in `(ts, seq)` order, and its instrument.
#[derive(Debug, Clone)]
pub struct SymbolTicks {
    /// The symbol's id in its market.
    pub symbol: SymbolId,
    /// Its exchange filters, which the risk stage rounds to.
    pub instrument: Instrument,
    /// Its ticks.
    pub ticks: Vec<Tick>,
}

/// The first `n` ticks of `symbol` in the default synthetic market (8 symbols, 2 clock
/// steps per second, about one tick per symbol and step) of seed `seed`, run for as long
/// as it takes to produce them.
pub fn symbol_ticks(symbol: &str, n: usize, seed: u64) -> Result<SymbolTicks, PipelineError> {
    let config = SyntheticConfig {
        seed,
        // Long enough for 10 M ticks of one symbol; ticks are drawn lazily, so only the
        // steps needed for `n` are generated.
        duration: 60 * 86_400 * NANOS_PER_SECOND,
        ..SyntheticConfig::default()
    };
    let market = SyntheticMarket::new(config)?;
    let id = market.registry().id(symbol).ok_or_else(|| {
        PipelineError::Config(format!("the synthetic market has no symbol `{symbol}`"))
    })?;
    let instrument = market.registry().get(id).clone();
    let ticks: Vec<Tick> = market.filter(|t| t.symbol == id).take(n).collect();
    if ticks.len() < n {
        return Err(PipelineError::Config(format!(
            "the synthetic market ended after {} ticks of `{symbol}`, {n} wanted",
            ticks.len()
        )));
    }
    Ok(SymbolTicks {
        symbol: id,
        instrument,
        ticks,
    })
}

/// One symbol's per-tick decision chain, features → model → signal → risk, with the
/// default configuration, the same state machines the graph's `per_symbol` stages run.
#[derive(Debug, Clone)]
pub struct Chain {
    features: Features,
    model: Forecaster,
    signal: BarSignal,
    risk: RiskSizer,
}

impl Chain {
    /// Fresh state for `symbol`, trading `instrument`.
    pub fn new(symbol: SymbolId, instrument: Instrument) -> Self {
        Self {
            features: Features::new(symbol, FeatureConfig::default()),
            model: Forecaster::new(ForecasterConfig::default())
                .expect("the default model configuration is valid"),
            signal: BarSignal::new(BarSignalConfig::default())
                .expect("the default signal configuration is valid"),
            risk: RiskSizer::new(instrument, RiskConfig::default()),
        }
    }

    /// Fresh state for the symbol of `ticks`, warmed up by running every tick through it.
    pub fn warmed(ticks: &SymbolTicks) -> Self {
        let mut chain = Self::new(ticks.symbol, ticks.instrument.clone());
        for tick in &ticks.ticks {
            std::hint::black_box(chain.update(tick));
        }
        chain
    }

    /// Run one tick through the chain; the sizing if the target position changed.
    ///
    /// Every tick yields a feature vector and a forecast; only a change of direction
    /// yields a signal, and only a signal that moves the target yields a new sizing
    /// (against an account of 1,000,000 with nothing else held).
    #[inline]
    pub fn update(&mut self, tick: &Tick) -> Option<Sizing> {
        let features = self.features.update(tick);
        let forecast = self.model.update(&features);
        let signal = self.signal.update(&forecast)?;
        let account = AccountView {
            equity: Decimal::from(1_000_000),
            other_gross_exposure: Decimal::ZERO,
            tier: TierLimits::NONE,
        };
        self.risk.update(&signal, &account)
    }
}

/// One-minute (or `width`-ns) candles of `ticks`' trades, as the indicators see them.
pub fn symbol_bars(ticks: &SymbolTicks, width: bot4_schemas::Nanos) -> Vec<Candle> {
    let mut bars = TimeBars::new(width);
    let mut out: Vec<Candle> = ticks
        .ticks
        .iter()
        .filter_map(|t| bars.update(t))
        .map(|b| Candle::from_bar(&b))
        .collect();
    out.extend(bars.finish().map(|b| Candle::from_bar(&b)));
    out
}

/// Seeded standard normals (an LCG and Box-Muller), for the model benchmarks' series.
pub fn gaussians(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u1, u2) = (uniform(), uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        })
        .collect()
}

/// A cursor that walks a slice forever, wrapping at the end.
///
/// At each wrap the event time jumps back to the first tick's; the feature stage
/// clamps the negative gap to zero and sees one large return, once per pass.
#[derive(Debug, Clone)]
pub struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    /// A cursor at the start of `items`, which must not be empty.
    pub fn new(items: &'a [T]) -> Self {
        assert!(!items.is_empty(), "cannot cycle over nothing");
        Self { items, next: 0 }
    }

    /// The next item.
    #[inline]
    pub fn next_item(&mut self) -> &'a T {
        let item = &self.items[self.next];
        self.next += 1;
        if self.next == self.items.len() {
            self.next = 0;
        }
        item
    }
}

/// `p` (0–1) of sorted nanosecond samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One line of latency percentiles (p50, p99, p99.9, max, mean) of nanosecond samples,
/// which it sorts.
pub fn latency_line(name: &str, samples: &mut [u64]) -> String {
    if samples.is_empty() {
        return format!("{name:<22} no samples");
    }
    samples.sort_unstable();
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64;
    format!(
        "{name:<22} p50 {:>6} ns  p99 {:>6} ns  p99.9 {:>6} ns  max {:>8} ns  mean {mean:>7.1} ns",
        percentile(samples, 0.50),
        percentile(samples, 0.99),
        percentile(samples, 0.999),
        samples.last().copied().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_ticks_are_one_symbol_in_order() {
        let s = symbol_ticks(CHAIN_SYMBOL, 2_000, 1).expect("ticks");
        assert_eq!(s.ticks.len(), 2_000);
        assert!(s.ticks.iter().all(|t| t.symbol == s.symbol));
        assert!(s
            .ticks
            .windows(2)
            .all(|w| (w[0].ts, w[0].seq) < (w[1].ts, w[1].seq)));
        assert_eq!(s.instrument.symbol, CHAIN_SYMBOL);
    }

    #[test]
    fn cycle_wraps() {
        let items = [1, 2, 3];
        let mut c = Cycle::new(&items);
        let seen: Vec<i32> = (0..7).map(|_| *c.next_item()).collect();
        assert_eq!(seen, [1, 2, 3, 1, 2, 3, 1]);
    }
}

/// xorshift64*: a fixed, seeded stream for the order benches' inputs (`desk_bench`,
/// `venue_throughput`), cheaper than the simulation it feeds.
#[derive(Debug, Clone)]
pub struct XorShift(pub u64);

impl XorShift {
    /// The next draw.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A draw in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Buy or sell, evenly.
    pub fn side(&mut self) -> bot4_schemas::Side {
        if self.below(2) == 0 {
            bot4_schemas::Side::Buy
        } else {
            bot4_schemas::Side::Sell
        }
    }
}

/// The instrument the order benches trade: `BTC-USDT` on a 0.1 tick, 0.001 lot and a
/// 5 USDT minimum notional.
pub fn bench_instrument() -> Instrument {
    Instrument {
        symbol: "BTC-USDT".into(),
        tick_size: Decimal::new(1, 1),
        lot_size: Decimal::new(1, 3),
        min_notional: Decimal::new(5, 0),
    }
}
