//! The safety gate: which orders may pass towards the venue, given the control mode.
//!
//! Modes: Normal passes everything; Pause passes only cancels; Reduce passes cancels
//! and orders that can only reduce exposure; Emergency passes cancels and the order
//! stage's flattening orders (which reduce exposure, by construction) and latches: no
//! command but Reset leaves it. Control events apply to every order whose event time
//! is at or after theirs; the dataflow guarantees the gate has seen every control event
//! up to an order's time before it decides.

use bot4_schemas::{
    ControlCommand, ControlEvent, ExecutionReport, Nanos, Order, OrderAction, ReportReason,
    ReportStatus,
};

/// The mode of the safety controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Full automatic trading.
    Normal,
    /// No new orders.
    Pause,
    /// Only exposure-reducing orders.
    Reduce,
    /// Cancel everything and flatten; latched until reset.
    Emergency,
}

impl Mode {
    /// Name as in control files and the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Pause => "pause",
            Mode::Reduce => "reduce",
            Mode::Emergency => "emergency",
        }
    }
}

/// The gate's decision on one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it on.
    Pass,
    /// Refuse it in this mode.
    Block(Mode),
}

/// Gate state; one per worker, fed every control event.
#[derive(Debug, Clone)]
pub struct SafetyGate {
    mode: Mode,
}

impl Default for SafetyGate {
    fn default() -> Self {
        Self { mode: Mode::Normal }
    }
}

impl SafetyGate {
    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Apply a control event; returns whether the mode changed.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::safety_gate::{Mode, SafetyGate};
    /// use bot4_schemas::{ControlCommand, ControlEvent, ControlSource};
    /// let mut gate = SafetyGate::default();
    /// let ev = |command| ControlEvent { ts: 0, seq: 0, command, source: ControlSource::Admin,
    ///     reason: String::new(), parameter: None };
    /// gate.on_control(&ev(ControlCommand::Emergency));
    /// gate.on_control(&ev(ControlCommand::Normal));
    /// assert_eq!(gate.mode(), Mode::Emergency, "latched");
    /// gate.on_control(&ev(ControlCommand::Reset));
    /// assert_eq!(gate.mode(), Mode::Normal);
    /// ```
    pub fn on_control(&mut self, event: &ControlEvent) -> bool {
        let next = match (self.mode, event.command) {
            // A parameter change leaves the mode as it is.
            (mode, ControlCommand::Set) => mode,
            (Mode::Emergency, ControlCommand::Reset) => Mode::Normal,
            (Mode::Emergency, _) => Mode::Emergency,
            (_, ControlCommand::Normal | ControlCommand::Reset) => Mode::Normal,
            (_, ControlCommand::Pause) => Mode::Pause,
            (_, ControlCommand::Reduce) => Mode::Reduce,
            (_, ControlCommand::Emergency) => Mode::Emergency,
        };
        let changed = next != self.mode;
        self.mode = next;
        changed
    }

    /// Decide on one order in the current mode.
    #[inline]
    pub fn check(&self, order: &Order) -> Decision {
        let pass = order.action == OrderAction::Cancel
            || match self.mode {
                Mode::Normal => true,
                Mode::Reduce | Mode::Emergency => order.reduces_exposure,
                Mode::Pause => false,
            };
        if pass {
            Decision::Pass
        } else {
            Decision::Block(self.mode)
        }
    }
}

/// The gate as a function of event time: every mode change with the time it applies
/// from. Control events must be applied in `(ts, seq)` order; the dataflow's gate applies
/// an epoch's events once the control stream's frontier has passed it.
#[derive(Debug, Clone, Default)]
pub struct ModeTimeline {
    gate: SafetyGate,
    /// `(from, gate)`: the gate state from event time `from` on.
    changes: Vec<(Nanos, SafetyGate)>,
}

impl ModeTimeline {
    /// Apply the next control event; returns whether the mode changed.
    pub fn apply(&mut self, event: &ControlEvent) -> bool {
        let changed = self.gate.on_control(event);
        if changed {
            self.changes.push((event.ts, self.gate.clone()));
        }
        changed
    }

