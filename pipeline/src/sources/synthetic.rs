//! A deterministic synthetic crypto market: trades and top-of-book quotes for N symbols
//! with the stylised facts of crypto markets, generated step by step in constant memory.
//!
//! # Model
//!
//! Time runs on a fixed clock of step `Δ = 1 / events_per_second` seconds. Every
//! `K = max(1, round(60 s / Δ))` steps close a *variance interval* (one minute at the
//! default rate). At step `k`, for the common market factor `M` and each symbol `i`:
//!
//! ```text
//! f_k    = √h_M · z_Mk + J_Mk                   market factor return
//! e_ik   = √h_i · z_ik + J_ik                   idiosyncratic return
//! x_ik   = x_i,k-1 + β_i · f_k + e_ik           log mid price
//! ```
//!
//! - `z` are Student-t(ν = 4) innovations scaled to unit variance (truncated at 30):
//!   fat tails.
//! - `J` are compound-Poisson jumps, `N(0, s²)` with probability `λΔ` per step: the
//!   market jumps twice a day and each symbol on its own once a day, with `s` six
//!   long-run one-minute standard deviations of the component.
//! - `h` are per-step conditional variances that follow GARCH(1,1) on the interval
//!   clock: with `R` the component's summed return over the interval (jumps included),
//!   `K·h ← (1 − α − β)·K·h̄ + α·R² + β·K·h`, `α = 0.10`, `β = 0.88` (half-life ≈ 34
//!   intervals), capped at `100·h̄`. Each variance starts from a one-day burn-in.
//!   Volatility clusters, and spikes after jumps.
//! - `h̄_M` gives the market factor 45 % annualised volatility; `β_i` (0.6–1.2) and the
//!   idiosyncratic `h̄_i` (15–80 % annualised) give each symbol 40–100 % in total, and
//!   pairwise correlation `β_i β_j σ²_M / (σ_i σ_j)` of about 0.3–0.8.
//!
//! The book of symbol `i` turns the latent price `p = exp(x_i)` into grid prices. With
//! the volatility ratio `v = √((β_i² h_M + h_i) / (β_i² h̄_M + h̄_i))`:
//!
//! ```text
//! half-spread = s_i · v · exp(0.25·n − 0.03125)   (relative, n ~ N(0, 1))
//! bid = ⌊p(1 − half)/tick⌋·tick,  ask = max(⌈p(1 + half)/tick⌉, bid/tick + 1)·tick
//! ```
//!
//! so the spread is at least one tick and widens with the conditional volatility. Each
//! step a symbol publishes a quote with probability 0.6 and trades with probability
//! `min(0.4·v, 0.9)` (at least 0.02), about one tick per symbol per step. A trade
//! prints at the ask (buy aggressor) or bid (sell aggressor) of the symbol's current
//! quote; buys are likelier after an up-move (`P(buy) = 0.5 + 0.25·tanh(r/σ)`). Quoted
//! and traded sizes are log-normal in value, on the lot grid, at least the 5 USDT
//! minimum notional, and a trade never exceeds the size shown at its touch.
//!
//! With `depth_levels = L > 0`, a symbol also publishes a depth snapshot every
//! `depth_interval` of event time, with its first quote at or after the snapshot is due
//! and at the quote's time: `L` levels behind each touch, one spread apart
//! (`g = ask − bid` ticks: bids at `bid − k·g`, asks at `ask + k·g`, `k = 1..L`), each
//! with a log-normal size of median `(1 + k/2)` times the touch's median depth, and a
//! zero-size update for each level of the previous snapshot that is not in this one.
//! Between snapshots the levels stand still while the touch moves; a consumer drops the
//! levels the touch has reached (as the venue does). Depth draws come from their own
//! streams, so the quotes and trades are the same with or without depth.
//!
//! # Symbols
//!
//! The universe lists 30 well-known bases against USDT in rough order of liquidity
//! (`BTC-USDT` at 60 000, `ETH-USDT` at 3 000, `SOL-USDT` at 150, … `PEPE-USDT` at
//! 0.000012), then `SYN031-USDT`, `SYN032-USDT`, … with log-uniform prices in
//! 0.01–500. The `i`-th symbol (from 0) has half-spread `s_i = min(0.3 + 0.08·i, 5)`
//! basis points at average volatility and median displayed depth `max(250 000/(1 + i),
//! 5 000)` USDT. Its tick is `10^(⌊log₁₀ p₀⌋ − 5)` (about 1e-5 of the starting price),
//! its lot `10^⌈−log₁₀ p₀⌉` (one lot is worth 1–10 USDT) and its minimum notional 5
//! USDT.
//!
//! # Determinism
//!
//! All randomness comes from ChaCha8 seeded with the config's seed: stream 0 drives the
//! market factor and stream `i + 1` the `i`-th symbol of the universe, so a symbol's
//! draws do not depend on how many others there are. Ticks are emitted step by step,
//! each step's events sorted by `(ts, symbol, quote before depth before trade)`, and
//! `seq` counts from 0 in that order.

