//! Timed control events replayed through the graph: from a Pause on, no new order
//! reaches the venue; an Emergency latches through a later Normal and only a Reset lifts
//! it; and the controlled runs do not depend on the worker layout.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bot4_schemas::{
    ExecutionReport, Fill, Nanos, Order, OrderAction, ReportStatus, SymbolRegistry,
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

    /// Every new order from `t` on has reports, and all of them are rejections; none of
    /// them filled.
    fn assert_blocked_from(&self, t: Nanos, what: &str) {
        let new = self.new_orders_from(t);
        assert!(
            !new.is_empty(),
            "{what}: the strategy must still send new orders from {t} on, or nothing is tested"
        );
        for id in &new {
            let statuses: Vec<ReportStatus> = self
                .reports
                .iter()
                .filter(|r| r.client_id == *id)
                .map(|r| r.status)
                .collect();
            assert!(
                !statuses.is_empty() && statuses.iter().all(|s| *s == ReportStatus::Rejected),
                "{what}: order {id} decided at or after {t} must only be rejected, got {statuses:?}"
            );
        }
        let leaked: Vec<&Fill> = self
            .fills
            .iter()
            .filter(|f| new.contains(&f.client_id))
            .collect();
        assert!(
            leaked.is_empty(),
            "{what}: fills of blocked orders: {leaked:?}"
        );
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
    paused.assert_blocked_from(t, "pause, 1 worker");
    assert_eq!(
        paused.before(t),
        free.before(t),
        "orders and reports before the pause are those of the uncontrolled run"
    );
    assert!(
        paused
            .reports
            .iter()
            .any(|r| r.ts >= t && r.status == ReportStatus::Rejected),
        "the pause shows up as rejection reports"
    );

    let paused2 = replay_with(&input, dir.path(), "paused-w2", 2, &[(t, "pause")]);
    paused2.assert_blocked_from(t, "pause, 2 workers");
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
    latched.assert_blocked_from(t1, "emergency then normal");
    assert!(
        !latched.new_orders_from(t2).is_empty(),
        "the strategy keeps trying after the Normal, so the latch is what blocks it"
    );

    let reset = replay_with(
        &input,
        dir.path(),
        "emergency-reset",
        2,
        &[(t1, "emergency"), (t2, "reset")],
    );
    let between: BTreeSet<u64> = reset
        .new_orders_from(t1)
        .difference(&reset.new_orders_from(t2))
        .copied()
        .collect();
    assert!(
        reset.accepted_from(t1).is_disjoint(&between),
        "between the emergency and the reset nothing is accepted"
    );
    assert!(
        !reset.accepted_from(t2).is_empty(),
        "after emergency then reset some new order from {t2} on is accepted"
    );
}
