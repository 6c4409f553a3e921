//! The latent processes of the synthetic market: GARCH(1,1) variance components with
//! Student-t innovations and jumps, and the per-symbol book that turns a latent price
//! into quotes and trades on the symbol's grids.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use bot4_schemas::{Nanos, Side, SymbolId, Tick, TickKind};

use super::universe::{Grid, SymbolSpec, MIN_NOTIONAL};
use super::YEAR_SECONDS;

/// GARCH reaction to the last interval's squared return.
pub(super) const GARCH_ALPHA: f64 = 0.10;
/// GARCH persistence of the conditional variance.
pub(super) const GARCH_BETA: f64 = 0.88;
/// The conditional variance never exceeds this multiple of its long-run level.
const VARIANCE_CAP: f64 = 100.0;
/// Innovations are Student-t(4), truncated at this many standard deviations.
const INNOVATION_LIMIT: f64 = 30.0;
/// Per-step probability that a symbol updates its quote.
pub(super) const QUOTE_PROBABILITY: f64 = 0.6;
/// Per-step probability that a symbol trades, at its long-run volatility; it scales with
/// the ratio of conditional to long-run volatility.
pub(super) const TRADE_PROBABILITY: f64 = 0.4;
/// Standard deviation of the log noise on each quoted spread.
const SPREAD_NOISE: f64 = 0.25;
/// Standard deviation of the log of each quoted size.
const DEPTH_NOISE: f64 = 0.7;
/// Median trade value as a fraction of the median depth, and its log dispersion.
const TRADE_FRACTION: f64 = 0.02;
const TRADE_NOISE: f64 = 1.2;
/// How strongly the aggressor side follows the sign of the step's return.
const FLOW_TILT: f64 = 0.25;

/// A standardised Student-t(4) draw: `N / √(E₁ + E₂)`, since `2(E₁ + E₂)` is χ²(4) and
/// a t(4) variable has variance 2. Truncated at [`INNOVATION_LIMIT`].
#[inline]
pub(super) fn student_t4(rng: &mut ChaCha8Rng) -> f64 {
    let n: f64 = rng.sample(StandardNormal);
    let e1: f64 = rng.sample(Exp1);
    let e2: f64 = rng.sample(Exp1);
    (n / (e1 + e2).sqrt()).clamp(-INNOVATION_LIMIT, INNOVATION_LIMIT)
}

/// One return component: continuous Student-t moves whose variance follows GARCH(1,1)
/// on the interval clock, plus compound-Poisson Gaussian jumps.
///
/// Invariant: `0 < variance ≤ VARIANCE_CAP · long_run`.
#[derive(Debug, Clone)]
pub(super) struct Component {
    /// Long-run per-step variance of the continuous part.
    long_run: f64,
    /// Conditional per-step variance of the continuous part.
    variance: f64,
    /// Per-step jump probability.
    jump_probability: f64,
    /// Standard deviation of a jump, in log-price.
    jump_sd: f64,
    /// Sum of this interval's returns so far.
    interval_return: f64,
}

impl Component {
    /// A component of annualised volatility `annual_vol` on steps of `step_years`, with
    /// `jumps_per_year` jumps whose standard deviation is `jump_size` times the long-run
    /// standard deviation of a one-minute return.
    pub fn new(annual_vol: f64, step_years: f64, jumps_per_year: f64, jump_size: f64) -> Self {
        let long_run = annual_vol * annual_vol * step_years;
        let minute_sd = annual_vol * (60.0 / YEAR_SECONDS).sqrt();
        Self {
            long_run,
            variance: long_run,
            jump_probability: (jumps_per_year * step_years).min(1.0),
            jump_sd: jump_size * minute_sd,
            interval_return: 0.0,
        }
    }

    /// Run the variance recursion for `intervals` intervals of Gaussian returns, so that
    /// the first interval starts from a draw of the stationary distribution rather than
    /// from the long-run level.
    pub fn burn_in(&mut self, intervals: usize, rng: &mut ChaCha8Rng) {
        for _ in 0..intervals {
            let z: f64 = rng.sample(StandardNormal);
            self.update(self.variance * z * z);
        }
    }

