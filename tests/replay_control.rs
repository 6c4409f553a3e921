//! Timed control events replayed through the graph: from a Pause on, no new order
//! reaches the venue; an Emergency cancels, flattens and latches through a later Normal
//! and only a Reset lifts it; the drawdown triggers move the system to Reduce and then
//! Emergency by themselves; and the controlled runs, their control events and their
//! audit trails do not depend on the worker layout.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bot4_schemas::{
    AuditEntry, ControlCommand, ControlEvent, ControlSource, Decimal, ExecutionReport, Fill, Nanos,
    Order, OrderAction, ReportStatus, SymbolId, SymbolRegistry,
};
use bot4_tests::{
    digests, generate_market, market_config, registry_of, replay_options, run_replay, table,
    write_control,
};
use tempfile::TempDir;

/// Eight symbols for three hours: the default strategy sends about twenty new orders,
/// spread over the whole run.
fn market(dir: &Path) -> PathBuf {
    let input = dir.join("market");
    generate_market(market_config(8, 3 * 3_600, 1, 4.0), &input);
    input
}

/// The tables of one replay that these tests look at.
struct Run {
    out: PathBuf,
    orders: Vec<Order>,
    reports: Vec<ExecutionReport>,
    fills: Vec<Fill>,
}

fn replay_with(
    input: &Path,
    dir: &Path,
    name: &str,
    workers: usize,
    events: &[(Nanos, &str)],
) -> Run {
    let out = dir.join(name);
    let mut opts = replay_options(input, &out, workers);
    if !events.is_empty() {
        let control = dir.join(format!("{name}.control.csv"));
        write_control(&control, events);
        opts.control = Some(control);
    }
    run_replay(&opts);
    let registry: SymbolRegistry = registry_of(input);
    Run {
        orders: table(&out, &registry),
        reports: table(&out, &registry),
        fills: table(&out, &registry),
        out,
    }
}

impl Run {
    /// Client ids of the new orders decided at or after `t`.
    fn new_orders_from(&self, t: Nanos) -> BTreeSet<u64> {
        self.orders
            .iter()
            .filter(|o| o.action == OrderAction::New && o.ts >= t)
            .map(|o| o.client_id)
            .collect()
    }

    /// The new orders from `t` on that the venue accepted (any report but a rejection).
    fn accepted_from(&self, t: Nanos) -> BTreeSet<u64> {
        let new = self.new_orders_from(t);
        self.reports
            .iter()
            .filter(|r| new.contains(&r.client_id) && r.status != ReportStatus::Rejected)
            .map(|r| r.client_id)
            .collect()
    }

    /// From `t` on the order stage sends no new order at all (the mode holds it back),
    /// so nothing decided from `t` on is accepted or filled.
    fn assert_silent_from(&self, t: Nanos, what: &str) {
        let new = self.new_orders_from(t);
        assert!(new.is_empty(), "{what}: new orders from {t} on: {new:?}");
    }

    /// From `t` on every new order reduces exposure (cancels are not new orders).
    fn assert_only_reducing_from(&self, t: Nanos, what: &str) {
        let growing: Vec<&Order> = self
            .orders
            .iter()
            .filter(|o| o.action == OrderAction::New && o.ts >= t && !o.reduces_exposure)
            .collect();
        assert!(
            growing.is_empty(),
            "{what}: orders that may grow exposure: {growing:?}"
        );
    }

    /// Every symbol's position at the end of the run, from the fills.
    fn final_positions(&self) -> BTreeMap<SymbolId, Decimal> {
        let mut positions = BTreeMap::new();
        for f in &self.fills {
            *positions.entry(f.symbol).or_insert(Decimal::ZERO) += f.side.sign() * f.qty;
        }
        positions
    }

