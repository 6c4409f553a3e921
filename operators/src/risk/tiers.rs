//! Capital tiers: how much risk the account takes, and with what, as its equity grows or
//! shrinks.
//!
//! Tiers are an ascending list by `min_equity`. Each scales the sizing (`risk_scale`),
//! tightens the concentration and leverage limits, bounds how many symbols may hold a
//! position and names the strategies it enables. The configured sizing and pre-trade
//! limits are ceilings: a tier can only tighten them ([`TierLimits`]).
//!
//! Transitions have hysteresis `h` (default 20%), so equity oscillating around a
//! boundary does not flap: the account moves **up** to tier `k` as soon as
//! `equity ≥ min_equity_k`, and **down** from tier `k` only once
//! `equity < min_equity_k · (1 − h)`. Moves may skip tiers either way. Invariant after
//! every [`CapitalTiers::update`], for the current tier `k`: `equity < min_equity_{k+1}`
//! (when there is a tier above), and `equity ≥ min_equity_k · (1 − h)` (when there is
//! one below).
//!
//! The default tiers, for a 1,000,000 starting capital (which starts in `standard`):
//!
//! | tier | equity | risk scale | concentration | max leverage | symbols |
//! |---|---|---|---|---|---|
//! | `preservation` | below 250,000 (leaves `standard` below 200,000) | 0.5 | 0.03 | 1.5 | 5 |
//! | `standard` | 250,000 – 2,000,000 (leaves `growth` below 1,600,000) | 1.0 | 0.05 | 3.0 | 10 |
//! | `growth` | from 2,000,000 | 1.0 | 0.05 | 3.0 | 20 |
//!
//! Preservation halves every size and leverage after a loss of three quarters of the
//! starting capital; growth keeps the per-symbol fractions and spreads the larger
//! account over more symbols. Each enables the strategy `bar_signal`; a tier that does
//! not enable a strategy scales its risk to zero ([`Tier::limits_for`]).

use std::collections::BTreeSet;

use bot4_schemas::{decimal_from_f64, Decimal, Nanos};

use super::RiskError;

/// The default hysteresis of tier transitions: a tier is left downwards 20% below its
/// threshold.
pub const DEFAULT_HYSTERESIS: f64 = 0.2;

/// What the active tier does to the sizing and the pre-trade limits.
///
/// The sizing multiplies its leverage by `risk_scale`; the concentration and leverage
/// limits used are the smaller of the configured ones and these; at most `max_symbols`
/// symbols may hold a position.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TierLimits {
    /// Multiplies every target size.
    pub risk_scale: f64,
    /// Largest notional of one symbol, as a fraction of equity.
    pub concentration: f64,
    /// Largest gross exposure, as a multiple of equity.
    pub max_leverage: f64,
    /// How many symbols may hold a position at once.
    pub max_symbols: usize,
}

impl TierLimits {
    /// No tier: scale 1 and nothing tightened.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::tiers::TierLimits;
    /// assert_eq!(TierLimits::NONE.risk_scale, 1.0);
    /// assert!(TierLimits::NONE.concentration.is_infinite());
    /// ```
    pub const NONE: TierLimits = TierLimits {
        risk_scale: 1.0,
        concentration: f64::INFINITY,
        max_leverage: f64::INFINITY,
        max_symbols: usize::MAX,
    };
}

impl Default for TierLimits {
    fn default() -> Self {
        Self::NONE
    }
}

/// One capital tier.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tier {
    /// Its name, as recorded in [`TierChange`]s.
    pub name: String,
    /// The equity from which the account moves up into it.
    pub min_equity: Decimal,
    /// Multiplies every target size.
    pub risk_scale: f64,
    /// Largest notional of one symbol, as a fraction of equity.
    pub concentration: f64,
    /// Largest gross exposure, as a multiple of equity.
    pub max_leverage: f64,
    /// How many symbols may hold a position at once.
    pub max_symbols: usize,
    /// The strategies that may trade in it.
    pub strategies: BTreeSet<String>,
}