    /// This step's return.
    #[inline]
    pub fn draw(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        let mut r = self.variance.sqrt() * student_t4(rng);
        if rng.random::<f64>() < self.jump_probability {
            let z: f64 = rng.sample(StandardNormal);
            r += self.jump_sd * z;
        }
        self.interval_return += r;
        r
    }

    /// Close an interval of `steps` steps: `H ← ω + α R² + β H` on the per-interval
    /// variance `H = steps · variance`.
    pub fn end_interval(&mut self, steps: f64) {
        let r = std::mem::take(&mut self.interval_return);
        self.update(r * r / steps);
    }

    fn update(&mut self, squared_return_per_step: f64) {
        let next = (1.0 - GARCH_ALPHA - GARCH_BETA) * self.long_run
            + GARCH_ALPHA * squared_return_per_step
            + GARCH_BETA * self.variance;
        self.variance = next.min(VARIANCE_CAP * self.long_run);
    }

    /// Conditional per-step variance.
    #[inline]
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// Long-run per-step variance.
    pub fn long_run(&self) -> f64 {
        self.long_run
    }
}

/// The last quote a symbol published, in grid units.
#[derive(Debug, Clone, Copy)]
struct Book {
    bid: i64,
    ask: i64,
    bid_lots: i64,
    ask_lots: i64,
}

/// One symbol: its latent log price, its idiosyncratic component and its book.
#[derive(Debug, Clone)]
pub(super) struct SymbolProcess {
    id: SymbolId,
    rng: ChaCha8Rng,
    beta: f64,
    idio: Component,
    log_price: f64,
    /// Long-run per-step variance of the symbol's continuous return.
    long_run: f64,
    half_spread: f64,
    depth: f64,
    tick: Grid,
    inv_tick: f64,
    tick_value: f64,
    lot: Grid,
    lot_value: f64,
    book: Option<Book>,
    levels: Option<DepthBook>,
}

/// When and how deep a symbol publishes its book behind the touch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DepthConfig {
    levels: usize,
    interval: Nanos,
    first: Nanos,
}

impl DepthConfig {
    /// A book of `rng`'s draws.
    pub fn build(self, rng: ChaCha8Rng) -> DepthBook {
        DepthBook {
            config: self,
            rng,
            due: self.first,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }
}

/// A symbol's published levels behind the touch, and when the next snapshot is due.
#[derive(Debug, Clone)]
pub(crate) struct DepthBook {
    config: DepthConfig,
    rng: ChaCha8Rng,
    due: Nanos,
    /// The prices (in ticks) of the last snapshot's levels.
    bids: Vec<i64>,
    asks: Vec<i64>,
}

impl DepthBook {
    /// Snapshots of `levels` levels every `interval` from `first`; `None` without levels.
    pub fn config(levels: usize, interval: Nanos, first: Nanos) -> Option<DepthConfig> {
        (levels > 0).then_some(DepthConfig {
            levels,
            interval,
            first,
        })
    }
}

impl SymbolProcess {
    /// The process of `spec` with id `id`, loading `spec.beta` on a market factor whose
    /// long-run per-step variance is `market_long_run`.
    pub fn new(
        id: SymbolId,
        spec: &SymbolSpec,
        rng: ChaCha8Rng,
        idio: Component,
        market_long_run: f64,
    ) -> Self {
        let tick_value = spec.tick.step_f64();
        Self {
            id,
            rng,
            beta: spec.beta,
            long_run: spec.beta * spec.beta * market_long_run + idio.long_run(),
            idio,
            log_price: spec.price.ln(),
            half_spread: spec.half_spread,
            depth: spec.depth,
            tick: spec.tick,
            inv_tick: 1.0 / tick_value,
            tick_value,
            lot: spec.lot,
            lot_value: spec.lot.step_f64(),
            book: None,
            levels: None,
        }
    }

    /// The same process, publishing depth snapshots from `depth` when given.
    pub fn with_depth(mut self, depth: Option<DepthBook>) -> Self {
        self.levels = depth;
        self
    }

    /// The idiosyncratic component, for the interval clock.
    pub fn idio_mut(&mut self) -> &mut Component {
        &mut self.idio
    }