    /// Orders and reports strictly before `t`: a control event cannot change the past.
    fn before(&self, t: Nanos) -> (Vec<Order>, Vec<ExecutionReport>) {
        let mut orders: Vec<Order> = self.orders.iter().filter(|o| o.ts < t).copied().collect();
        let mut reports: Vec<ExecutionReport> =
            self.reports.iter().filter(|r| r.ts < t).copied().collect();
        orders.sort_by_key(|o| (o.ts, o.client_id, o.action == OrderAction::Cancel));
        reports.sort_by_key(ExecutionReport::key);
        (orders, reports)
    }
}

/// The decision times of the uncontrolled run's new orders, in order.
fn new_order_times(run: &Run) -> Vec<Nanos> {
    let mut times: Vec<Nanos> = run
        .orders
        .iter()
        .filter(|o| o.action == OrderAction::New)
        .map(|o| o.ts)
        .collect();
    times.sort_unstable();
    times
}

#[test]
fn pause_rejects_every_new_order_from_its_time_on() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = market(dir.path());
    let free = replay_with(&input, dir.path(), "free", 1, &[]);
    let times = new_order_times(&free);
    assert!(
        times.len() >= 6,
        "too few orders to place a pause: {times:?}"
    );
    // Exactly at the time of an order, so the boundary (`ts >= t` is blocked) is tested.
    let t = times[times.len() / 3];
    assert!(
        !free.accepted_from(t).is_empty(),
        "without the pause some order from {t} on is accepted, or the pause changes nothing"
    );

    let paused = replay_with(&input, dir.path(), "paused-w1", 1, &[(t, "pause")]);
    paused.assert_silent_from(t, "pause, 1 worker");
    assert_eq!(
        paused.before(t),
        free.before(t),
        "orders and reports before the pause are those of the uncontrolled run"
    );
    assert!(
        paused.accepted_from(t).is_empty(),
        "nothing decided from the pause on is accepted"
    );

    let paused2 = replay_with(&input, dir.path(), "paused-w2", 2, &[(t, "pause")]);
    paused2.assert_silent_from(t, "pause, 2 workers");
    let registry = registry_of(&input);
    assert_eq!(
        digests(&paused2.out, &registry),
        digests(&paused.out, &registry),
        "a paused run on 2 workers against 1 worker"
    );
}

#[test]
fn emergency_latches_through_normal_until_reset() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = market(dir.path());
    let free = replay_with(&input, dir.path(), "free", 1, &[]);
    let times = new_order_times(&free);
    assert!(
        times.len() >= 6,
        "too few orders to place the events: {times:?}"
    );
    let (t1, t2) = (times[times.len() / 3], times[times.len() / 2]);
    assert!(t1 < t2, "two distinct event times: {t1}, {t2}");

    // A Pause lifted by Normal trades again after t2: the contrast the latch is judged by.
    let resumed = replay_with(
        &input,
        dir.path(),
        "pause-normal",
        1,
        &[(t1, "pause"), (t2, "normal")],
    );
    assert!(
        !resumed.accepted_from(t2).is_empty(),
        "after pause then normal some new order from {t2} on is accepted"
    );

    let latched = replay_with(
        &input,
        dir.path(),
        "emergency-normal",
        2,
        &[(t1, "emergency"), (t2, "normal")],
    );
    latched.assert_only_reducing_from(t1, "emergency then normal");
    assert!(
        latched.final_positions().values().all(Decimal::is_zero),
        "Emergency ends flat: {:?}",
        latched.final_positions()
    );
    let flattening: BTreeSet<u64> = latched.new_orders_from(t1);
    assert!(
        latched.new_orders_from(t2).is_empty(),
        "after the Normal the latch holds: nothing new ({flattening:?} flattened before)"
    );

    let reset = replay_with(
        &input,
        dir.path(),
        "emergency-reset",
        2,
        &[(t1, "emergency"), (t2, "reset")],
    );
    let between: Vec<&Order> = reset
        .orders
        .iter()
        .filter(|o| o.action == OrderAction::New && o.ts >= t1 && o.ts < t2 && !o.reduces_exposure)
        .collect();
    assert!(
        between.is_empty(),
        "between the emergency and the reset only flattening orders: {between:?}"
    );
    assert!(
        reset
            .orders
            .iter()
            .any(|o| o.action == OrderAction::New && o.ts >= t2 && !o.reduces_exposure),
        "after emergency then reset the strategy trades again"
    );
    assert!(!reset.accepted_from(t2).is_empty());
}