impl Tier {
    /// What it does to the sizing and the limits.
    pub fn limits(&self) -> TierLimits {
        TierLimits {
            risk_scale: self.risk_scale,
            concentration: self.concentration,
            max_leverage: self.max_leverage,
            max_symbols: self.max_symbols,
        }
    }

    /// What it does to `strategy`: [`Tier::limits`], with the risk scaled to zero when
    /// the tier does not enable the strategy, so that its desks close what they hold
    /// and open nothing.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::tiers::default_tiers;
    /// assert_eq!(default_tiers()[1].limits_for("bar_signal").risk_scale, 1.0);
    /// assert_eq!(default_tiers()[1].limits_for("martingale").risk_scale, 0.0);
    /// ```
    pub fn limits_for(&self, strategy: &str) -> TierLimits {
        TierLimits {
            risk_scale: if self.enables(strategy) {
                self.risk_scale
            } else {
                0.0
            },
            ..self.limits()
        }
    }

    /// Whether `strategy` may trade in this tier.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::tiers::default_tiers;
    /// assert!(default_tiers()[1].enables("bar_signal"));
    /// assert!(!default_tiers()[1].enables("martingale"));
    /// ```
    pub fn enables(&self, strategy: &str) -> bool {
        self.strategies.contains(strategy)
    }
}

/// The default tiers (see the [module documentation](self)).
pub fn default_tiers() -> Vec<Tier> {
    let tier =
        |name: &str, min_equity: i64, risk_scale, concentration, max_leverage, max_symbols| Tier {
            name: name.to_owned(),
            min_equity: Decimal::from(min_equity),
            risk_scale,
            concentration,
            max_leverage,
            max_symbols,
            strategies: BTreeSet::from(["bar_signal".to_owned()]),
        };
    vec![
        tier("preservation", 0, 0.5, 0.03, 1.5, 5),
        tier("standard", 250_000, 1.0, 0.05, 3.0, 10),
        tier("growth", 2_000_000, 1.0, 0.05, 3.0, 20),
    ]
}

/// A move from one tier to another, for the graph to record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TierChange {
    /// Event time of the equity that caused it.
    pub ts: Nanos,
    /// Index of the tier left.
    pub from: usize,
    /// Index of the tier entered.
    pub to: usize,
    /// Name of the tier left.
    pub from_name: String,
    /// Name of the tier entered.
    pub to_name: String,
    /// The equity that caused it.
    pub equity: Decimal,
}

/// The account's current tier, moved by its equity.
#[derive(Debug, Clone)]
pub struct CapitalTiers {
    tiers: Vec<Tier>,
    /// `min_equity_k · (1 − h)`: below it the account leaves tier `k` downwards.
    leave_below: Vec<Decimal>,
    current: usize,
}

impl CapitalTiers {
    /// The `tiers` (ascending by `min_equity`, strictly) with hysteresis `hysteresis`
    /// (in `[0, 1)`), starting in the highest tier whose `min_equity` the starting
    /// `equity` reaches (the first tier if none).
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::tiers::{default_tiers, CapitalTiers, DEFAULT_HYSTERESIS};
    /// use bot4_schemas::Decimal;
    /// let tiers = CapitalTiers::new(default_tiers(), DEFAULT_HYSTERESIS, Decimal::from(1_000_000)).unwrap();
    /// assert_eq!(tiers.current().name, "standard");
    /// ```
    pub fn new(tiers: Vec<Tier>, hysteresis: f64, equity: Decimal) -> Result<Self, RiskError> {
        if tiers.is_empty() {
            return Err(RiskError::NoTiers);
        }
        if !(0.0..1.0).contains(&hysteresis) {
            return Err(RiskError::Hysteresis(hysteresis));
        }
        for (i, t) in tiers.iter().enumerate() {
            if i > 0 && t.min_equity <= tiers[i - 1].min_equity {
                return Err(RiskError::TiersNotAscending { tier: i });
            }
            let valid = t.risk_scale.is_finite()
                && t.risk_scale >= 0.0
                && t.concentration > 0.0
                && t.max_leverage > 0.0;
            if !valid {
                return Err(RiskError::TierLimits { tier: i });
            }
        }
        let keep = decimal_from_f64(1.0 - hysteresis).ok_or(RiskError::Hysteresis(hysteresis))?;
        Ok(Self::start(tiers, keep, equity))
    }

