//! The parameters of a [`SymbolVenue`](super::SymbolVenue): latency, fees, self-trade
//! prevention, market impact, rate limits and outages.

use bot4_schemas::{Liquidity, Nanos};
use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

/// Decimal places fees are rounded to.
const FEE_DP: u32 = 8;

/// One hour of event time.
const HOUR: Nanos = 3_600_000_000_000;

/// Every parameter of a [`SymbolVenue`](super::SymbolVenue).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VenueConfig {
    /// Order-entry latency: a message sent at `ts` reaches the venue at
    /// `ts + max(1 ns, draw)`, and never before the message sent before it.
    pub entry_latency: Latency,
    /// Acknowledgement latency: a report made at `ts` reaches the strategy at
    /// `ts + draw` (its `received_ts`).
    pub ack_latency: Latency,
    /// Maker and taker fee rates by 30-day quote volume, ascending by `min_volume`;
    /// the first tier's `min_volume` is zero.
    pub fee_tiers: Vec<FeeTier>,
    /// What happens when one of our orders would trade against another of ours.
    pub self_trade: SelfTradePrevention,
    /// `Y` of the square-root impact law, with which the part of a marketable order
    /// beyond the displayed size fills at once; `None` (or zero) leaves that part
    /// waiting for the next quote.
    pub impact_coef: Option<f64>,
    /// How the impact law's daily volume and volatility are estimated.
    pub estimates: EstimateConfig,
    /// The request rate limit; `None` for none.
    pub rate_limit: Option<RateLimit>,
    /// Outages at fixed times, as `[start, end)` windows of event time.
    pub outages: Vec<Outage>,
    /// Outages at random times; `None` for none.
    pub random_outages: Option<RandomOutages>,
}

impl Default for VenueConfig {
    /// Entry latency median 5 ms, ack latency median 2 ms (both σ 0.5); the fee tiers of
    /// [`FeeTier::default_tiers`]; cancel-new self-trade prevention; impact `Y = 0.5`; a
    /// bucket of 50 requests refilled at 10 per second; no outages.
    fn default() -> Self {
        Self {
            entry_latency: Latency {
                median_ns: 5_000_000,
                sigma: 0.5,
            },
            ack_latency: Latency {
                median_ns: 2_000_000,
                sigma: 0.5,
            },
            fee_tiers: FeeTier::default_tiers(),
            self_trade: SelfTradePrevention::CancelNew,
            impact_coef: Some(0.5),
            estimates: EstimateConfig::default(),
            rate_limit: Some(RateLimit {
                capacity: 50,
                refill_per_second: 10,
            }),
            outages: Vec::new(),
            random_outages: None,
        }
    }
}

/// A log-normal latency: `exp(ln(median_ns) + sigma · Z)` nanoseconds, `Z` standard
/// normal, rounded to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Latency {
    /// The median, in nanoseconds; at least 1.
    pub median_ns: Nanos,
    /// The standard deviation of its logarithm; zero gives exactly the median.
    pub sigma: f64,
}

/// The fee rates that apply from a 30-day quote volume on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FeeTier {
    /// The lowest 30-day quote volume of the tier.
    pub min_volume: Decimal,
    /// Fee rate of maker fills, as a fraction of notional (negative for a rebate).
    pub maker: Decimal,
    /// Fee rate of taker fills, as a fraction of notional.
    pub taker: Decimal,
}

impl FeeTier {
    /// 0 → 2/5 bp, 1M → 1.6/4 bp, 5M → 1.2/3.5 bp, 25M → 0.8/3 bp (maker/taker).
    pub fn default_tiers() -> Vec<FeeTier> {
        let tier = |min: i64, maker: i64, taker: i64| FeeTier {
            min_volume: Decimal::from(min),
            maker: Decimal::new(maker, 5),
            taker: Decimal::new(taker, 5),
        };
        vec![
            tier(0, 20, 50),
            tier(1_000_000, 16, 40),
            tier(5_000_000, 12, 35),
            tier(25_000_000, 8, 30),
        ]
    }

    /// A single tier with these rates for every volume.
    pub fn flat(maker: Decimal, taker: Decimal) -> Vec<FeeTier> {
        vec![FeeTier {
            min_volume: Decimal::ZERO,
            maker,
            taker,
        }]
    }

    /// The rate of a fill with `liquidity`.
    pub fn rate(&self, liquidity: Liquidity) -> Decimal {
        match liquidity {
            Liquidity::Maker => self.maker,
            Liquidity::Taker => self.taker,
        }
    }
}

/// What the venue does when a new (or newly triggered) order would trade against one
/// of our own resting orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SelfTradePrevention {
    /// The new order is cancelled before it matches (Binance's `EXPIRE_TAKER`).
    CancelNew,
    /// Our resting orders it would cross are cancelled; the new order goes on.
    CancelResting,
    /// Both are reduced by the overlapping quantity, without a fill or a fee; whichever
    /// reaches zero is cancelled.
    DecrementBoth,
}

/// How the venue estimates a symbol's daily traded volume and daily mid volatility for
/// the impact law, in event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EstimateConfig {
    /// Time constant `τ` of the exponential weights, in nanoseconds (a tick `Δt` after
    /// the previous one discounts the sums by `exp(−Δt/τ)`).
    pub time_constant_ns: Nanos,
    /// Event time from the first tick before the estimates are used.
    pub warmup_ns: Nanos,
    /// Trade ticks seen before the estimates are used.
    pub min_trades: u32,
}

impl Default for EstimateConfig {
    /// An hour's time constant; warm after an hour and 100 trades.
    fn default() -> Self {
        Self {
            time_constant_ns: HOUR,
            warmup_ns: HOUR,
            min_trades: 100,
        }
    }
}