/// The control events and audit trail of a run.
fn control_and_audit(
    out: &Path,
    registry: &SymbolRegistry,
) -> (Vec<ControlEvent>, Vec<AuditEntry>) {
    (table(out, registry), table(out, registry))
}

#[test]
fn a_control_file_gives_the_same_run_for_1_2_and_4_workers() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = market(dir.path());
    let free = replay_with(&input, dir.path(), "free", 1, &[]);
    let times = new_order_times(&free);
    assert!(times.len() >= 8, "too few orders: {times:?}");
    let n = times.len();
    let events = [
        (times[n / 5], "pause"),
        (times[n / 5] + 600_000_000_000, "resume"),
        (times[2 * n / 5], "reduce"),
        (times[3 * n / 5], "emergency"),
        (times[3 * n / 5] + 1, "normal"),
        (times[4 * n / 5], "reset"),
    ];
    let registry = registry_of(&input);
    let one = replay_with(&input, dir.path(), "w1", 1, &events);
    let (control, audit) = control_and_audit(&one.out, &registry);
    assert_eq!(
        control.len(),
        events.len(),
        "every event of the file is recorded"
    );
    assert!(control.iter().all(|e| e.source == ControlSource::File));
    // One entry per event and one per mode change (the Normal inside the latch changes
    // nothing): 6 + 5.
    assert_eq!(audit.len(), 11, "{audit:#?}");
    bot4_operators::audit::verify(&audit, None).expect("an intact chain");
    let reset = times[4 * n / 5];
    let growing: Vec<&Order> = one
        .orders
        .iter()
        .filter(|o| {
            o.action == OrderAction::New
                && (times[2 * n / 5]..reset).contains(&o.ts)
                && !o.reduces_exposure
        })
        .collect();
    assert!(
        growing.is_empty(),
        "from the Reduce to the reset: {growing:?}"
    );
    for workers in [2, 4] {
        let other = replay_with(&input, dir.path(), &format!("w{workers}"), workers, &events);
        assert_eq!(
            digests(&other.out, &registry),
            digests(&one.out, &registry),
            "{workers} workers against 1"
        );
        assert_eq!(
            control_and_audit(&other.out, &registry),
            (control.clone(), audit.clone()),
            "control events and audit trail, {workers} workers against 1"
        );
    }
}