mod process;
mod universe;

#[cfg(test)]
mod tests;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use bot4_schemas::{
    Nanos, SchemaError, SymbolId, SymbolRegistry, Tick, TickKind, NANOS_PER_SECOND,
};

use process::{Component, DepthBook, SymbolProcess};
use universe::{SymbolSpec, MAX_SYMBOLS};

/// Seconds in a (365-day) year, to annualise volatilities.
pub(super) const YEAR_SECONDS: f64 = 365.0 * 86_400.0;
/// Length of a variance interval, in seconds.
const INTERVAL_SECONDS: f64 = 60.0;
/// Variance intervals simulated before the start, so the first one is not special.
const BURN_IN_INTERVALS: usize = 1_440;
/// Annualised volatility of the market factor's continuous part.
const MARKET_VOL: f64 = 0.45;
/// Market-wide jumps per day, and their standard deviation in long-run one-minute
/// standard deviations of the market factor.
const MARKET_JUMPS_PER_DAY: f64 = 2.0;
const MARKET_JUMP_SIZE: f64 = 6.0;
/// Idiosyncratic jumps per symbol per day, and their standard deviation in long-run
/// one-minute standard deviations of the symbol's idiosyncratic part.
const IDIO_JUMPS_PER_DAY: f64 = 1.0;
const IDIO_JUMP_SIZE: f64 = 6.0;
/// The highest clock rate: one step per microsecond.
const MAX_EVENTS_PER_SECOND: f64 = 1e6;
/// The most book levels behind the touch a depth snapshot publishes per side.
pub const MAX_DEPTH_LEVELS: usize = 50;
/// Depth draws use ChaCha8 streams from this one on (`DEPTH_STREAMS + i` for the `i`-th
/// symbol), apart from the price process's, so that adding depth changes no quote or
/// trade.
const DEPTH_STREAMS: u64 = 1 << 32;

/// What to generate.
///
/// # Examples
/// ```
/// use bot4_pipeline::sources::synthetic::{SyntheticConfig, SyntheticMarket};
/// let config = SyntheticConfig { symbols: 2, duration: 60_000_000_000, ..SyntheticConfig::default() };
/// let ticks: Vec<_> = SyntheticMarket::new(config).expect("valid config").collect();
/// assert!(ticks.len() > 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticConfig {
    /// How many symbols: the best-known bases first, then `SYN031-USDT`, … (at most 999).
    pub symbols: usize,
    /// Time of the first step, ns since the epoch.
    pub start_ts: Nanos,
    /// Length of the market; every tick has `start_ts ≤ ts < start_ts + duration`.
    pub duration: Nanos,
    /// Seeds every random draw.
    pub seed: u64,
    /// Clock steps per second. Each symbol emits about one tick per step.
    pub events_per_second: f64,
    /// Book levels behind the touch each side publishes in a depth snapshot (at most
    /// [`MAX_DEPTH_LEVELS`]); 0: top of book only, no depth ticks.
    pub depth_levels: usize,
    /// Event time between a symbol's depth snapshots; each is published with the
    /// symbol's first quote at or after it is due.
    pub depth_interval: Nanos,
}

impl Default for SyntheticConfig {
    /// 8 symbols for one hour from 2026-01-01T00:00:00Z, seed 1, 2 steps per second, no
    /// depth (a snapshot every 30 s once `depth_levels` is set).
    fn default() -> Self {
        Self {
            symbols: 8,
            start_ts: 1_767_225_600 * NANOS_PER_SECOND,
            duration: 3_600 * NANOS_PER_SECOND,
            seed: 1,
            events_per_second: 2.0,
            depth_levels: 0,
            depth_interval: 30 * NANOS_PER_SECOND,
        }
    }
}