/// A token bucket of requests, in event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateLimit {
    /// Tokens the bucket holds when full (it starts full); each message takes one.
    pub capacity: u32,
    /// Tokens added per second of event time, up to `capacity`.
    pub refill_per_second: u32,
}

/// A window `[start, end)` of event time in which the venue is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Outage {
    /// First nanosecond of the outage.
    pub start: Nanos,
    /// First nanosecond after it.
    pub end: Nanos,
}

/// Outages at random times: a function of `seed` and the calendar day only, so every
/// symbol's venue built with the same value sees the same outages (an outage is
/// venue-wide).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RandomOutages {
    /// Expected outages per day (the count of each day is Poisson).
    pub per_day: f64,
    /// Mean duration in nanoseconds (exponential, at least 1 ns, at most a day).
    pub mean_duration_ns: Nanos,
    /// Seed of the outage draws.
    pub seed: u64,
}

/// Why a [`VenueConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum VenueConfigError {
    /// A latency's median is below 1 ns or its sigma is negative or not finite.
    #[error("{which} latency: median {median_ns} ns must be at least 1 and sigma {sigma} finite and not negative")]
    Latency {
        /// `entry` or `ack`.
        which: &'static str,
        /// The median given.
        median_ns: Nanos,
        /// The sigma given.
        sigma: f64,
    },
    /// The fee tiers are empty, do not start at zero volume or are not ascending.
    #[error("fee tiers must start at volume 0 and ascend strictly")]
    FeeTiers,
    /// The impact coefficient is negative or not finite.
    #[error("impact coefficient {0} must be finite and not negative")]
    ImpactCoef(f64),
    /// The estimate time constant is not positive, or the warm-up negative.
    #[error("estimate time constant must be positive and warm-up not negative")]
    Estimates,
    /// A rate limit with no capacity.
    #[error("rate limit capacity must be at least 1")]
    RateLimit,
    /// An outage window that ends before it starts.
    #[error("outage [{start}, {end}) is empty")]
    Outage {
        /// Its start.
        start: Nanos,
        /// Its end.
        end: Nanos,
    },
    /// A random outage rate or duration that is negative, zero or not finite.
    #[error("random outages need a finite rate >= 0 and a mean duration >= 1 ns")]
    RandomOutages,
}

impl VenueConfig {
    /// The first invalid parameter, if any.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::venue::VenueConfig;
    /// assert_eq!(VenueConfig::default().validate(), Ok(()));
    /// ```
    pub fn validate(&self) -> Result<(), VenueConfigError> {
        for (which, l) in [("entry", self.entry_latency), ("ack", self.ack_latency)] {
            if l.median_ns < 1 || !(l.sigma >= 0.0 && l.sigma.is_finite()) {
                return Err(VenueConfigError::Latency {
                    which,
                    median_ns: l.median_ns,
                    sigma: l.sigma,
                });
            }
        }
        let ascending = self
            .fee_tiers
            .windows(2)
            .all(|w| w[0].min_volume < w[1].min_volume);
        if !ascending
            || self
                .fee_tiers
                .first()
                .is_none_or(|t| !t.min_volume.is_zero())
        {
            return Err(VenueConfigError::FeeTiers);
        }
        if let Some(y) = self.impact_coef {
            if !(y >= 0.0 && y.is_finite()) {
                return Err(VenueConfigError::ImpactCoef(y));
            }
        }
        if self.estimates.time_constant_ns <= 0 || self.estimates.warmup_ns < 0 {
            return Err(VenueConfigError::Estimates);
        }
        if self.rate_limit.is_some_and(|r| r.capacity == 0) {
            return Err(VenueConfigError::RateLimit);
        }
        if let Some(o) = self.outages.iter().find(|o| o.end <= o.start) {
            return Err(VenueConfigError::Outage {
                start: o.start,
                end: o.end,
            });
        }
        if let Some(r) = self.random_outages {
            if !(r.per_day >= 0.0 && r.per_day.is_finite()) || r.mean_duration_ns < 1 {
                return Err(VenueConfigError::RandomOutages);
            }
        }
        Ok(())
    }

    /// The tier of a 30-day quote volume: the last whose `min_volume` it reaches.
    pub fn tier(&self, volume_30d: Decimal) -> &FeeTier {
        let at = self
            .fee_tiers
            .partition_point(|t| t.min_volume <= volume_30d);
        &self.fee_tiers[at.saturating_sub(1)]
    }

    /// The fee of a fill of `qty` at `price` when the 30-day quote volume before it is
    /// `volume_30d`: `price * qty * rate` rounded to 8 decimal places, half to even.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::venue::VenueConfig;
    /// use bot4_schemas::{Decimal, Liquidity};
    /// let config = VenueConfig::default();
    /// // 100.5 * 2 * 0.0005 = 0.1005; from 1M of volume, 100.5 * 2 * 0.0004 = 0.0804.
    /// let fee = |volume: i64| config.fee(Decimal::from(volume), Liquidity::Taker, Decimal::new(1005, 1), Decimal::TWO);
    /// assert_eq!(fee(0), Decimal::new(1005, 4));
    /// assert_eq!(fee(1_000_000), Decimal::new(804, 4));
    /// ```
    pub fn fee(
        &self,
        volume_30d: Decimal,
        liquidity: Liquidity,
        price: Decimal,
        qty: Decimal,
    ) -> Decimal {
        let rate = self.tier(volume_30d).rate(liquidity);
        (price * qty * rate).round_dp_with_strategy(FEE_DP, RoundingStrategy::MidpointNearestEven)
    }

    /// The impact coefficient in use: `None` when disabled or zero.
    pub(super) fn impact(&self) -> Option<f64> {
        self.impact_coef.filter(|&y| y > 0.0)
    }
}