#[test]
fn the_drawdown_limits_move_the_system_to_reduce_then_emergency() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = market(dir.path());
    let registry = registry_of(&input);
    let free = replay_with(&input, dir.path(), "free", 1, &[]);
    let free_dd = bot4_tests::table::<bot4_schemas::EquityPoint>(&free.out, &registry)
        .iter()
        .map(|p| p.drawdown)
        .fold(0.0_f64, f64::max);
    assert!(free_dd > 0.0, "the market must cost the strategy something");
    // A soft limit inside what the uncontrolled run loses, and a hard one inside what
    // the run reduced at the soft limit still loses: the runs are the same up to it.
    let soft = free_dd / 4.0;
    let reduced = dir.path().join("soft-only");
    let mut opts = replay_options(&input, &reduced, 1);
    opts.strategy.safety.soft_drawdown = Some(soft);
    opts.strategy.safety.hard_drawdown = None;
    assert_eq!(run_replay(&opts).final_mode, "reduce");
    let curve = bot4_tests::table::<bot4_schemas::EquityPoint>(&reduced, &registry);
    let reduce_at = control_and_audit(&reduced, &registry).0[0].ts;
    // The point of the epoch that triggered the Reduce ends just before the event.
    let at_trigger = curve
        .iter()
        .find(|p| p.ts == reduce_at - 1)
        .map(|p| p.drawdown)
        .expect("the equity point that triggered the Reduce");
    assert!(at_trigger >= soft);
    let reduced_dd = curve.iter().map(|p| p.drawdown).fold(0.0_f64, f64::max);
    assert!(
        reduced_dd > at_trigger,
        "the drawdown goes on past the point of the Reduce ({reduced_dd} against {at_trigger})"
    );
    let hard = (at_trigger + reduced_dd) / 2.0;
    let mut runs = Vec::new();
    for workers in [1, 2] {
        let out = dir.path().join(format!("drawdown-w{workers}"));
        let mut opts = replay_options(&input, &out, workers);
        opts.strategy.safety.soft_drawdown = Some(soft);
        opts.strategy.safety.hard_drawdown = Some(hard);
        let summary = run_replay(&opts);
        assert_eq!(summary.final_mode, "emergency");
        runs.push(out);
    }
    let (control, audit) = control_and_audit(&runs[0], &registry);
    let triggered: Vec<(ControlCommand, ControlSource)> =
        control.iter().map(|e| (e.command, e.source)).collect();
    assert_eq!(
        triggered,
        [
            (ControlCommand::Reduce, ControlSource::Drawdown),
            (ControlCommand::Emergency, ControlSource::Drawdown)
        ],
        "{control:#?}"
    );
    assert!(control[0].ts < control[1].ts);
    assert_eq!(audit.len(), 4, "two events, two mode changes");
    bot4_operators::audit::verify(&audit, None).expect("an intact chain");
    let orders: Vec<Order> = table(&runs[0], &registry);
    let growing: Vec<&Order> = orders
        .iter()
        .filter(|o| o.action == OrderAction::New && o.ts >= control[0].ts && !o.reduces_exposure)
        .collect();
    assert!(growing.is_empty(), "from the Reduce on: {growing:?}");
    let fills: Vec<Fill> = table(&runs[0], &registry);
    let mut positions: BTreeMap<SymbolId, Decimal> = BTreeMap::new();
    for f in &fills {
        *positions.entry(f.symbol).or_insert(Decimal::ZERO) += f.side.sign() * f.qty;
    }
    assert!(
        positions.values().all(Decimal::is_zero),
        "flat: {positions:?}"
    );
    assert_eq!(
        digests(&runs[1], &registry),
        digests(&runs[0], &registry),
        "triggered runs on 2 workers against 1"
    );
    assert_eq!(control_and_audit(&runs[1], &registry), (control, audit));
}

#[test]
fn a_parameter_change_takes_effect_only_after_its_cooldown() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = market(dir.path());
    let registry = registry_of(&input);
    let free = replay_with(&input, dir.path(), "free", 1, &[]);
    let times = new_order_times(&free);
    assert!(times.len() >= 6, "too few orders: {times:?}");
    let asked = times[times.len() / 3];
    let cooldown: Nanos = 30 * 60 * 1_000_000_000;
    let effective = asked + cooldown;
    let growing_from = |run: &Run, t: Nanos| {
        run.orders
            .iter()
            .filter(|o| o.action == OrderAction::New && o.ts >= t && !o.reduces_exposure)
            .count()
    };
    assert!(
        growing_from(&free, effective) > 0,
        "the uncontrolled run opens positions after the change is in effect"
    );
    assert!(
        free.orders
            .iter()
            .any(|o| o.ts >= asked && o.ts < effective),
        "and trades during the cooldown, which the change must not touch"
    );
    // A cap of one unit of quote currency: no order can open anything once in effect.
    let control = dir.path().join("set.control.csv");
    std::fs::write(
        &control,
        format!("ts,mode,reason,parameter,value\n{asked},set,tighten,orders.max_notional,1\n"),
    )
    .expect("the control file");
    let mut outs = Vec::new();
    for workers in [1, 2] {
        let out = dir.path().join(format!("capped-w{workers}"));
        let mut opts = replay_options(&input, &out, workers);
        opts.control = Some(control.clone());
        opts.strategy.safety.parameter_cooldown_ns = cooldown;
        run_replay(&opts);
        outs.push(out);
    }
    let capped = Run {
        orders: table(&outs[0], &registry),
        reports: table(&outs[0], &registry),
        fills: table(&outs[0], &registry),
        out: outs[0].clone(),
    };
    assert_eq!(
        capped.before(effective),
        free.before(effective),
        "nothing changes before the cooldown has passed"
    );
    assert_eq!(
        growing_from(&capped, effective),
        0,
        "nothing opens after it"
    );
    let (events, audit) = control_and_audit(&outs[0], &registry);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].command, ControlCommand::Set);
    let change = audit
        .iter()
        .find(|e| e.kind == bot4_schemas::AuditKind::ParameterChange)
        .expect("the change is audited");
    let payload: serde_json::Value = serde_json::from_str(&change.payload).expect("JSON");
    assert_eq!(payload["name"], "orders.max_notional");
    assert_eq!(payload["old"], "none");
    assert_eq!(payload["new"], "1");
    assert_eq!(payload["effective_ts"], effective);
    bot4_operators::audit::verify(&audit, None).expect("an intact chain");
    assert_eq!(
        digests(&outs[1], &registry),
        digests(&outs[0], &registry),
        "2 workers against 1"
    );
}

