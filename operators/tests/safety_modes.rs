//! The safety controller's modes end to end on one symbol: the order manager, the
//! safety gate and the venue simulator in a closed loop, driven by random markets,
//! random targets and random control events.
//!
//! Invariants: after Pause or Emergency at `t`, no order of time ≥ `t` passes the gate
//! but cancels and the flattening orders; in Reduce and Emergency no order that passes
//! can increase exposure, even if every open order on its side fills; Emergency ends
//! flat with no open orders; the latch holds until a reset.

use bot4_operators::orders::{OrderConfig, OrderManager};
use bot4_operators::safety_gate::{rejection, Decision, Mode, SafetyGate};
use bot4_operators::venue::{FeeTier, Latency, SymbolVenue, VenueConfig};
use bot4_schemas::{
    ControlCommand, ControlEvent, ControlSource, Decimal, ExecutionReport, Instrument, Nanos,
    Order, OrderAction, OrderIntent, Side, SymbolId, Tick, TickKind, Urgency,
};
use proptest::prelude::*;

fn instrument() -> Instrument {
    Instrument {
        symbol: "TEST-USDT".into(),
        tick_size: Decimal::new(5, 1),
        lot_size: Decimal::new(1, 1),
        min_notional: Decimal::from(10),
    }
}

#[derive(Debug, Clone)]
enum Step {
    Quote {
        bid_halves: i64,
        size: i64,
    },
    Trade {
        price_halves: i64,
        size: i64,
        buy: bool,
    },
    Target {
        tenths: i64,
        aggressive: bool,
    },
    Control(ControlCommand),
}

fn command() -> impl Strategy<Value = ControlCommand> {
    prop_oneof![
        Just(ControlCommand::Normal),
        Just(ControlCommand::Pause),
        Just(ControlCommand::Reduce),
        Just(ControlCommand::Emergency),
        Just(ControlCommand::Reset),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (190i64..210, 1i64..40).prop_map(|(bid_halves, size)| Step::Quote { bid_halves, size }),
        3 => (188i64..212, 1i64..40, any::<bool>())
            .prop_map(|(price_halves, size, buy)| Step::Trade { price_halves, size, buy }),
        3 => (-50i64..=50, any::<bool>())
            .prop_map(|(tenths, aggressive)| Step::Target { tenths, aggressive }),
        1 => command().prop_map(Step::Control),
    ]
}

/// The loop: what the graph does for one symbol, with no epoch delay.
struct Loop {
    manager: OrderManager,
    gate: SafetyGate,
    venue: SymbolVenue,
    position: Decimal,
    bid: Decimal,
    ask: Decimal,
    ts: Nanos,
    seq: u64,
    /// Open orders at the venue by the loop's own count: (client id, side, remaining).
    open: Vec<(u64, Side, Decimal)>,
    reports: Vec<ExecutionReport>,
}

impl Loop {
    fn new() -> Self {
        let config = VenueConfig {
            entry_latency: Latency {
                median_ns: 10,
                sigma: 0.0,
            },
            ack_latency: Latency {
                median_ns: 1,
                sigma: 0.0,
            },
            fee_tiers: FeeTier::flat(Decimal::new(2, 4), Decimal::new(5, 4)),
            impact_coef: None,
            rate_limit: None,
            ..Default::default()
        };
        Self {
            manager: OrderManager::new(SymbolId(0), instrument(), OrderConfig::default()),
            gate: SafetyGate::default(),
            venue: SymbolVenue::new(instrument(), config, 0),
            position: Decimal::ZERO,
            bid: Decimal::from(100),
            ask: Decimal::new(1005, 1),
            ts: 0,
            seq: 0,
            open: Vec::new(),
            reports: Vec::new(),
        }
    }