    /// The default tiers with the default hysteresis, for a starting `equity`.
    pub fn with_defaults(equity: Decimal) -> Self {
        // 1 − DEFAULT_HYSTERESIS.
        Self::start(default_tiers(), Decimal::new(8, 1), equity)
    }

    /// Validated `tiers`, left downwards below `min_equity · keep`.
    fn start(tiers: Vec<Tier>, keep: Decimal, equity: Decimal) -> Self {
        let leave_below = tiers
            .iter()
            .map(|t| t.min_equity.saturating_mul(keep))
            .collect();
        let current = tiers
            .iter()
            .rposition(|t| equity >= t.min_equity)
            .unwrap_or(0);
        Self {
            tiers,
            leave_below,
            current,
        }
    }

    /// The active tier.
    pub fn current(&self) -> &Tier {
        &self.tiers[self.current]
    }

    /// Index of the active tier.
    pub fn current_index(&self) -> usize {
        self.current
    }

    /// Every tier, ascending.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// Move to the tier `equity` (at event time `ts`) calls for; the change, if any.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::tiers::CapitalTiers;
    /// use bot4_schemas::Decimal;
    /// let mut tiers = CapitalTiers::with_defaults(Decimal::from(300_000));
    /// // Below 250,000 but not below 200,000: still standard.
    /// assert!(tiers.update(1, Decimal::from(210_000)).is_none());
    /// let down = tiers.update(2, Decimal::from(199_999)).unwrap();
    /// assert_eq!((down.from_name.as_str(), down.to_name.as_str()), ("standard", "preservation"));
    /// // Back up only at 250,000.
    /// assert!(tiers.update(3, Decimal::from(249_999)).is_none());
    /// assert_eq!(tiers.update(4, Decimal::from(250_000)).unwrap().to, 1);
    /// ```
    pub fn update(&mut self, ts: Nanos, equity: Decimal) -> Option<TierChange> {
        let from = self.current;
        let mut to = from;
        while to + 1 < self.tiers.len() && equity >= self.tiers[to + 1].min_equity {
            to += 1;
        }
        if to == from {
            while to > 0 && equity < self.leave_below[to] {
                to -= 1;
            }
        }
        if to == from {
            return None;
        }
        self.current = to;
        Some(TierChange {
            ts,
            from,
            to,
            from_name: self.tiers[from].name.clone(),
            to_name: self.tiers[to].name.clone(),
            equity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(x: i64) -> Decimal {
        Decimal::from(x)
    }

    #[test]
    fn default_tiers_are_valid_and_start_in_standard() {
        let built = CapitalTiers::new(default_tiers(), DEFAULT_HYSTERESIS, d(1_000_000)).unwrap();
        let defaults = CapitalTiers::with_defaults(d(1_000_000));
        assert_eq!(built.leave_below, defaults.leave_below);
        assert_eq!(built.current().name, "standard");
        // 250,000 · (1 − 0.2) = 200,000; 2,000,000 · 0.8 = 1,600,000.
        assert_eq!(built.leave_below, vec![d(0), d(200_000), d(1_600_000)]);
        assert_eq!(
            CapitalTiers::with_defaults(d(100)).current().name,
            "preservation"
        );
        assert_eq!(
            CapitalTiers::with_defaults(d(-5)).current().name,
            "preservation"
        );
        assert_eq!(
            CapitalTiers::with_defaults(d(2_000_000)).current().name,
            "growth"
        );
        assert_eq!(built.current().limits().risk_scale, 1.0);
    }

    /// Equity oscillating around 2,000,000 after entering growth: it leaves growth
    /// only below 1,600,000, and re-enters only at 2,000,000.
    #[test]
    fn oscillation_around_a_boundary_does_not_flap() {
        let mut t = CapitalTiers::with_defaults(d(1_000_000));
        let path = [
            (1_990_000, None),
            (2_000_000, Some((1, 2))), // ≥ 2,000,000: up at once
            (1_990_000, None),         // ≥ 1,600,000: stays
            (2_010_000, None),
            (1_700_000, None),
            (1_600_000, None),         // not below 1,600,000
            (1_599_999, Some((2, 1))), // below: down
            (1_999_999, None),         // below 2,000,000: stays standard
            (1_610_000, None),
            (2_000_001, Some((1, 2))),
        ];
        for (ts, (equity, change)) in path.into_iter().enumerate() {
            let got = t.update(ts as Nanos, d(equity));
            assert_eq!(got.map(|c| (c.from, c.to)), change, "equity {equity}");
        }
    }

    /// A crash skips tiers down, a jump skips them up, each in one event.
    #[test]
    fn moves_skip_tiers() {
        let mut t = CapitalTiers::with_defaults(d(3_000_000));
        let c = t.update(7, d(150_000)).unwrap();
        assert_eq!((c.from, c.to, c.ts, c.equity), (2, 0, 7, d(150_000)));
        assert_eq!(c.to_name, "preservation");
        let c = t.update(8, d(2_500_000)).unwrap();
        assert_eq!((c.from, c.to), (0, 2));
        // 1,599,999 < 1,600,000 leaves growth; 1,599,999 ≥ 200,000 stays in standard.
        assert_eq!(t.update(9, d(1_599_999)).map(|c| c.to), Some(1));
    }

    #[test]
    fn invalid_tiers_are_refused() {
        assert_eq!(
            CapitalTiers::new(vec![], 0.2, d(1)).unwrap_err(),
            RiskError::NoTiers
        );
        let mut tiers = default_tiers();
        tiers.swap(1, 2);
        assert_eq!(
            CapitalTiers::new(tiers, 0.2, d(1)).unwrap_err(),
            RiskError::TiersNotAscending { tier: 2 }
        );
        assert!(CapitalTiers::new(default_tiers(), 1.0, d(1)).is_err());
        assert!(CapitalTiers::new(default_tiers(), f64::NAN, d(1)).is_err());
        let mut tiers = default_tiers();
        tiers[0].risk_scale = f64::NAN;
        assert_eq!(
            CapitalTiers::new(tiers, 0.2, d(1)).unwrap_err(),
            RiskError::TierLimits { tier: 0 }
        );
    }

    proptest! {
        /// After every update the current tier is one the equity may be in: not
        /// eligible for the tier above, not below the tier's exit threshold; and a
        /// change is reported exactly when the tier changed.
        #[test]
        fn tier_is_consistent_with_equity(path in proptest::collection::vec(0i64..4_000_000, 1..60)) {
            let mut t = CapitalTiers::with_defaults(d(1_000_000));
            for (ts, equity) in path.into_iter().enumerate() {
                let before = t.current_index();
                let change = t.update(ts as Nanos, d(equity));
                let k = t.current_index();
                prop_assert_eq!(change.as_ref().map(|c| (c.from, c.to)), (k != before).then_some((before, k)));
                if k + 1 < t.tiers().len() {
                    prop_assert!(d(equity) < t.tiers()[k + 1].min_equity);
                }
                if k > 0 {
                    prop_assert!(d(equity) >= t.leave_below[k]);
                }
                // Up moves only when the new tier's threshold is reached.
                if k > before {
                    prop_assert!(d(equity) >= t.tiers()[k].min_equity);
                }
            }
        }
    }
}