#[test]
fn a_symbol_that_stops_ticking_pauses_trading_until_it_ticks_again() {
    use bot4_schemas::ArrowRecord;
    let dir = TempDir::new().expect("a temporary folder");
    let (registry, ticks) = bot4_tests::market_ticks(market_config(3, 3_600, 1, 4.0));
    let start = bot4_tests::START_TS;
    let minute: Nanos = 60_000_000_000;
    // The first symbol goes silent from minute 20 to minute 40.
    let silent = SymbolId(0);
    let gap = (start + 20 * minute)..(start + 40 * minute);
    let kept: Vec<_> = ticks
        .into_iter()
        .filter(|t| t.symbol != silent || !gap.contains(&t.ts))
        .collect();
    let input = dir.path().join("gappy");
    std::fs::create_dir_all(&input).expect("the input folder");
    let batch = bot4_schemas::Tick::to_batch(&kept, &registry).expect("a tick batch");
    bot4_tests::write_parquet(&input.join("ticks.parquet"), &batch, 100_000);
    std::fs::write(input.join("instruments.csv"), registry.to_csv()).expect("instruments.csv");

    let mut events = Vec::new();
    for workers in [1, 2] {
        let out = dir.path().join(format!("stale-w{workers}"));
        let mut opts = replay_options(&input, &out, workers);
        opts.strategy.safety.stale_after_ns = Some(2 * minute);
        let summary = run_replay(&opts);
        assert_eq!(
            summary.final_mode, "normal",
            "resumed when the data came back"
        );
        events.push(control_and_audit(&out, &registry));
    }
    let (control, audit) = &events[0];
    let seen: Vec<(ControlCommand, ControlSource)> =
        control.iter().map(|e| (e.command, e.source)).collect();
    assert_eq!(
        seen,
        [
            (ControlCommand::Pause, ControlSource::StaleData),
            (ControlCommand::Normal, ControlSource::StaleData)
        ],
        "{control:#?}"
    );
    // Stale once more than two minutes have passed since the epoch of the last tick
    // before the gap, fresh again with the first tick after it.
    let second: Nanos = 1_000_000_000;
    let stale_from = gap.start + 2 * minute;
    assert!(
        (stale_from - 10 * second..stale_from + 2 * second).contains(&control[0].ts),
        "{} against {stale_from}",
        control[0].ts
    );
    assert!((gap.end..gap.end + 10 * second).contains(&control[1].ts));
    assert!(
        control[0].reason.contains(registry.name(silent)),
        "{}",
        control[0].reason
    );
    assert_eq!(audit.len(), 4, "two events, two mode changes");
    assert_eq!(events[1], events[0], "2 workers against 1");
}