    /// Send the manager's orders through the gate, checking each against the mode.
    fn route(&mut self, orders: Vec<Order>) -> Result<(), TestCaseError> {
        for order in orders {
            match self.gate.check(&order) {
                Decision::Pass => {
                    let mode = self.gate.mode();
                    if order.action == OrderAction::New {
                        prop_assert_ne!(mode, Mode::Pause, "a new order passed in Pause");
                        if mode != Mode::Normal {
                            prop_assert!(order.reduces_exposure);
                            // Even if every open order on its side fills too, exposure
                            // shrinks without changing sign.
                            let same_side: Decimal = self
                                .open
                                .iter()
                                .filter(|(_, s, _)| *s == order.side)
                                .map(|(_, _, q)| *q)
                                .sum();
                            let worst = self.position + order.side.sign() * (same_side + order.qty);
                            prop_assert!(
                                worst.abs() <= self.position.abs()
                                    && (worst.is_zero()
                                        || worst.is_sign_negative()
                                            == self.position.is_sign_negative()),
                                "{mode:?}: {order:?} could take {} to {worst}",
                                self.position
                            );
                        }
                        self.open.push((order.client_id, order.side, order.qty));
                    }
                    self.venue.submit(order);
                }
                Decision::Block(_) => self.reports.push(rejection(&order)),
            }
        }
        Ok(())
    }

    /// Deliver reports to the manager (and the loop's books) until none are left.
    fn settle(&mut self) -> Result<(), TestCaseError> {
        while !self.reports.is_empty() {
            let reports = std::mem::take(&mut self.reports);
            let mut orders = Vec::new();
            for r in &reports {
                self.position += r.side.sign() * r.fill_qty;
                if let Some(o) = self.open.iter_mut().find(|o| o.0 == r.client_id) {
                    o.2 = r.leaves_qty;
                }
                if r.status.is_terminal() {
                    self.open.retain(|o| o.0 != r.client_id);
                }
                self.manager.on_report(r, self.ts, &mut orders);
            }
            self.route(orders)?;
        }
        Ok(())
    }

    fn tick(&mut self, kind: TickKind) -> Result<(), TestCaseError> {
        self.ts += 1_000;
        self.seq += 1;
        let tick = Tick {
            ts: self.ts,
            seq: self.seq,
            symbol: SymbolId(0),
            kind,
        };
        let mut reports = Vec::new();
        self.venue.on_tick(&tick, &mut reports);
        self.reports.extend(reports);
        self.settle()
    }

    fn quote(&mut self, bid_halves: i64, size: i64) -> Result<(), TestCaseError> {
        self.bid = Decimal::new(bid_halves * 5, 1);
        self.ask = self.bid + Decimal::new(5, 1);
        let size = Decimal::new(size, 1);
        self.tick(TickKind::Quote {
            bid: self.bid,
            bid_size: size,
            ask: self.ask,
            ask_size: size,
        })
    }

    fn control(&mut self, command: ControlCommand) -> Result<(), TestCaseError> {
        self.ts += 1_000;
        let event = ControlEvent {
            ts: self.ts,
            seq: self.seq,
            command,
            source: ControlSource::File,
            reason: String::new(),
            parameter: None,
        };
        let latched = self.gate.mode() == Mode::Emergency;
        self.gate.on_control(&event);
        if latched && command != ControlCommand::Reset {
            prop_assert_eq!(self.gate.mode(), Mode::Emergency, "the latch gave way");
        }
        let mut orders = Vec::new();
        self.manager
            .set_mode(self.gate.mode(), self.ts, &mut orders);
        self.route(orders)?;
        self.settle()
    }

