//! Parameters a person may change while the job runs, and when the change takes effect.
//!
//! A change is a control event (`set`, with the parameter's name and new value) like any
//! other lever: it is audited, broadcast and applied by the stage that owns the parameter,
//! but only once the event time has passed `requested + cooldown` (24 hours by default),
//! so a hurried change cannot act at once. The names and what they hold:
//!
//! | name | value | owner |
//! |---|---|---|
//! | `orders.max_notional` | a decimal in quote currency, or `none` | order stage: caps every symbol's position plus open orders |
//! | `orders.limit_ttl` | a duration (`20s`, `1m`) | order stage: how long a passive order rests |
//! | `orders.reduce_to` | a fraction in [0, 1] | order stage: Reduce's first stage |
//! | `safety.soft_drawdown` | a fraction in (0, 1), or `off` | safety triggers |
//! | `safety.hard_drawdown` | a fraction in (0, 1), or `off` | safety triggers |
//! | `safety.stale_after` | a duration, or `off` | safety triggers |
//! | `safety.breaker_rejects` | a count, `0` for off | safety triggers |

use std::collections::BTreeMap;
use std::time::Duration;

use bot4_schemas::{ControlCommand, ControlEvent, Decimal, Nanos, Parameter};

use crate::orders::OrderConfig;
use crate::safety_triggers::TriggerConfig;

/// A parsed, valid parameter change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParameterChange {
    /// `orders.max_notional`.
    OrderMaxNotional(Option<Decimal>),
    /// `orders.limit_ttl`, in nanoseconds.
    OrderLimitTtl(Nanos),
    /// `orders.reduce_to`.
    OrderReduceTo(f64),
    /// `safety.soft_drawdown`.
    SoftDrawdown(Option<f64>),
    /// `safety.hard_drawdown`.
    HardDrawdown(Option<f64>),
    /// `safety.stale_after`, in nanoseconds.
    StaleAfter(Option<Nanos>),
    /// `safety.breaker_rejects`.
    BreakerRejects(u32),
}

/// Every parameter that can be changed, by name.
pub const PARAMETER_NAMES: [&str; 7] = [
    "orders.max_notional",
    "orders.limit_ttl",
    "orders.reduce_to",
    "safety.soft_drawdown",
    "safety.hard_drawdown",
    "safety.stale_after",
    "safety.breaker_rejects",
];

fn off(value: &str) -> bool {
    matches!(value, "off" | "none")
}

fn fraction(value: &str, open: bool) -> Result<f64, String> {
    let f: f64 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    let ok = if open {
        f > 0.0 && f < 1.0
    } else {
        (0.0..=1.0).contains(&f)
    };
    if ok {
        Ok(f)
    } else {
        Err(format!("`{value}` is not a fraction between 0 and 1"))
    }
}

fn duration(value: &str) -> Result<Nanos, String> {
    let d: Duration = humantime::parse_duration(value)
        .map_err(|e| format!("`{value}` is not a duration such as 20s or 5m: {e}"))?;
    match i64::try_from(d.as_nanos()) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{value}` must be a positive duration")),
    }
}

impl ParameterChange {
    /// Parse `name` = `value`; an error says what is wrong in words.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::parameters::ParameterChange;
    /// assert_eq!(
    ///     ParameterChange::parse("orders.reduce_to", "0.25"),
    ///     Ok(ParameterChange::OrderReduceTo(0.25))
    /// );
    /// assert!(ParameterChange::parse("orders.reduce_to", "2").is_err());
    /// assert!(ParameterChange::parse("risk.leverage", "3").is_err());
    /// ```
    pub fn parse(name: &str, value: &str) -> Result<Self, String> {
        let value = value.trim();
        Ok(match name {
            "orders.max_notional" if off(value) => Self::OrderMaxNotional(None),
            "orders.max_notional" => {
                let d: Decimal = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a decimal amount"))?;
                if d <= Decimal::ZERO {
                    return Err(format!("`{value}` must be positive"));
                }
                Self::OrderMaxNotional(Some(d))
            }
            "orders.limit_ttl" => Self::OrderLimitTtl(duration(value)?),
            "orders.reduce_to" => Self::OrderReduceTo(fraction(value, false)?),
            "safety.soft_drawdown" if off(value) => Self::SoftDrawdown(None),
            "safety.soft_drawdown" => Self::SoftDrawdown(Some(fraction(value, true)?)),
            "safety.hard_drawdown" if off(value) => Self::HardDrawdown(None),
            "safety.hard_drawdown" => Self::HardDrawdown(Some(fraction(value, true)?)),
            "safety.stale_after" if off(value) => Self::StaleAfter(None),
            "safety.stale_after" => Self::StaleAfter(Some(duration(value)?)),
            "safety.breaker_rejects" => Self::BreakerRejects(
                value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a count"))?,
            ),
            _ => {
                return Err(format!(
                    "unknown parameter `{name}`; one of {}",
                    PARAMETER_NAMES.join(", ")
                ))
            }
        })
    }

    /// Parse a control event's parameter, if it is a valid `set`.
    pub fn of(event: &ControlEvent) -> Option<Self> {
        match (&event.command, &event.parameter) {
            (ControlCommand::Set, Some(p)) => Self::parse(&p.name, &p.value).ok(),
            _ => None,
        }
    }
}

/// Changes asked for but not yet in effect, applied in the order they take effect.
#[derive(Debug, Clone, Default)]
pub struct PendingChanges {
    /// `(effective, ts, seq)` → the change.
    pending: BTreeMap<(Nanos, Nanos, u64), ParameterChange>,
}