/// Why a [`SyntheticConfig`] cannot be generated.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    /// `symbols` is 0.
    #[error("a synthetic market needs at least one symbol")]
    NoSymbols,
    /// `symbols` is more than the universe holds.
    #[error("{requested} symbols requested, a synthetic market has at most {max}")]
    TooManySymbols {
        /// What the config asked for.
        requested: usize,
        /// The limit.
        max: usize,
    },
    /// `duration` is zero or negative.
    #[error("duration must be positive, got {0} ns")]
    NonPositiveDuration(Nanos),
    /// `events_per_second` is zero, negative, infinite or NaN.
    #[error("events per second must be a positive finite number, got {0}")]
    BadRate(f64),
    /// `events_per_second` is above the supported maximum.
    #[error("events per second must be at most {max}, got {requested}")]
    RateTooHigh {
        /// What the config asked for.
        requested: f64,
        /// The limit.
        max: f64,
    },
    /// `depth_levels` is above the supported maximum.
    #[error("depth levels must be at most {max}, got {requested}")]
    TooManyDepthLevels {
        /// What the config asked for.
        requested: usize,
        /// The limit.
        max: usize,
    },
    /// `depth_interval` is not positive while depth levels are asked for.
    #[error("the depth interval must be positive, got {0} ns")]
    NonPositiveDepthInterval(Nanos),
    /// `start_ts + duration` does not fit in a timestamp.
    #[error("start {start} ns plus duration {duration} ns overflows the timestamp range")]
    TimeOverflow {
        /// The config's start.
        start: Nanos,
        /// The config's duration.
        duration: Nanos,
    },
    /// The generated instruments were rejected by the registry.
    #[error("synthetic instruments: {0}")]
    Registry(#[from] SchemaError),
}

/// A running synthetic market: a stream of [`Tick`]s in `(ts, seq)` order.
///
/// It holds one clock step of ticks at a time, so memory does not grow with the
/// duration. See the [module docs](self) for the model.
#[derive(Debug)]
pub struct SyntheticMarket {
    registry: SymbolRegistry,
    market_rng: ChaCha8Rng,
    market: Component,
    /// Indexed by `SymbolId`.
    symbols: Vec<SymbolProcess>,
    start: Nanos,
    end: Nanos,
    step_ns: f64,
    steps_per_interval: u64,
    /// The next step to generate.
    step: u64,
    next_seq: u64,
    /// The current step's ticks, sorted and numbered; `pending[cursor..]` are unsent.
    pending: Vec<Tick>,
    cursor: usize,
}

impl SyntheticMarket {
    /// A market generating `config`, or why it cannot.
    pub fn new(config: SyntheticConfig) -> Result<Self, SyntheticError> {
        let SyntheticConfig {
            symbols,
            start_ts,
            duration,
            seed,
            events_per_second: rate,
            depth_levels,
            depth_interval,
        } = config;
        if depth_levels > MAX_DEPTH_LEVELS {
            return Err(SyntheticError::TooManyDepthLevels {
                requested: depth_levels,
                max: MAX_DEPTH_LEVELS,
            });
        }
        if depth_levels > 0 && depth_interval <= 0 {
            return Err(SyntheticError::NonPositiveDepthInterval(depth_interval));
        }
        if symbols == 0 {
            return Err(SyntheticError::NoSymbols);
        }
        if symbols > MAX_SYMBOLS {
            return Err(SyntheticError::TooManySymbols {
                requested: symbols,
                max: MAX_SYMBOLS,
            });
        }
        if duration <= 0 {
            return Err(SyntheticError::NonPositiveDuration(duration));
        }
        if !rate.is_finite() || rate <= 0.0 {
            return Err(SyntheticError::BadRate(rate));
        }
        if rate > MAX_EVENTS_PER_SECOND {
            return Err(SyntheticError::RateTooHigh {
                requested: rate,
                max: MAX_EVENTS_PER_SECOND,
            });
        }
        let end = start_ts
            .checked_add(duration)
            .ok_or(SyntheticError::TimeOverflow {
                start: start_ts,
                duration,
            })?;

        let step_seconds = 1.0 / rate;
        let step_years = step_seconds / YEAR_SECONDS;
        let steps_per_interval = (INTERVAL_SECONDS / step_seconds).round().max(1.0) as u64;
        let stream = |n: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(n);
            rng
        };

        let mut market_rng = stream(0);
        let mut market = Component::new(
            MARKET_VOL,
            step_years,
            MARKET_JUMPS_PER_DAY * 365.0,
            MARKET_JUMP_SIZE,
        );
        market.burn_in(BURN_IN_INTERVALS, &mut market_rng);