    fn target(&mut self, tenths: i64, aggressive: bool) -> Result<(), TestCaseError> {
        self.ts += 1_000;
        let intent = OrderIntent {
            ts: self.ts,
            seq: self.seq,
            symbol: SymbolId(0),
            target: Decimal::new(tenths, 1),
            max_position: Decimal::from(5),
            urgency: if aggressive {
                Urgency::Aggressive
            } else {
                Urgency::Passive
            },
            bid: self.bid,
            ask: self.ask,
            stop_distance: Decimal::ZERO,
            take_profit_distance: Decimal::ZERO,
            max_hold_ns: 0,
        };
        let mut orders = Vec::new();
        self.manager.on_intent(&intent, &mut orders);
        self.route(orders)?;
        self.settle()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_modes_hold_whatever_the_market_and_the_targets(
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let mut l = Loop::new();
        l.quote(200, 20)?;
        for s in steps {
            match s {
                Step::Quote { bid_halves, size } => l.quote(bid_halves, size)?,
                Step::Trade { price_halves, size, buy } => l.tick(TickKind::Trade {
                    price: Decimal::new(price_halves * 5, 1),
                    size: Decimal::new(size, 1),
                    aggressor: if buy { Side::Buy } else { Side::Sell },
                })?,
                Step::Target { tenths, aggressive } => l.target(tenths, aggressive)?,
                Step::Control(c) => l.control(c)?,
            }
            prop_assert_eq!(l.position, l.manager.position(), "the manager's position is the fills'");
        }
        // Emergency, then a market deep enough to fill anything: flat, nothing open,
        // and still latched.
        l.control(ControlCommand::Emergency)?;
        for i in 0..6 {
            l.quote(200 + i % 2, 1_000)?;
        }
        prop_assert_eq!(l.position, Decimal::ZERO, "Emergency must end flat");
        prop_assert_eq!(l.manager.open_orders(), 0);
        prop_assert_eq!(l.venue.open_orders(), 0);
        l.target(30, true)?;
        l.control(ControlCommand::Normal)?;
        l.target(-30, true)?;
        l.quote(200, 1_000)?;
        prop_assert_eq!(l.position, Decimal::ZERO, "the latch holds until a reset");
        l.control(ControlCommand::Reset)?;
        // The reset pursues the last target (-3) at once; let it fill, then a new one.
        l.quote(201, 1_000)?;
        l.quote(200, 1_000)?;
        prop_assert_eq!(l.position, Decimal::from(-3), "after the reset the strategy trades");
        l.target(20, true)?;
        l.quote(201, 1_000)?;
        l.quote(200, 1_000)?;
        prop_assert_eq!(l.position, Decimal::from(2));
    }
}

#[test]
fn reduce_cuts_the_position_in_a_first_stage_then_never_grows_it() {
    let mut l = Loop::new();
    l.quote(200, 1_000).expect("quote");
    l.target(40, true).expect("target");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(l.position, Decimal::from(4));
    l.control(ControlCommand::Reduce).expect("reduce");
    // The first stage: half the position, as a passive limit order at the ask.
    for i in 0..4 {
        l.tick(TickKind::Trade {
            price: Decimal::new(1005 + i, 1),
            size: Decimal::from(10),
            aggressor: Side::Buy,
        })
        .expect("trade");
    }
    assert_eq!(l.position, Decimal::from(2));
    // A larger target is not pursued; a smaller one is.
    l.target(40, true).expect("target");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(l.position, Decimal::from(2));
    l.target(10, true).expect("target");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(l.position, Decimal::ONE);
    // Resuming pursues the strategy's target again.
    l.control(ControlCommand::Normal).expect("resume");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(l.position, Decimal::ONE, "the last target was 1");
    l.target(30, true).expect("target");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(l.position, Decimal::from(3));
}

#[test]
fn pause_keeps_orders_and_position_and_resume_pursues_the_target() {
    let mut l = Loop::new();
    l.quote(200, 1_000).expect("quote");
    l.target(20, false).expect("target");
    assert_eq!(l.manager.open_orders(), 1, "a passive order rests");
    l.control(ControlCommand::Pause).expect("pause");
    assert_eq!(l.manager.open_orders(), 1, "kept");
    l.target(-20, true).expect("target");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(l.manager.open_orders(), 1, "nothing new, nothing cancelled");
    assert_eq!(l.position, Decimal::ZERO);
    l.control(ControlCommand::Normal).expect("resume");
    l.quote(200, 1_000).expect("quote");
    l.quote(200, 1_000).expect("quote");
    assert_eq!(
        l.position,
        Decimal::from(-2),
        "the latest target, once resumed"
    );
}