impl PendingChanges {
    /// Remember `event`'s change, in effect from `event.ts + cooldown`. Events that are
    /// not a valid `set` are ignored (the levers validate what they accept).
    pub fn on_control(&mut self, event: &ControlEvent, cooldown: Nanos) {
        if let Some(change) = ParameterChange::of(event) {
            self.pending.insert(
                (event.ts.saturating_add(cooldown), event.ts, event.seq),
                change,
            );
        }
    }

    /// Take the changes in effect at `now`, in the order they took effect.
    pub fn due(&mut self, now: Nanos) -> Vec<ParameterChange> {
        let mut due = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        due
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Every parameter's value in `orders` and `triggers`, as text a `set` would take; the
/// audit trail records a change against it.
pub fn current_values(
    orders: &OrderConfig,
    triggers: &TriggerConfig,
) -> BTreeMap<&'static str, String> {
    let duration = |n: Nanos| {
        humantime::format_duration(Duration::from_nanos(n.max(0).unsigned_abs())).to_string()
    };
    let or_off = |v: Option<String>| v.unwrap_or_else(|| "off".to_owned());
    BTreeMap::from([
        (
            "orders.max_notional",
            orders
                .max_notional
                .map_or_else(|| "none".to_owned(), |d| d.normalize().to_string()),
        ),
        ("orders.limit_ttl", duration(orders.limit_ttl_ns)),
        ("orders.reduce_to", orders.reduce_to.to_string()),
        (
            "safety.soft_drawdown",
            or_off(triggers.soft_drawdown.map(|f| f.to_string())),
        ),
        (
            "safety.hard_drawdown",
            or_off(triggers.hard_drawdown.map(|f| f.to_string())),
        ),
        (
            "safety.stale_after",
            or_off(triggers.stale_after_ns.map(duration)),
        ),
        (
            "safety.breaker_rejects",
            triggers.breaker_rejects.to_string(),
        ),
    ])
}

/// The `set` control event's parameter, checked: a name and a value that parse.
pub fn checked(name: &str, value: &str) -> Result<Parameter, String> {
    ParameterChange::parse(name, value)?;
    Ok(Parameter {
        name: name.to_owned(),
        value: value.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::ControlSource;

    fn set(ts: Nanos, seq: u64, name: &str, value: &str) -> ControlEvent {
        ControlEvent {
            ts,
            seq,
            command: ControlCommand::Set,
            source: ControlSource::Admin,
            reason: String::new(),
            parameter: Some(Parameter {
                name: name.into(),
                value: value.into(),
            }),
        }
    }

    #[test]
    fn every_name_parses_and_bad_values_are_refused() {
        let ok = [
            (
                "orders.max_notional",
                "50000",
                ParameterChange::OrderMaxNotional(Some(Decimal::from(50_000))),
            ),
            (
                "orders.max_notional",
                "none",
                ParameterChange::OrderMaxNotional(None),
            ),
            (
                "orders.limit_ttl",
                "30s",
                ParameterChange::OrderLimitTtl(30_000_000_000),
            ),
            ("orders.reduce_to", "0", ParameterChange::OrderReduceTo(0.0)),
            (
                "safety.soft_drawdown",
                "0.1",
                ParameterChange::SoftDrawdown(Some(0.1)),
            ),
            (
                "safety.hard_drawdown",
                "off",
                ParameterChange::HardDrawdown(None),
            ),
            (
                "safety.stale_after",
                "5m",
                ParameterChange::StaleAfter(Some(300_000_000_000)),
            ),
            (
                "safety.breaker_rejects",
                "0",
                ParameterChange::BreakerRejects(0),
            ),
        ];
        for (name, value, want) in ok {
            assert_eq!(
                ParameterChange::parse(name, value),
                Ok(want),
                "{name}={value}"
            );
        }
        let bad = [
            ("orders.max_notional", "-5"),
            ("orders.max_notional", "lots"),
            ("orders.limit_ttl", "0s"),
            ("orders.limit_ttl", "soon"),
            ("orders.reduce_to", "1.5"),
            ("safety.soft_drawdown", "1"),
            ("safety.soft_drawdown", "NaN"),
            ("safety.breaker_rejects", "-1"),
            ("risk.leverage", "3"),
        ];
        for (name, value) in bad {
            assert!(
                ParameterChange::parse(name, value).is_err(),
                "{name}={value}"
            );
        }
        for name in PARAMETER_NAMES {
            assert!(!ParameterChange::parse(name, "x").unwrap_err().is_empty());
        }
    }

    #[test]
    fn the_current_values_parse_back_to_the_defaults() {
        let values = current_values(&OrderConfig::default(), &TriggerConfig::default());
        assert_eq!(values.len(), PARAMETER_NAMES.len());
        assert_eq!(values["orders.limit_ttl"], "20s");
        assert_eq!(values["safety.stale_after"], "2m");
        for (name, value) in &values {
            assert!(
                ParameterChange::parse(name, value).is_ok(),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn changes_take_effect_after_the_cooldown_in_order() {
        let mut p = PendingChanges::default();
        let hour = 3_600_000_000_000;
        p.on_control(&set(10, 0, "orders.reduce_to", "0.2"), hour);
        p.on_control(&set(5, 1, "orders.reduce_to", "0.3"), hour);
        p.on_control(&set(7, 2, "risk.leverage", "3"), hour);
        assert!(p.due(hour).is_empty());
        assert_eq!(p.due(hour + 5), [ParameterChange::OrderReduceTo(0.3)]);
        assert_eq!(p.due(hour + 100), [ParameterChange::OrderReduceTo(0.2)]);
        assert!(p.is_empty(), "the unknown parameter was never pending");
    }
}