        let mut specs = Vec::with_capacity(symbols);
        for index in 0..symbols {
            let mut rng = stream(index as u64 + 1);
            let spec = SymbolSpec::at(index, &mut rng);
            let depth_rng = stream(DEPTH_STREAMS + index as u64);
            let mut idio = Component::new(
                spec.idio_vol,
                step_years,
                IDIO_JUMPS_PER_DAY * 365.0,
                IDIO_JUMP_SIZE,
            );
            idio.burn_in(BURN_IN_INTERVALS, &mut rng);
            specs.push((spec, rng, idio, depth_rng));
        }
        let registry = SymbolRegistry::new(specs.iter().map(|(s, ..)| s.instrument()).collect())?;
        // The registry orders symbols by name; lay the processes out in id order.
        specs.sort_by(|(a, ..), (b, ..)| a.name.cmp(&b.name));
        let depth = DepthBook::config(depth_levels, depth_interval, start_ts);
        let symbols = specs
            .into_iter()
            .enumerate()
            .map(|(i, (spec, rng, idio, depth_rng))| {
                let id = SymbolId(i as u32);
                debug_assert_eq!(registry.id(&spec.name), Some(id));
                SymbolProcess::new(id, &spec, rng, idio, market.long_run())
                    .with_depth(depth.map(|d| d.build(depth_rng)))
            })
            .collect();

        Ok(Self {
            registry,
            market_rng,
            market,
            symbols,
            start: start_ts,
            end,
            step_ns: NANOS_PER_SECOND as f64 * step_seconds,
            steps_per_interval,
            step: 0,
            next_seq: 0,
            pending: Vec::new(),
            cursor: 0,
        })
    }

    /// The instruments being generated, with the ids the ticks carry.
    pub fn registry(&self) -> &SymbolRegistry {
        &self.registry
    }

    /// Appends up to `max` further ticks, in `(ts, seq)` order, to `out`; returns how many
    /// (0 when the market is finished, or when `max` is 0).
    ///
    /// # Examples
    /// ```
    /// use bot4_pipeline::sources::synthetic::{SyntheticConfig, SyntheticMarket};
    /// let mut market = SyntheticMarket::new(SyntheticConfig::default()).expect("valid config");
    /// let mut batch = Vec::with_capacity(1024);
    /// let mut total = 0;
    /// while market.fill(&mut batch, 1024) > 0 {
    ///     total += batch.len();
    ///     batch.clear();
    /// }
    /// assert!(total > 50_000); // 8 symbols × 7 200 steps, about one tick each
    /// ```
    pub fn fill(&mut self, out: &mut Vec<Tick>, max: usize) -> usize {
        let mut filled = 0;
        while filled < max {
            if self.cursor == self.pending.len() && !self.generate_step() {
                break;
            }
            let take = (self.pending.len() - self.cursor).min(max - filled);
            out.extend_from_slice(&self.pending[self.cursor..self.cursor + take]);
            self.cursor += take;
            filled += take;
        }
        filled
    }

    /// The first nanosecond of step `step`.
    fn step_start(&self, step: u64) -> Nanos {
        self.start
            .saturating_add((step as f64 * self.step_ns).round() as Nanos)
    }

    /// Replace `pending` with the next step's ticks; `false` once the market is over.
    fn generate_step(&mut self) -> bool {
        let t0 = self.step_start(self.step);
        if t0 >= self.end {
            return false;
        }
        let len = self.step_start(self.step + 1).min(self.end) - t0;
        self.pending.clear();
        self.cursor = 0;

        let factor = self.market.draw(&mut self.market_rng);
        let market_variance = self.market.variance();
        for symbol in &mut self.symbols {
            symbol.step(factor, market_variance, t0, len, &mut self.pending);
        }
        // A symbol's quote and trade in one step have distinct times; its depth updates
        // share the quote's time and follow it in the order they were pushed (a stable
        // sort).
        self.pending.sort_by_key(|t| {
            let rank = match t.kind {
                TickKind::Quote { .. } => 0u8,
                TickKind::Depth { .. } => 1,
                TickKind::Trade { .. } => 2,
            };
            (t.ts, t.symbol, rank)
        });
        for tick in &mut self.pending {
            tick.seq = self.next_seq;
            self.next_seq += 1;
        }

        self.step += 1;
        if self.step.is_multiple_of(self.steps_per_interval) {
            let steps = self.steps_per_interval as f64;
            self.market.end_interval(steps);
            for symbol in &mut self.symbols {
                symbol.idio_mut().end_interval(steps);
            }
        }
        true
    }
}

/// The same stream as [`SyntheticMarket::fill`], one tick at a time.
impl Iterator for SyntheticMarket {
    type Item = Tick;

    fn next(&mut self) -> Option<Tick> {
        while self.cursor == self.pending.len() {
            if !self.generate_step() {
                return None;
            }
        }
        let tick = self.pending[self.cursor];
        self.cursor += 1;
        Some(tick)
    }
}

impl std::iter::FusedIterator for SyntheticMarket {}
