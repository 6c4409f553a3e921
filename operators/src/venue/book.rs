//! What the venue knows of the market: the last quote with the size our fills have
//! left of it, the liquidity beyond the touch, and the event-time estimates of daily
//! volume and volatility behind the impact law.
//!
//! The touch is the last quote's. Behind it are the L2 levels depth ticks announced
//! ([`Depth`](super::ladder::Depth)), which a marketable order walks first; what it
//! still wants past the deepest known level (or past the touch, on a side without
//! levels) [`Book::beyond_touch`] prices on a synthetic square-root curve, never better
//! than the deepest level.

use bot4_schemas::{Instrument, Nanos, Side, TickKind};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

use super::config::EstimateConfig;
use super::gateway::DAY;

/// The last quote seen, and how much of it our fills have used.
#[derive(Debug, Clone, Copy)]
pub(super) struct Book {
    pub(super) bid: Decimal,
    pub(super) ask: Decimal,
    /// The displayed sizes of the quote (zero when its price is not positive).
    pub(super) bid_size: Decimal,
    pub(super) ask_size: Decimal,
    /// Bid size not yet taken by our sells; ask size not yet taken by our buys.
    pub(super) bid_left: Decimal,
    pub(super) ask_left: Decimal,
    /// What our orders took beyond the touch since the quote, per side of the book:
    /// of the known levels and on the curve.
    bid_walked: Decimal,
    ask_walked: Decimal,
}

impl Book {
    pub(super) fn new(bid: Decimal, bid_size: Decimal, ask: Decimal, ask_size: Decimal) -> Self {
        let size = |price: Decimal, size: Decimal| {
            if price > Decimal::ZERO && size > Decimal::ZERO {
                size
            } else {
                Decimal::ZERO
            }
        };
        let (bid_size, ask_size) = (size(bid, bid_size), size(ask, ask_size));
        Self {
            bid,
            ask,
            bid_size,
            ask_size,
            bid_left: bid_size,
            ask_left: ask_size,
            bid_walked: Decimal::ZERO,
            ask_walked: Decimal::ZERO,
        }
    }

    pub(super) fn mid(&self) -> Decimal {
        (self.bid + self.ask) / Decimal::TWO
    }

    /// The touch an order on `taker` side trades against (zero when that side of the
    /// book is empty), and the size left there.
    pub(super) fn touch(&self, taker: Side) -> (Decimal, Decimal) {
        match taker {
            Side::Buy => (self.ask, self.ask_left),
            Side::Sell => (self.bid, self.bid_left),
        }
    }

    pub(super) fn take_touch(&mut self, taker: Side, qty: Decimal) {
        match taker {
            Side::Buy => self.ask_left -= qty,
            Side::Sell => self.bid_left -= qty,
        }
    }

    /// Up to `qty` for an order on `taker` side past the displayed size, no worse than
    /// `limit`: the quantity that fills and its price, if any. `deepest` is the price of
    /// the deepest known level on that side, if any.
    ///
    /// The synthetic curve: with `W` taken beyond the touch since the quote (of the
    /// levels and on the curve), `q` more fill at `touch · (1 ± Y·σ_d·√((W + q)/V))` (+
    /// for buys), rounded to the tick grid away from the order, and no better than
    /// `deepest`. A limit caps `q` where the curve reaches it, floored to the lot grid.
    pub(super) fn beyond_touch(
        &self,
        taker: Side,
        qty: Decimal,
        limit: Option<Decimal>,
        deepest: Option<Decimal>,
        curve: &SqrtImpact,
        instrument: &Instrument,
    ) -> Option<(Decimal, Decimal)> {
        let (touch, _) = self.touch(taker);
        let walked = match taker {
            Side::Buy => self.ask_walked,
            Side::Sell => self.bid_walked,
        };
        let touch_f = touch.to_f64()?;
        let walked_f = walked.to_f64()?;
        let mut q = qty;
        if let Some(limit) = limit {
            // Where touch · (1 ± k·√(x/V)) reaches the limit: x = V · (|limit/touch − 1| / k)².
            let gap = (limit.to_f64()? / touch_f - 1.0).abs();
            let total = curve.volume * (gap / curve.k).powi(2);
            // A hair inside the curve, so that float rounding never prices the last lot
            // past the limit.
            let room = total * (1.0 - 1e-9) - walked_f;
            if room < qty.to_f64()? {
                q = instrument.floor_qty(Decimal::from_f64(room.max(0.0))?);
            }
        }
        if q <= Decimal::ZERO {
            return None;
        }
        let frac = curve.k * ((walked_f + q.to_f64()?) / curve.volume).sqrt();
        // Beyond a millionfold move the curve means nothing (and the price could overflow).
        if !(0.0..1e6).contains(&frac) {
            return None;
        }
        let frac = Decimal::from_f64(frac)?;
        let price = match taker {
            Side::Buy => instrument
                .round_price(touch * (Decimal::ONE + frac), true)
                .max(deepest.unwrap_or(Decimal::ZERO)),
            Side::Sell => {
                let price = instrument.round_price(touch * (Decimal::ONE - frac), false);
                deepest.map_or(price, |deepest| price.min(deepest))
            }
        };
        let within = match (taker, limit) {
            (_, None) => true,
            (Side::Buy, Some(limit)) => price <= limit,
            (Side::Sell, Some(limit)) => price >= limit,
        };
        (price > Decimal::ZERO && within).then_some((q, price))
    }

