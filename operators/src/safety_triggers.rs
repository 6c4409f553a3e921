//! The safety controller's automatic triggers: drawdown limits, a circuit breaker on
//! venue rejects, and stale market data.
//!
//! One instance watches the whole portfolio (in the graph it runs on worker 0). It is
//! fed, in event time, every control event (so it knows the mode and what set it), every
//! venue reject, every symbol's ticks, and the portfolio's drawdown at each epoch's end;
//! at each epoch's end it may answer with control events, which the graph feeds back
//! into the control stream for the next epoch — triggers act through the same stream,
//! gate and audit trail as a person's levers, never by a side channel.
//!
//! The rules, each emitting only on a transition:
//! - **Drawdown.** At or past `soft_drawdown` in Normal: Reduce. At or past
//!   `hard_drawdown`: Emergency (unless already in it). A limit re-arms once the
//!   drawdown is back below it, so a person's reset is not overridden by the same
//!   breach.
//! - **Circuit breaker.** `breaker_rejects` venue rejects within `breaker_window_ns`:
//!   Pause (from Normal or Reduce). After `breaker_cooldown_ns` with no further trip,
//!   if the mode is still the breaker's Pause: Normal.
//! - **Stale data.** A symbol that has ticked but not for `stale_after_ns`: Pause
//!   (from Normal or Reduce). When every symbol is fresh again and the mode is still
//!   the stale-data Pause: Normal.
//!
//! Automatic triggers only tighten a mode a person set; they lift only their own.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bot4_schemas::{ControlCommand, ControlEvent, ControlSource, Nanos, SymbolId};

use crate::parameters::ParameterChange;
use crate::safety_gate::{Mode, SafetyGate};

/// Sequence numbers of automatic control events start here, after those of control
/// files (their row numbers) and of people's levers ([`MANUAL_SEQ_BASE`]), so events of
/// the same time apply in that order.
pub const AUTO_SEQ_BASE: u64 = 1 << 62;

/// Sequence numbers of control events from people's levers in a running job.
pub const MANUAL_SEQ_BASE: u64 = 1 << 61;

/// Limits of the automatic triggers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TriggerConfig {
    /// Drawdown (fraction of the peak) that moves Normal to Reduce; `None` disables.
    pub soft_drawdown: Option<f64>,
    /// Drawdown that moves any mode to Emergency; `None` disables.
    pub hard_drawdown: Option<f64>,
    /// Venue rejects within the window that trip the circuit breaker; 0 disables.
    pub breaker_rejects: u32,
    /// The circuit breaker's window, in nanoseconds of event time.
    pub breaker_window_ns: Nanos,
    /// How long the breaker's Pause lasts before trading resumes.
    pub breaker_cooldown_ns: Nanos,
    /// A symbol without a tick for this long is stale; `None` disables.
    pub stale_after_ns: Option<Nanos>,
    /// How long after it is asked for a parameter change takes effect.
    pub parameter_cooldown_ns: Nanos,
    /// The largest tolerated skew between the market's event time and the local clock
    /// (checked where there is a local clock: a live or paced run; see
    /// [`crate::clock_skew`]); `None` disables.
    pub max_clock_skew_ns: Option<Nanos>,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            soft_drawdown: Some(0.15),
            hard_drawdown: Some(0.20),
            breaker_rejects: 20,
            breaker_window_ns: 60_000_000_000,
            breaker_cooldown_ns: 300_000_000_000,
            stale_after_ns: Some(120_000_000_000),
            parameter_cooldown_ns: 24 * 3_600_000_000_000,
            max_clock_skew_ns: Some(2_000_000_000),
        }
    }
}

/// State of the automatic triggers.
#[derive(Debug, Clone)]
pub struct SafetyTriggers {
    config: TriggerConfig,
    names: Vec<String>,
    gate: SafetyGate,
    /// What set the current mode.
    cause: Option<ControlSource>,
    soft_armed: bool,
    hard_armed: bool,
    rejects: VecDeque<Nanos>,
    tripped_at: Option<Nanos>,
    last_tick: BTreeMap<SymbolId, Nanos>,
    stale: BTreeSet<SymbolId>,
    emitted: u64,
}

impl SafetyTriggers {
    /// Triggers over the instruments named `names` (indexed by [`SymbolId`]), in Normal.
    pub fn new(config: TriggerConfig, names: Vec<String>) -> Self {
        Self {
            config,
            names,
            gate: SafetyGate::default(),
            cause: None,
            soft_armed: true,
            hard_armed: true,
            rejects: VecDeque::new(),
            tripped_at: None,
            last_tick: BTreeMap::new(),
            stale: BTreeSet::new(),
            emitted: 0,
        }
    }

    /// The mode as the triggers know it.
    pub fn mode(&self) -> Mode {
        self.gate.mode()
    }