    /// Advance one step of `len` ns starting at `t0`, given the market factor's return
    /// `factor` and conditional variance `market_variance`, and push this step's ticks
    /// (with `seq` 0; the caller numbers them) to `out`.
    ///
    /// A step publishes a quote with probability [`QUOTE_PROBABILITY`] (always on the
    /// first step, so that every trade has a quote to print at) and a trade with
    /// probability [`TRADE_PROBABILITY`] times the volatility ratio. When both happen the
    /// quote comes first and the trade prints at it; a trade alone prints at the last
    /// quote. Their times are distinct, so `(ts, symbol, kind)` orders them.
    pub fn step(
        &mut self,
        factor: f64,
        market_variance: f64,
        t0: Nanos,
        len: Nanos,
        out: &mut Vec<Tick>,
    ) {
        let idio = self.idio.draw(&mut self.rng);
        let r = self.beta * factor + idio;
        self.log_price += r;

        let variance = self.beta * self.beta * market_variance + self.idio.variance();
        let vol_ratio = (variance / self.long_run).sqrt();
        let quote = self.book.is_none() || self.rng.random::<f64>() < QUOTE_PROBABILITY;
        let trade =
            len >= 2 && self.rng.random::<f64>() < (TRADE_PROBABILITY * vol_ratio).clamp(0.02, 0.9);
        if !quote && !trade {
            return;
        }
        let (first, second) = self.offsets(len, quote && trade);
        if quote {
            let price = self.log_price.exp();
            let book = self.requote(price, vol_ratio);
            out.push(Tick {
                ts: t0 + first,
                seq: 0,
                symbol: self.id,
                kind: TickKind::Quote {
                    bid: self.tick.times(book.bid),
                    bid_size: self.lot.times(book.bid_lots),
                    ask: self.tick.times(book.ask),
                    ask_size: self.lot.times(book.ask_lots),
                },
            });
            self.publish_depth(t0 + first, book, out);
        }
        if let (true, Some(book)) = (trade, self.book) {
            let surprise = r / variance.sqrt();
            let buy_probability = 0.5 + FLOW_TILT * surprise.tanh();
            let (side, ticks, touch_lots) = if self.rng.random::<f64>() < buy_probability {
                (Side::Buy, book.ask, book.ask_lots)
            } else {
                (Side::Sell, book.bid, book.bid_lots)
            };
            let lot_notional = ticks as f64 * self.tick_value * self.lot_value;
            let noise: f64 = self.rng.sample(StandardNormal);
            let value = TRADE_FRACTION * self.depth * (TRADE_NOISE * noise).exp();
            // Never more than is shown at the touch, never less than the minimum notional
            // (the touch always shows at least that much).
            let lots = ((value / lot_notional).round() as i64)
                .min(touch_lots)
                .max(min_lots(lot_notional));
            out.push(Tick {
                ts: t0 + if quote { second } else { first },
                seq: 0,
                symbol: self.id,
                kind: TickKind::Trade {
                    price: self.tick.times(ticks),
                    size: self.lot.times(lots),
                    aggressor: side,
                },
            });
        }
    }

    /// Offsets inside a step of `len` ns: the first for a lone event, both (strictly
    /// increasing) when a quote and a trade share the step. Needs `len ≥ 2` for `pair`.
    fn offsets(&mut self, len: Nanos, pair: bool) -> (Nanos, Nanos) {
        let a = self.rng.random_range(0..len);
        if !pair {
            return (a, a);
        }
        let b = self.rng.random_range(0..len);
        match a.cmp(&b) {
            std::cmp::Ordering::Less => (a, b),
            std::cmp::Ordering::Greater => (b, a),
            std::cmp::Ordering::Equal if a + 1 < len => (a, a + 1),
            std::cmp::Ordering::Equal => (a - 1, a),
        }
    }