    pub(super) fn walk(&mut self, taker: Side, qty: Decimal) {
        match taker {
            Side::Buy => self.ask_walked += qty,
            Side::Sell => self.bid_walked += qty,
        }
    }
}

/// The square-root impact law with its current inputs.
#[derive(Debug, Clone, Copy)]
pub(super) struct SqrtImpact {
    /// `Y · σ_d`.
    k: f64,
    /// Daily volume `V`, in base units.
    volume: f64,
}

/// Event-time estimates of the symbol's daily traded volume and daily mid volatility.
///
/// Every quote and trade discounts three sums by `exp(−Δt/τ)` for the time `Δt` since
/// the previous one: `S_t += Δt` (time), `S_v += size` on a trade, `S_r += r²` on a quote
/// with the log return `r` of the mid since the previous quote. Then `V = DAY · S_v/S_t`
/// and `σ_d = √(DAY · S_r/S_t)`: the exponentially weighted rates, per day. Depth ticks
/// are not seen.
#[derive(Debug, Clone)]
pub(super) struct Estimates {
    config: EstimateConfig,
    first: Option<Nanos>,
    last: Nanos,
    ln_mid: Option<f64>,
    time: f64,
    volume: f64,
    squares: f64,
    trades: u32,
}

impl Estimates {
    pub(super) fn new(config: EstimateConfig) -> Self {
        Self {
            config,
            first: None,
            last: 0,
            ln_mid: None,
            time: 0.0,
            volume: 0.0,
            squares: 0.0,
            trades: 0,
        }
    }

    /// Depth ticks are not seen: the estimates of a feed are the same with or without
    /// its L2 updates.
    pub(super) fn on_tick(&mut self, ts: Nanos, kind: &TickKind) {
        if matches!(kind, TickKind::Depth { .. }) {
            return;
        }
        if self.first.is_none() {
            self.first = Some(ts);
            self.last = ts;
        }
        let dt = ts.saturating_sub(self.last);
        if dt > 0 {
            let dt = dt as f64;
            let decay = (-dt / self.config.time_constant_ns as f64).exp();
            self.time = self.time * decay + dt;
            self.volume *= decay;
            self.squares *= decay;
            self.last = ts;
        }
        match *kind {
            TickKind::Quote { bid, ask, .. } => {
                if bid > Decimal::ZERO && ask >= bid {
                    if let Some(mid) = ((bid + ask) / Decimal::TWO).to_f64() {
                        let ln_mid = mid.ln();
                        if let Some(previous) = self.ln_mid {
                            self.squares += (ln_mid - previous).powi(2);
                        }
                        self.ln_mid = Some(ln_mid);
                    }
                }
            }
            TickKind::Trade { size, .. } => {
                self.volume += size.to_f64().unwrap_or(0.0).max(0.0);
                self.trades = self.trades.saturating_add(1);
            }
            // Not seen: returned above.
            TickKind::Depth { .. } => {}
        }
    }

    /// `(V, σ_d)` once warm: `warmup_ns` of event time since the first tick, at least
    /// `min_trades` trades, and both positive.
    pub(super) fn daily(&self) -> Option<(f64, f64)> {
        let first = self.first?;
        if self.last.saturating_sub(first) < self.config.warmup_ns
            || self.trades < self.config.min_trades
            || self.time <= 0.0
        {
            return None;
        }
        let day = DAY as f64;
        let volume = day * self.volume / self.time;
        let sigma = (day * self.squares / self.time).sqrt();
        (volume > 0.0 && sigma > 0.0 && volume.is_finite() && sigma.is_finite())
            .then_some((volume, sigma))
    }

    /// The impact curve with coefficient `y`, once warm.
    pub(super) fn curve(&self, y: f64) -> Option<SqrtImpact> {
        let (volume, sigma) = self.daily()?;
        Some(SqrtImpact {
            k: y * sigma,
            volume,
        })
    }
}
