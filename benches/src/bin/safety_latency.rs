//! Per-order latency of the safety controller's decisions, the p50, p99, p99.9 and max:
//! the gate's decision on one order (`ModeTimeline::check`: the mode at the order's event
//! time among a day of mode changes, then the mode's rule), and the automatic triggers'
//! end-of-epoch check (`SafetyTriggers::on_epoch_end` over 20 symbols).
//!
//! 1 000 000 orders, spread over a day of event time with a mode change every ten
//! minutes (144 changes through every mode, Emergency latched and reset), are decided
//! once untimed, then each by its own pair of `Instant::now()` reads; the timer's own
//! overhead is measured and printed alongside.
//!
//! Run: `cargo run --release -p bot4-benches --bin safety_latency`

#![allow(clippy::print_stdout, reason = "the report is this command's output")]

use std::hint::black_box;
use std::time::Instant;

use bot4_benches::latency_line;
use bot4_operators::safety_gate::{Decision, ModeTimeline};
use bot4_operators::safety_triggers::{SafetyTriggers, TriggerConfig};
use bot4_schemas::{
    ControlCommand, ControlEvent, ControlSource, Decimal, Nanos, Order, OrderAction, OrderKind,
    Side, SymbolId,
};

const ORDERS: usize = 1_000_000;
const DAY: Nanos = 86_400_000_000_000;

fn main() {
    let commands = [
        ControlCommand::Pause,
        ControlCommand::Normal,
        ControlCommand::Reduce,
        ControlCommand::Emergency,
        ControlCommand::Normal,
        ControlCommand::Reset,
    ];
    let mut timeline = ModeTimeline::default();
    let mut changes = 0;
    for i in 0..144 {
        let event = ControlEvent {
            ts: i * 600_000_000_000,
            seq: i as u64,
            command: commands[i as usize % commands.len()],
            source: ControlSource::File,
            reason: String::new(),
            parameter: None,
        };
        changes += usize::from(timeline.apply(&event));
    }
    let orders: Vec<Order> = (0..ORDERS)
        .map(|i| Order {
            ts: (i as i64) * (DAY / ORDERS as i64),
            client_id: i as u64,
            symbol: SymbolId((i % 20) as u32),
            action: if i % 5 == 0 {
                OrderAction::Cancel
            } else {
                OrderAction::New
            },
            side: if i % 2 == 0 { Side::Buy } else { Side::Sell },
            kind: OrderKind::Limit,
            price: Decimal::new(1000, 1),
            trigger: Decimal::ZERO,
            qty: Decimal::ONE,
            tif: bot4_schemas::TimeInForce::Gtc,
            expire_ts: Nanos::MAX,
            reduces_exposure: i % 3 == 0,
            reduce_only: false,
            oco: 0,
        })
        .collect();
    let mut passed = 0usize;
    for order in &orders {
        passed += usize::from(timeline.check(order) == Decision::Pass);
    }

    let mut timer = vec![0u64; ORDERS];
    for sample in timer.iter_mut() {
        let t0 = Instant::now();
        *sample = t0.elapsed().as_nanos() as u64;
    }
    let mut latency = vec![0u64; ORDERS];
    for (sample, order) in latency.iter_mut().zip(&orders) {
        let t0 = Instant::now();
        black_box(timeline.check(black_box(order)));
        *sample = t0.elapsed().as_nanos() as u64;
    }
    println!("safety gate: {ORDERS} orders over a day, {changes} mode changes, {passed} passed");
    println!("{}", latency_line("timer overhead", &mut timer));
    println!("{}", latency_line("per-order (with timer)", &mut latency));

    let names: Vec<String> = (0..20).map(|i| format!("SYM{i}")).collect();
    let mut triggers = SafetyTriggers::new(TriggerConfig::default(), names);
    let epochs = 86_400usize;
    let mut epoch_latency = vec![0u64; epochs];
    let mut out = Vec::new();
    for (e, sample) in epoch_latency.iter_mut().enumerate() {
        let now = e as i64 * 1_000_000_000;
        for s in 0..20u32 {
            triggers.on_tick(SymbolId(s), now);
        }
        if e % 97 == 0 {
            triggers.on_reject(now);
        }
        let drawdown = (e % 1000) as f64 * 1e-4;
        let t0 = Instant::now();
        triggers.on_epoch_end(black_box(now), black_box(Some(drawdown)), &mut out);
        *sample = t0.elapsed().as_nanos() as u64;
        for event in out.drain(..) {
            triggers.on_control(&event);
        }
    }
    println!();
    println!("safety triggers: {epochs} one-second epochs of 20 symbols");
    println!(
        "{}",
        latency_line("per-epoch (with timer)", &mut epoch_latency)
    );
}