#[test]
fn a_capital_tier_that_disables_the_strategy_winds_it_down_with_hysteresis() {
    use bot4_operators::risk::tiers::{default_tiers, Tier};
    use bot4_pipeline::config::TierConfig;

    let dir = TempDir::new().expect("a temporary folder");
    let input = market(dir.path());
    let registry = registry_of(&input);
    let free = replay_with(&input, dir.path(), "free", 1, &[]);
    let capital = bot4_pipeline::config::StrategyConfig::default().capital;
    let lowest = bot4_tests::table::<bot4_schemas::EquityPoint>(&free.out, &registry)
        .iter()
        .map(|p| p.equity)
        .min()
        .expect("an equity curve");
    assert!(
        lowest < capital,
        "the market must cost the strategy something"
    );
    // Two tiers: from the capital up the default one, below it one that enables
    // nothing. The account starts in the upper one and, with hysteresis `h`, leaves it
    // below `capital · (1 − h)`: with `h` a tenth of the way down to the run's lowest
    // equity it does, and then stays down, since a wound-down account no longer trades
    // its way back up to the capital.
    let boundary = capital - (capital - lowest) / Decimal::TEN;
    let h = f64::try_from((capital - boundary) / capital).expect("a fraction");
    let trading = Tier {
        min_equity: capital,
        ..default_tiers()[1].clone()
    };
    let wind_down = Tier {
        name: "wind_down".into(),
        min_equity: Decimal::ZERO,
        strategies: BTreeSet::new(),
        ..default_tiers()[0].clone()
    };
    let tiered = |name: &str, workers: usize, hysteresis: f64| {
        let out = dir.path().join(name);
        let mut opts = bot4_tests::replay_options(&input, &out, workers);
        opts.strategy.tiers = TierConfig {
            tiers: vec![wind_down.clone(), trading.clone()],
            hysteresis,
        };
        run_replay(&opts);
        out
    };

    // With 20% hysteresis the account never falls far enough to leave the tier, and
    // the run is the uncontrolled one.
    let kept = tiered("kept", 1, 0.2);
    assert!(control_and_audit(&kept, &registry).0.is_empty());
    assert_eq!(digests(&kept, &registry), digests(&free.out, &registry));

    // With `h` it leaves the tier at the first epoch that ends below `capital · (1 − h)`.
    let left = tiered("left-w1", 1, h);
    let (control, audit) = control_and_audit(&left, &registry);
    assert_eq!(control.len(), 1, "{control:#?}");
    let change = &control[0];
    assert_eq!(
        (change.command, change.source),
        (ControlCommand::Set, ControlSource::CapitalTier)
    );
    let parameter = change.parameter.as_ref().expect("the tier parameter");
    assert_eq!(
        (parameter.name.as_str(), parameter.value.as_str()),
        ("risk.tier", "wind_down")
    );
    let curve = bot4_tests::table::<bot4_schemas::EquityPoint>(&left, &registry);
    let first_below = curve
        .iter()
        .find(|p| p.equity < capital * (Decimal::ONE - Decimal::try_from(h).expect("h")))
        .expect("the equity falls below the boundary");
    // The point of the epoch that moved the tier ends just before the event.
    assert_eq!(first_below.ts, change.ts - 1);
    assert!(
        audit.iter().any(|a| a.payload.contains("wind_down")),
        "{audit:#?}"
    );
    bot4_operators::audit::verify(&audit, None).expect("an intact chain");
    // Up to the change the run is the uncontrolled one; from it on nothing grows.
    let run = Run {
        orders: table(&left, &registry),
        reports: table(&left, &registry),
        fills: table(&left, &registry),
        out: left.clone(),
    };
    assert_eq!(run.before(change.ts), free.before(change.ts));
    run.assert_only_reducing_from(change.ts + 1, "wind_down tier");
    assert!(
        run.final_positions().values().all(Decimal::is_zero),
        "the desks closed what they held: {:?}",
        run.final_positions()
    );
    // The same on two workers.
    let left2 = tiered("left-w2", 2, h);
    assert_eq!(digests(&left2, &registry), digests(&left, &registry));
    assert_eq!(control_and_audit(&left2, &registry), (control, audit));
}