    /// A fresh quote around `price`: half-spread proportional to the volatility ratio
    /// with log-normal noise, widened to the grid (at least one tick), and log-normal
    /// sizes of at least the minimum notional.
    fn requote(&mut self, price: f64, vol_ratio: f64) -> Book {
        let n: f64 = self.rng.sample(StandardNormal);
        let half = self.half_spread
            * vol_ratio
            * (SPREAD_NOISE * n - 0.5 * SPREAD_NOISE * SPREAD_NOISE).exp();
        let centre = price * self.inv_tick;
        let bid = ((centre * (1.0 - half)).floor() as i64).max(1);
        let ask = ((centre * (1.0 + half)).ceil() as i64).max(bid + 1);
        let bid_lots = self.depth_lots(bid);
        let ask_lots = self.depth_lots(ask);
        let book = Book {
            bid,
            ask,
            bid_lots,
            ask_lots,
        };
        self.book = Some(book);
        book
    }

    /// A log-normal displayed size at `ticks`, in lots.
    fn depth_lots(&mut self, ticks: i64) -> i64 {
        self.sized_lots(ticks, 1.0, Draw::Price)
    }

    /// A log-normal displayed size at `ticks` of median `scale` times the touch's median
    /// depth, drawn from the price process's stream or the depth book's.
    fn sized_lots(&mut self, ticks: i64, scale: f64, from: Draw) -> i64 {
        let n: f64 = match (from, self.levels.as_mut()) {
            (Draw::Depth, Some(depth)) => depth.rng.sample(StandardNormal),
            _ => self.rng.sample(StandardNormal),
        };
        let lot_notional = ticks as f64 * self.tick_value * self.lot_value;
        let value = scale * self.depth * (DEPTH_NOISE * n - 0.5 * DEPTH_NOISE * DEPTH_NOISE).exp();
        ((value / lot_notional).round() as i64).max(min_lots(lot_notional))
    }

    /// After a quote at `ts` showing `book`: the depth snapshot, if one is due. Levels of
    /// the previous snapshot not in this one go first, with size zero; then this one's,
    /// bids then asks, from the touch outwards.
    fn publish_depth(&mut self, ts: Nanos, book: Book, out: &mut Vec<Tick>) {
        let Some(depth) = self.levels.as_mut() else {
            return;
        };
        if ts < depth.due {
            return;
        }
        let config = depth.config;
        // The next snapshot is due one interval after this one was (skipping any missed).
        let behind = (ts - depth.due) / config.interval;
        depth.due += (behind + 1) * config.interval;
        let gap = (book.ask - book.bid).max(1);
        let bids: Vec<i64> = (1..=config.levels as i64)
            .map(|k| book.bid - k * gap)
            .filter(|&p| p > 0)
            .collect();
        let asks: Vec<i64> = (1..=config.levels as i64)
            .map(|k| book.ask + k * gap)
            .collect();
        let (old_bids, old_asks) = (
            std::mem::replace(&mut depth.bids, bids.clone()),
            std::mem::replace(&mut depth.asks, asks.clone()),
        );
        let (id, tick, lot) = (self.id, self.tick, self.lot);
        let level = move |side: Side, ticks: i64, lots: i64| Tick {
            ts,
            seq: 0,
            symbol: id,
            kind: TickKind::Depth {
                side,
                price: tick.times(ticks),
                size: lot.times(lots),
            },
        };
        for (side, old, new) in [
            (Side::Buy, &old_bids, &bids),
            (Side::Sell, &old_asks, &asks),
        ] {
            for &p in old.iter().filter(|p| !new.contains(p)) {
                out.push(level(side, p, 0));
            }
        }
        for (side, levels) in [(Side::Buy, bids), (Side::Sell, asks)] {
            for (k, p) in levels.into_iter().enumerate() {
                let lots = self.sized_lots(p, 1.0 + 0.5 * (k + 1) as f64, Draw::Depth);
                out.push(level(side, p, lots));
            }
        }
    }
}

/// Which stream a size is drawn from.
#[derive(Debug, Clone, Copy)]
enum Draw {
    Price,
    Depth,
}

/// The fewest lots worth at least [`MIN_NOTIONAL`] when one lot is worth `lot_notional`.
#[inline]
fn min_lots(lot_notional: f64) -> i64 {
    ((MIN_NOTIONAL / lot_notional).ceil() as i64).max(1)
}