    /// Apply a parameter change now in effect; other stages' parameters are ignored.
    pub fn apply(&mut self, change: &ParameterChange) {
        match *change {
            ParameterChange::SoftDrawdown(limit) => self.config.soft_drawdown = limit,
            ParameterChange::HardDrawdown(limit) => self.config.hard_drawdown = limit,
            ParameterChange::StaleAfter(after) => self.config.stale_after_ns = after,
            ParameterChange::BreakerRejects(n) => self.config.breaker_rejects = n,
            _ => {}
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &TriggerConfig {
        &self.config
    }

    /// The symbols now stale.
    pub fn stale(&self) -> impl Iterator<Item = SymbolId> + '_ {
        self.stale.iter().copied()
    }

    /// Learn of a control event (anyone's, the triggers' own included).
    pub fn on_control(&mut self, event: &ControlEvent) {
        self.gate.on_control(event);
        // Whoever last asked for the mode in force owns it, even if it was already in
        // force: a person's Pause during the breaker's is the person's.
        let asked = match event.command {
            ControlCommand::Normal | ControlCommand::Reset => Some(Mode::Normal),
            ControlCommand::Pause => Some(Mode::Pause),
            ControlCommand::Reduce => Some(Mode::Reduce),
            ControlCommand::Emergency => Some(Mode::Emergency),
            ControlCommand::Set => None,
        };
        if asked == Some(self.gate.mode()) {
            self.cause = Some(event.source);
        }
    }

    /// A venue rejected an order at `ts`.
    pub fn on_reject(&mut self, ts: Nanos) {
        self.rejects.push_back(ts);
    }

    /// `symbol` ticked at `ts`.
    pub fn on_tick(&mut self, symbol: SymbolId, ts: Nanos) {
        let last = self.last_tick.entry(symbol).or_insert(ts);
        *last = (*last).max(ts);
    }

    /// The end of an epoch: the portfolio's `drawdown` (if known), checked at `now`
    /// (the next epoch's start, which the events emitted carry). Appends the control
    /// events the triggers ask for.
    ///
    /// The events emitted must come back through [`SafetyTriggers::on_control`] (the
    /// graph feeds them into the control stream), so that the triggers apply every
    /// event in the same `(ts, seq)` order as the gate; within this call the rules see
    /// the mode as the earlier events of the call leave it.
    pub fn on_epoch_end(&mut self, now: Nanos, drawdown: Option<f64>, out: &mut Vec<ControlEvent>) {
        let before = (self.gate.clone(), self.cause);
        if let Some(dd) = drawdown {
            self.check_drawdown(now, dd, out);
        }
        self.check_breaker(now, out);
        self.check_stale(now, out);
        (self.gate, self.cause) = before;
    }

    fn check_drawdown(&mut self, now: Nanos, dd: f64, out: &mut Vec<ControlEvent>) {
        if let Some(hard) = self.config.hard_drawdown {
            if dd < hard {
                self.hard_armed = true;
            } else if self.hard_armed {
                self.hard_armed = false;
                self.soft_armed = false;
                if self.mode() != Mode::Emergency {
                    let reason = format!(
                        "drawdown {:.2}% reached the hard limit {:.2}%",
                        dd * 100.0,
                        hard * 100.0
                    );
                    self.emit(
                        now,
                        ControlCommand::Emergency,
                        ControlSource::Drawdown,
                        reason,
                        out,
                    );
                }
                return;
            }
        }
        if let Some(soft) = self.config.soft_drawdown {
            if dd < soft {
                self.soft_armed = true;
            } else if self.soft_armed {
                self.soft_armed = false;
                if self.mode() == Mode::Normal {
                    let reason = format!(
                        "drawdown {:.2}% reached the soft limit {:.2}%",
                        dd * 100.0,
                        soft * 100.0
                    );
                    self.emit(
                        now,
                        ControlCommand::Reduce,
                        ControlSource::Drawdown,
                        reason,
                        out,
                    );
                }
            }
        }
    }

    fn check_breaker(&mut self, now: Nanos, out: &mut Vec<ControlEvent>) {
        let c = self.config;
        let from = now.saturating_sub(c.breaker_window_ns);
        while self.rejects.front().is_some_and(|&ts| ts < from) {
            self.rejects.pop_front();
        }
        let tripped = c.breaker_rejects > 0 && self.rejects.len() >= c.breaker_rejects as usize;
        if tripped {
            let n = self.rejects.len();
            self.rejects.clear();
            self.tripped_at = Some(now);
            if matches!(self.mode(), Mode::Normal | Mode::Reduce) {
                let reason = format!(
                    "circuit breaker: {n} venue rejects within {} s",
                    c.breaker_window_ns / 1_000_000_000
                );
                self.emit(
                    now,
                    ControlCommand::Pause,
                    ControlSource::CircuitBreaker,
                    reason,
                    out,
                );
            }
        } else if let Some(at) = self.tripped_at {
            if now.saturating_sub(at) >= c.breaker_cooldown_ns {
                self.tripped_at = None;
                if self.mode() == Mode::Pause && self.cause == Some(ControlSource::CircuitBreaker) {
                    let reason = "circuit breaker: cooled down".to_owned();
                    self.emit(
                        now,
                        ControlCommand::Normal,
                        ControlSource::CircuitBreaker,
                        reason,
                        out,
                    );
                }
            }
        }
    }

    fn check_stale(&mut self, now: Nanos, out: &mut Vec<ControlEvent>) {
        let Some(after) = self.config.stale_after_ns else {
            return;
        };
        let stale: BTreeSet<SymbolId> = self
            .last_tick
            .iter()
            .filter(|(_, &ts)| now.saturating_sub(ts) > after)
            .map(|(&s, _)| s)
            .collect();
        let newly: Vec<SymbolId> = stale.difference(&self.stale).copied().collect();
        self.stale = stale;
        if !newly.is_empty() && matches!(self.mode(), Mode::Normal | Mode::Reduce) {
            let names: Vec<&str> = newly.iter().map(|&s| self.name(s)).collect();
            let reason = format!(
                "stale market data: no tick for more than {} s from {}",
                after / 1_000_000_000,
                names.join(", ")
            );
            self.emit(
                now,
                ControlCommand::Pause,
                ControlSource::StaleData,
                reason,
                out,
            );
        } else if self.stale.is_empty()
            && self.mode() == Mode::Pause
            && self.cause == Some(ControlSource::StaleData)
        {
            let reason = "market data fresh again".to_owned();
            self.emit(
                now,
                ControlCommand::Normal,
                ControlSource::StaleData,
                reason,
                out,
            );
        }
    }

    fn name(&self, symbol: SymbolId) -> &str {
        self.names
            .get(symbol.0 as usize)
            .map_or("an unknown symbol", String::as_str)
    }

    fn emit(
        &mut self,
        ts: Nanos,
        command: ControlCommand,
        source: ControlSource,
        reason: String,
        out: &mut Vec<ControlEvent>,
    ) {
        let event = ControlEvent {
            ts,
            seq: AUTO_SEQ_BASE + self.emitted,
            command,
            source,
            reason,
            parameter: None,
        };
        self.emitted += 1;
        // For the rest of this call only (see `on_epoch_end`).
        self.on_control(&event);
        out.push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    fn triggers() -> SafetyTriggers {
        SafetyTriggers::new(
            TriggerConfig::default(),
            vec!["BTC-USDT".into(), "ETH-USDT".into()],
        )
    }

    /// An epoch's end, with the events fed back as the graph does.
    fn end(t: &mut SafetyTriggers, now: Nanos, dd: Option<f64>, out: &mut Vec<ControlEvent>) {
        let from = out.len();
        t.on_epoch_end(now, dd, out);
        for e in &out[from..] {
            t.on_control(e);
        }
    }

    fn commands(out: &[ControlEvent]) -> Vec<(ControlCommand, ControlSource)> {
        out.iter().map(|e| (e.command, e.source)).collect()
    }

    #[test]
    fn drawdown_moves_to_reduce_then_emergency_once_each() {
        let mut t = triggers();
        let mut out = Vec::new();
        end(&mut t, S, Some(0.10), &mut out);
        assert!(out.is_empty());
        end(&mut t, 2 * S, Some(0.15), &mut out);
        assert_eq!(
            commands(&out),
            [(ControlCommand::Reduce, ControlSource::Drawdown)]
        );
        assert_eq!(out[0].ts, 2 * S);
        assert_eq!(
            out[0].reason,
            "drawdown 15.00% reached the soft limit 15.00%"
        );
        end(&mut t, 3 * S, Some(0.18), &mut out);
        assert_eq!(out.len(), 1, "no second Reduce for the same breach");
        end(&mut t, 4 * S, Some(0.2), &mut out);
        assert_eq!(
            commands(&out[1..]),
            [(ControlCommand::Emergency, ControlSource::Drawdown)]
        );
        assert!(out[1].seq > out[0].seq && out[0].seq >= AUTO_SEQ_BASE);
        end(&mut t, 5 * S, Some(0.25), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(t.mode(), Mode::Emergency);
    }

    #[test]
    fn a_reset_after_a_breach_stands_until_the_drawdown_recovers_and_breaches_again() {
        let mut t = triggers();
        let mut out = Vec::new();
        end(&mut t, S, Some(0.21), &mut out);
        assert_eq!(
            commands(&out),
            [(ControlCommand::Emergency, ControlSource::Drawdown)]
        );
        t.on_control(&ControlEvent {
            ts: 2 * S,
            seq: MANUAL_SEQ_BASE,
            command: ControlCommand::Reset,
            source: ControlSource::Admin,
            reason: "reviewed".into(),
            parameter: None,
        });
        end(&mut t, 3 * S, Some(0.22), &mut out);
        assert_eq!(out.len(), 1, "the person's reset is not overridden");
        end(&mut t, 4 * S, Some(0.05), &mut out);
        end(&mut t, 5 * S, Some(0.16), &mut out);
        assert_eq!(
            commands(&out[1..]),
            [(ControlCommand::Reduce, ControlSource::Drawdown)]
        );
    }

    #[test]
    fn soft_drawdown_does_not_loosen_a_pause() {
        let mut t = triggers();
        t.on_control(&ControlEvent {
            ts: 0,
            seq: 0,
            command: ControlCommand::Pause,
            source: ControlSource::File,
            reason: String::new(),
            parameter: None,
        });
        let mut out = Vec::new();
        end(&mut t, S, Some(0.16), &mut out);
        assert!(out.is_empty());
        assert_eq!(t.mode(), Mode::Pause);
    }

    #[test]
    fn the_circuit_breaker_pauses_then_resumes_after_its_cooldown() {
        let mut t = triggers();
        let mut out = Vec::new();
        for i in 0..19 {
            t.on_reject(i * S);
        }
        end(&mut t, 20 * S, None, &mut out);
        assert!(out.is_empty(), "19 rejects within the minute");
        t.on_reject(20 * S);
        end(&mut t, 21 * S, None, &mut out);
        assert_eq!(
            commands(&out),
            [(ControlCommand::Pause, ControlSource::CircuitBreaker)]
        );
        assert_eq!(
            out[0].reason,
            "circuit breaker: 20 venue rejects within 60 s"
        );
        end(&mut t, 21 * S + 299 * S, None, &mut out);
        assert_eq!(out.len(), 1);
        end(&mut t, 21 * S + 300 * S, None, &mut out);
        assert_eq!(
            commands(&out[1..]),
            [(ControlCommand::Normal, ControlSource::CircuitBreaker)]
        );
        assert_eq!(t.mode(), Mode::Normal);
    }

    #[test]
    fn rejects_spread_beyond_the_window_do_not_trip() {
        let mut t = triggers();
        let mut out = Vec::new();
        for i in 0..100 {
            t.on_reject(i * 4 * S);
            end(&mut t, i * 4 * S + 1, None, &mut out);
        }
        assert!(out.is_empty(), "15 in any minute");
    }

    #[test]
    fn the_breaker_does_not_lift_a_pause_someone_else_set() {
        let mut t = triggers();
        let mut out = Vec::new();
        for _ in 0..20 {
            t.on_reject(S);
        }
        end(&mut t, 2 * S, None, &mut out);
        t.on_control(&ControlEvent {
            ts: 3 * S,
            seq: 0,
            command: ControlCommand::Pause,
            source: ControlSource::Admin,
            reason: "looking into it".into(),
            parameter: None,
        });
        end(&mut t, 400 * S, None, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(t.mode(), Mode::Pause);
    }

    #[test]
    fn stale_market_data_pauses_and_fresh_data_resumes() {
        let mut t = triggers();
        let mut out = Vec::new();
        t.on_tick(SymbolId(0), S);
        t.on_tick(SymbolId(1), S);
        end(&mut t, 100 * S, None, &mut out);
        assert!(out.is_empty());
        t.on_tick(SymbolId(0), 100 * S);
        end(&mut t, 122 * S, None, &mut out);
        assert_eq!(
            commands(&out),
            [(ControlCommand::Pause, ControlSource::StaleData)]
        );
        assert_eq!(
            out[0].reason,
            "stale market data: no tick for more than 120 s from ETH-USDT"
        );
        assert_eq!(t.stale().collect::<Vec<_>>(), [SymbolId(1)]);
        end(&mut t, 123 * S, None, &mut out);
        assert_eq!(out.len(), 1, "still stale: no second Pause");
        t.on_tick(SymbolId(1), 124 * S);
        end(&mut t, 125 * S, None, &mut out);
        assert_eq!(
            commands(&out[1..]),
            [(ControlCommand::Normal, ControlSource::StaleData)]
        );
    }

    #[test]
    fn disabled_triggers_stay_silent() {
        let config = TriggerConfig {
            soft_drawdown: None,
            hard_drawdown: None,
            breaker_rejects: 0,
            stale_after_ns: None,
            ..TriggerConfig::default()
        };
        let mut t = SafetyTriggers::new(config, Vec::new());
        let mut out = Vec::new();
        t.on_tick(SymbolId(0), 0);
        for i in 0..50 {
            t.on_reject(i);
        }
        end(&mut t, 1_000 * S, Some(0.9), &mut out);
        assert!(out.is_empty());
    }
}