    /// The mode after every event applied so far.
    pub fn mode(&self) -> Mode {
        self.gate.mode()
    }

    /// Decide on `order` by the gate as it stood at the order's event time.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::safety_gate::{Decision, Mode, ModeTimeline};
    /// use bot4_schemas::{ControlCommand, ControlEvent, ControlSource, Decimal, Order,
    ///     OrderKind, Side, SymbolId};
    /// let mut timeline = ModeTimeline::default();
    /// timeline.apply(&ControlEvent { ts: 100, seq: 0, command: ControlCommand::Pause,
    ///     source: ControlSource::File, reason: String::new(), parameter: None });
    /// let order = |ts| Order::new(ts, 1, SymbolId(0), Side::Buy, OrderKind::Market,
    ///     Decimal::ZERO, Decimal::ONE);
    /// assert_eq!(timeline.check(&order(99)), Decision::Pass);
    /// assert_eq!(timeline.check(&order(100)), Decision::Block(Mode::Pause));
    /// ```
    #[inline]
    pub fn check(&self, order: &Order) -> Decision {
        let i = self.changes.partition_point(|(from, _)| *from <= order.ts);
        match i.checked_sub(1) {
            Some(i) => self.changes[i].1.check(order),
            None => SafetyGate::default().check(order),
        }
    }
}

/// The report that tells the order stage an order was refused by the gate.
pub fn rejection(order: &Order) -> ExecutionReport {
    ExecutionReport {
        ts: order.ts,
        client_id: order.client_id,
        symbol: order.symbol,
        side: order.side,
        status: ReportStatus::Rejected,
        fill_qty: Default::default(),
        fill_price: Default::default(),
        fee: Default::default(),
        liquidity: None,
        leaves_qty: Default::default(),
        event: 0,
        reason: Some(ReportReason::SafetyGate),
        received_ts: order.ts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::{Decimal, OrderKind, Side, SymbolId};
    use proptest::prelude::*;

    fn order(action: OrderAction, reduces: bool) -> Order {
        Order {
            action,
            reduces_exposure: reduces,
            ..Order::new(
                0,
                1,
                SymbolId(0),
                Side::Buy,
                OrderKind::Market,
                Decimal::ZERO,
                Decimal::ONE,
            )
        }
    }

    fn command() -> impl Strategy<Value = ControlCommand> {
        prop_oneof![
            Just(ControlCommand::Normal),
            Just(ControlCommand::Pause),
            Just(ControlCommand::Reduce),
            Just(ControlCommand::Emergency),
            Just(ControlCommand::Reset),
            Just(ControlCommand::Set),
        ]
    }

    proptest! {
        /// After any sequence of commands: cancels always pass; in Pause no new order
        /// passes; in Reduce and Emergency only reducing ones; Emergency holds until Reset.
        #[test]
        fn no_new_order_passes_a_halted_gate(commands in proptest::collection::vec(command(), 0..30), reduces: bool) {
            let mut gate = SafetyGate::default();
            let mut latched = false;
            for c in commands {
                gate.on_control(&ControlEvent { ts: 0, seq: 0, command: c, source: bot4_schemas::ControlSource::File, reason: String::new(), parameter: None });
                latched = match c { ControlCommand::Emergency => true, ControlCommand::Reset => false, _ => latched };
                prop_assert_eq!(latched, gate.mode() == Mode::Emergency);
            }
            prop_assert_eq!(gate.check(&order(OrderAction::Cancel, false)), Decision::Pass);
            let new = gate.check(&order(OrderAction::New, reduces));
            match gate.mode() {
                Mode::Normal => prop_assert_eq!(new, Decision::Pass),
                Mode::Reduce | Mode::Emergency => prop_assert_eq!(new == Decision::Pass, reduces),
                Mode::Pause => prop_assert_ne!(new, Decision::Pass),
            }
        }
    }
}
