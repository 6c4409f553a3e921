//! The desk's hot paths on one thread: the latency of one pre-trade check
//! (`PreTradeRisk::check`), and the throughput of order management closed over the
//! simulated venue (`OrderManager` ⇄ `SymbolVenue`), optionally behind the whole
//! `SymbolDesk` (signal → sizing → manager → checks).
//!
//! **Pre-trade checks.** 65 536 distinct cases (order and context) are drawn from a
//! fixed seed and cycled through for 2 000 000 checks: market, limit, stop and
//! take-profit orders, buys and sells, about a fifth meant to reduce the position,
//! limit and trigger prices around a mid near 30 000 (about 5% outside their band),
//! 1% off the tick grid, and sizes that sometimes break the 5% concentration cap;
//! against a `PortfolioView` of equity 1 000 000 holding 20 other symbols, with a
//! correlation below the 0.7 limit for every pair, so the correlation loop runs over
//! all 20. The order-rate cap is off (`max_orders: 0`); a second run keeps the default
//! 20 orders a second and spaces the orders 50 ms of event time apart. Each check is
//! timed by its own pair of `Instant::now()` reads (the timer's overhead is printed
//! alongside, to subtract), then the same checks run back to back, timed per pass over
//! the cases (31 passes).
//!
//! **Order management + venue.** One symbol, 1 000 000 ticks (a quote every
//! millisecond on a random walk around 30 000, a trade after every third), and a new
//! `OrderIntent` every 100–500 ticks: target long, flat or short (never the previous
//! one), passive or aggressive, with stop and take-profit distances and a time stop of
//! 0.5–3 s; `on_epoch(ts, mid)` every 1 000 ticks (1 s). Everything is generated first
//! from a fixed seed. The loop is closed on one core without epoch delay: every order
//! the manager emits is submitted to the venue, and every report the venue emits on a
//! tick goes straight back to `on_report` at that tick's time (not at its
//! `received_ts`), whose orders go to the venue again. No safety gate. Order events are
//! order messages submitted plus reports applied; ticks are counted apart. The loop
//! runs with the venue's rate limit off and with the full default configuration, and
//! the same ticks alone through a fresh venue give the tick cost to subtract. An
//! untimed pass first checks the loop's consistency (reports for orders the manager
//! does not know, position agreement, orders per call). The manager's passive orders
//! live 2 s (`limit_ttl_ns`) so that expiries are exercised.
//!
//! **Desk.** The same market with a `Signal` at each decision point through
//! `SymbolDesk` (default sizing and limits, the pre-trade rate cap of 20 orders a
//! second included; protection over a 1 s horizon, a 3 s time stop, 2 s passive
//! orders) and the same portfolio view, its mark of this symbol set to the mid at each
//! epoch, closed over the venue with its rate limit off.
//!
//! Run: `cargo run --release -p bot4-benches --bin desk_bench`

#![allow(clippy::print_stdout, reason = "the report is this command's output")]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use bot4_benches::{bench_instrument, latency_line, Cycle, XorShift};
use bot4_operators::desk::{DeskConfig, DeskOutput, ProtectionConfig, SymbolDesk};
use bot4_operators::orders::{OrderConfig, OrderManager};
use bot4_operators::risk::checks::{
    CheckContext, OrderType, PreTradeRisk, ProposedOrder, RiskLimits,
};
use bot4_operators::risk::portfolio::PortfolioView;
use bot4_operators::risk::tiers::TierLimits;
use bot4_operators::venue::{SymbolVenue, VenueConfig};
use bot4_schemas::{
    Decimal, ExecutionReport, Nanos, Order, OrderAction, OrderIntent, OrderKind, ReportStatus,
    Side, Signal, SymbolId, Tick, TickKind, Urgency,
};

/// Distinct pre-trade cases, cycled through.
const CASES: usize = 1 << 16;
/// Pre-trade checks timed.
const CHECKS: usize = 2_000_000;
/// Ticks of the closed loop's market.
const TICKS: usize = 1_000_000;
/// Ticks per epoch.
const EPOCH_TICKS: usize = 1_000;
/// Nanoseconds between ticks.
const TICK_NS: Nanos = 1_000_000;
/// Other symbols the portfolio holds.
const HELD: u32 = 20;
/// The symbol traded.
const SYMBOL: SymbolId = SymbolId(0);

/// A price of `ticks` 0.1-ticks.
fn price(ticks: i64) -> Decimal {
    Decimal::new(ticks, 1)
}

/// A quantity of `n` 0.001-lots.
fn lots(n: i64) -> Decimal {
    Decimal::new(n, 3)
}

/// Equity 1 000 000; the traded symbol with no entry of its own and 20 others held,
/// long and short, each 20 000–45 000 with 2–4% of it at risk; every pair of the 21
/// correlated between −0.6 and 0.65.
fn portfolio(rng: &mut XorShift) -> PortfolioView {
    let mut view = PortfolioView::new(Decimal::from(1_000_000));
    for s in 1..=HELD {
        let size = 20_000 + rng.below(25_000) as i64;
        let sign = if s % 2 == 0 { -1 } else { 1 };
        let risk = Decimal::from(size) * Decimal::new(2 + rng.below(3) as i64, 2);
        view.set_exposure(SymbolId(s), Decimal::from(sign * size), risk);
        view.set_mark(SymbolId(s), Decimal::from(100 + s));
    }
    for a in 0..=HELD {
        for b in a + 1..=HELD {
            let rho = (rng.below(1_251) as f64 - 600.0) / 1_000.0;
            view.set_correlation(SymbolId(a), SymbolId(b), rho);
        }
    }
    view
}

/// One pre-trade case: the order and the symbol's state around it.
#[derive(Clone, Copy)]
struct Case {
    order: ProposedOrder,
    position: Decimal,
    open_buy: Decimal,
    open_sell: Decimal,
    mid: Decimal,
}

fn cases(rng: &mut XorShift) -> Vec<Case> {
    (0..CASES)
        .map(|_| {
            let mid_ticks = 299_000 + rng.below(2_001) as i64;
            let position_lots = rng.below(1_001) as i64 - 500;
            let position = lots(position_lots);
            let open_buy = lots(rng.below(300) as i64);
            let open_sell = lots(rng.below(300) as i64);
            let mut side = rng.side();
            let mut qty = lots(1 + rng.below(1_000) as i64);
            let mut reduces_exposure = false;
            if rng.below(5) == 0 && position_lots != 0 {
                // Meant to reduce: against the position, at most its size (the open
                // orders on that side may still make the checks refuse the claim).
                side = if position.is_sign_positive() {
                    Side::Sell
                } else {
                    Side::Buy
                };
                qty = lots(1 + rng.below(position_lots.unsigned_abs()) as i64);
                reduces_exposure = true;
            }
            let roll = rng.below(100);
            let kind = match roll {
                0..=24 => OrderType::Market,
                25..=64 => OrderType::Limit,
                65..=84 => OrderType::Stop,
                _ => OrderType::TakeProfit,
            };
            let band_miss = rng.below(20) == 0;
            // Ticks from the mid: limits within ±4% (or 6–8% out), triggers 0.5–9%
            // away on the protective side (or 11–13%).
            let limit_offset = if band_miss {
                (18_000 + rng.below(6_000) as i64) * if rng.below(2) == 0 { 1 } else { -1 }
            } else {
                rng.below(24_001) as i64 - 12_000
            };
            let trigger_offset = if band_miss {
                33_000 + rng.below(6_000) as i64
            } else {
                1_500 + rng.below(25_500) as i64
            };
            // A sell stop and a buy take-profit trigger below the mid.
            let below = matches!(
                (kind, side),
                (OrderType::Stop, Side::Sell) | (OrderType::TakeProfit, Side::Buy)
            );
            let trigger_ticks = if below {
                mid_ticks - trigger_offset
            } else {
                mid_ticks + trigger_offset
            };
            let mut off_grid = |p: Decimal| {
                if rng.below(100) == 0 {
                    p + Decimal::new(5, 2)
                } else {
                    p
                }
            };
            let (limit_price, trigger_price) = match kind {
                OrderType::Market => (None, None),
                OrderType::Limit => (Some(off_grid(price(mid_ticks + limit_offset))), None),
                OrderType::Stop | OrderType::TakeProfit => {
                    (None, Some(off_grid(price(trigger_ticks))))
                }
            };
            // The protective stop 2% away on the losing side of the post-trade position.
            let stop_price = if kind == OrderType::Stop {
                trigger_price
            } else if side == Side::Buy {
                Some(price(mid_ticks * 98 / 100))
            } else {
                Some(price(mid_ticks * 102 / 100))
            };
            Case {
                order: ProposedOrder {
                    ts: 0,
                    side,
                    kind,
                    qty,
                    limit_price,
                    trigger_price,
                    reduces_exposure,
                    stop_price,
                },
                position,
                open_buy,
                open_sell,
                mid: price(mid_ticks),
            }
        })
        .collect()
}

fn context<'a>(case: &Case, view: &'a PortfolioView) -> CheckContext<'a> {
    CheckContext {
        symbol: SYMBOL,
        position: case.position,
        open_buy: case.open_buy,
        open_sell: case.open_sell,
        mid: Some(case.mid),
        equity: Some(view.equity),
        portfolio: Some(view),
    }
}

/// Latency and throughput of `PreTradeRisk::check` under `limits`, order `i` at event
/// time `i · spacing`.
fn bench_checks(
    name: &str,
    limits: RiskLimits,
    spacing: Nanos,
    cases: &[Case],
    view: &PortfolioView,
) {
    let pool: Vec<(ProposedOrder, CheckContext<'_>)> =
        cases.iter().map(|c| (c.order, context(c, view))).collect();
    let at = |i: usize, order: &ProposedOrder| ProposedOrder {
        ts: i as Nanos * spacing,
        ..*order
    };

    // Untimed: what the checks decide.
    let mut risk = PreTradeRisk::new(bench_instrument(), limits).expect("valid limits");
    let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut cycle = Cycle::new(&pool);
    for i in 0..CHECKS {
        let (order, ctx) = cycle.next_item();
        let code = match risk.check(&at(i, order), ctx) {
            Ok(()) => "passed",
            Err(reject) => reject.code(),
        };
        *outcomes.entry(code).or_default() += 1;
    }

    let mut risk = PreTradeRisk::new(bench_instrument(), limits).expect("valid limits");
    let mut latency = vec![0u64; CHECKS];
    let mut cycle = Cycle::new(&pool);
    for (i, sample) in latency.iter_mut().enumerate() {
        let (order, ctx) = cycle.next_item();
        let order = at(i, order);
        let t0 = Instant::now();
        black_box(risk.check(black_box(&order), black_box(ctx)).is_ok());
        *sample = t0.elapsed().as_nanos() as u64;
    }

    // Back to back, one pass over the pool per round.
    let mut risk = PreTradeRisk::new(bench_instrument(), limits).expect("valid limits");
    let mut rounds = Vec::with_capacity(CHECKS.div_ceil(CASES));
    let mut passed = 0usize;
    let mut i = 0usize;
    let start = Instant::now();
    for _ in 0..CHECKS.div_ceil(CASES) {
        let t0 = Instant::now();
        for (order, ctx) in &pool {
            let order = at(i, order);
            i += 1;
            passed += usize::from(black_box(risk.check(black_box(&order), black_box(ctx))).is_ok());
        }
        rounds.push(t0.elapsed().as_nanos() as f64 / CASES as f64);
    }
    let total = start.elapsed().as_secs_f64();
    rounds.sort_unstable_by(f64::total_cmp);
    let median = rounds[rounds.len() / 2];

    println!("{name}");
    let outcomes: Vec<String> = outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  outcomes of {CHECKS} checks: {}", outcomes.join(", "));
    println!("  {}", latency_line("per-check (with timer)", &mut latency));
    println!(
        "  back to back: {i} checks in {total:.3} s, {:.2} M checks/s; median pass {median:.1} ns/check ({:.2} M checks/s), best {:.1} ns/check; {passed} passed",
        i as f64 / total / 1e6,
        1e3 / median,
        rounds[0],
    );
}

/// A decision point of the closed loop: the intent the manager gets, and the signal
/// the desk gets instead.
struct Decision {
    tick: usize,
    intent: OrderIntent,
    signal: Signal,
}

/// The market, and the decisions taken on it.
fn session(rng: &mut XorShift) -> (Vec<Tick>, Vec<Decision>) {
    let mut ticks = Vec::with_capacity(TICKS);
    let mut decisions = Vec::new();
    let mut bid_ticks: i64 = 300_000;
    let (mut bid, mut ask) = (price(bid_ticks), price(bid_ticks + 1));
    let mut next_decision = 100 + rng.below(401) as usize;
    let mut direction: i8 = 0;
    for i in 0..TICKS {
        let ts = i as Nanos * TICK_NS;
        bid_ticks += rng.below(5) as i64 - 2;
        let spread = 1 + rng.below(3) as i64;
        let kind = if i % 3 == 2 {
            let buy = rng.below(2) == 0;
            TickKind::Trade {
                price: price(if buy { bid_ticks + spread } else { bid_ticks }),
                size: lots(1 + rng.below(2_000) as i64),
                aggressor: if buy { Side::Buy } else { Side::Sell },
            }
        } else {
            bid = price(bid_ticks);
            ask = price(bid_ticks + spread);
            TickKind::Quote {
                bid,
                bid_size: lots(1 + rng.below(5_000) as i64),
                ask,
                ask_size: lots(1 + rng.below(5_000) as i64),
            }
        };
        ticks.push(Tick {
            ts,
            seq: i as u64,
            symbol: SYMBOL,
            kind,
        });
        if i != next_decision {
            continue;
        }
        next_decision += 100 + rng.below(401) as usize;
        // Long, flat or short: never the previous target's direction.
        direction = (direction + 2 + rng.below(2) as i8) % 3 - 1;
        let qty = lots(50 + rng.below(451) as i64);
        let urgency = if rng.below(5) < 3 {
            Urgency::Passive
        } else {
            Urgency::Aggressive
        };
        let intent = OrderIntent {
            ts,
            seq: i as u64,
            symbol: SYMBOL,
            target: qty * Decimal::from(direction),
            max_position: Decimal::ONE,
            urgency,
            bid,
            ask,
            stop_distance: price(10 + rng.below(41) as i64),
            take_profit_distance: price(15 + rng.below(61) as i64),
            max_hold_ns: (500 + rng.below(2_501) as Nanos) * 1_000_000,
        };
        let strength = 0.3 + rng.below(701) as f64 / 1_000.0;
        let signal = Signal {
            ts,
            seq: i as u64,
            symbol: SYMBOL,
            direction,
            strength,
            confidence: 0.5,
            volatility: 0.6 + rng.below(401) as f64 / 1_000.0,
            edge: 0.2 * f64::from(direction),
            bid,
            ask,
        };
        decisions.push(Decision {
            tick: i,
            intent,
            signal,
        });
    }
    (ticks, decisions)
}

/// What drives the venue: the bare manager, or the whole desk.
trait Driver {
    fn decide(&mut self, decision: &Decision, out: &mut Vec<Order>);
    fn report(&mut self, report: &ExecutionReport, now: Nanos, out: &mut Vec<Order>);
    fn epoch(&mut self, now: Nanos, mid: Decimal, out: &mut Vec<Order>);
    fn manager(&self) -> &OrderManager;
    /// The pre-trade refusals, by reason.
    fn refusals(&self) -> String;
}

fn manager() -> OrderManager {
    let config = OrderConfig {
        limit_ttl_ns: 2_000_000_000,
        ..OrderConfig::default()
    };
    OrderManager::new(SYMBOL, bench_instrument(), config)
}

impl Driver for OrderManager {
    #[inline]
    fn decide(&mut self, decision: &Decision, out: &mut Vec<Order>) {
        self.on_intent(&decision.intent, out);
    }

    #[inline]
    fn report(&mut self, report: &ExecutionReport, now: Nanos, out: &mut Vec<Order>) {
        self.on_report(report, now, out);
    }

    #[inline]
    fn epoch(&mut self, now: Nanos, mid: Decimal, out: &mut Vec<Order>) {
        self.on_epoch(now, Some(mid), out);
    }

    fn manager(&self) -> &OrderManager {
        self
    }

    fn refusals(&self) -> String {
        "none (no checks)".into()
    }
}

/// The desk with a fixed portfolio view, its outputs' orders passed on.
struct Desk {
    desk: SymbolDesk,
    view: PortfolioView,
    produced: Vec<DeskOutput>,
    refused: BTreeMap<String, u64>,
}

impl Desk {
    fn new(view: PortfolioView) -> Self {
        let config = DeskConfig {
            orders: OrderConfig {
                limit_ttl_ns: 2_000_000_000,
                ..OrderConfig::default()
            },
            protection: ProtectionConfig {
                horizon_ns: 1_000_000_000,
                max_hold_ns: 3_000_000_000,
                ..ProtectionConfig::default()
            },
            ..DeskConfig::default()
        };
        Self {
            desk: SymbolDesk::new(SYMBOL, bench_instrument(), &config).expect("valid desk limits"),
            view,
            produced: Vec::new(),
            refused: BTreeMap::new(),
        }
    }

    fn pass_on(&mut self, out: &mut Vec<Order>) {
        for output in self.produced.drain(..) {
            match output {
                DeskOutput::Order(order) => out.push(order),
                DeskOutput::Refused(_, report) => {
                    let reason = format!("{:?}", report.reason);
                    *self.refused.entry(reason).or_default() += 1;
                }
                DeskOutput::Stop(_) => {}
            }
        }
    }
}

impl Driver for Desk {
    #[inline]
    fn decide(&mut self, decision: &Decision, out: &mut Vec<Order>) {
        self.desk.on_signal(
            &decision.signal,
            Some(&self.view),
            TierLimits::NONE,
            &mut self.produced,
        );
        self.pass_on(out);
    }

    #[inline]
    fn report(&mut self, report: &ExecutionReport, now: Nanos, out: &mut Vec<Order>) {
        self.desk
            .on_report(report, now, Some(&self.view), &mut self.produced);
        self.pass_on(out);
    }

    #[inline]
    fn epoch(&mut self, now: Nanos, mid: Decimal, out: &mut Vec<Order>) {
        // The desk takes its mark from the view, as the graph's view of the epoch
        // before would give it; the rest of the view stays as it is.
        self.view.set_mark(SYMBOL, mid);
        self.desk
            .on_epoch(now, Some(&self.view), &mut self.produced);
        self.pass_on(out);
    }

    fn manager(&self) -> &OrderManager {
        self.desk.manager()
    }

    fn refusals(&self) -> String {
        if self.refused.is_empty() {
            return "none".into();
        }
        let reasons: Vec<String> = self
            .refused
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!("{} ({})", self.desk.refusals(), reasons.join(", "))
    }
}

/// Counts of one closed-loop run.
#[derive(Default)]
struct Counts {
    ticks: u64,
    /// New orders by kind: market, limit, stop, take-profit.
    new: [u64; 4],
    cancels: u64,
    /// Reports applied, by status.
    reports: BTreeMap<&'static str, u64>,
    /// Rejected and unrequested-cancel reports by reason.
    reasons: BTreeMap<String, u64>,
    /// Reports whose order the manager no longer (or never) had open.
    unknown: u64,
    /// The most orders one call emitted.
    max_per_call: usize,
    /// Orders emitted by decisions, reports and epochs.
    by_source: [u64; 3],
}

impl Counts {
    fn orders(&self) -> u64 {
        self.new.iter().sum::<u64>() + self.cancels
    }

    fn applied(&self) -> u64 {
        self.reports.values().sum()
    }
}

fn status_name(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Submitted => "submitted",
        ReportStatus::Accepted => "accepted",
        ReportStatus::Triggered => "triggered",
        ReportStatus::PartiallyFilled => "partial",
        ReportStatus::Filled => "filled",
        ReportStatus::Cancelled => "cancelled",
        ReportStatus::Expired => "expired",
        ReportStatus::Rejected => "rejected",
    }
}

/// Submit `orders` (draining it); with `AUDIT`, count them.
#[inline]
fn submit<const AUDIT: bool>(
    venue: &mut SymbolVenue,
    orders: &mut Vec<Order>,
    source: usize,
    counts: &mut Counts,
) -> u64 {
    let n = orders.len() as u64;
    if AUDIT {
        counts.max_per_call = counts.max_per_call.max(orders.len());
        counts.by_source[source] += n;
        for order in orders.iter() {
            match (order.action, order.kind) {
                (OrderAction::Cancel, _) => counts.cancels += 1,
                (OrderAction::New, OrderKind::Market) => counts.new[0] += 1,
                (OrderAction::New, OrderKind::Limit) => counts.new[1] += 1,
                (OrderAction::New, OrderKind::Stop) => counts.new[2] += 1,
                (OrderAction::New, OrderKind::TakeProfit) => counts.new[3] += 1,
            }
        }
    }
    for order in orders.drain(..) {
        black_box(venue.submit(order));
    }
    n
}

/// Run the closed loop once; the order events (messages plus reports applied), and
/// with `AUDIT` the counts.
fn closed_loop<D: Driver, const AUDIT: bool>(
    driver: &mut D,
    venue: &mut SymbolVenue,
    ticks: &[Tick],
    decisions: &[Decision],
    counts: &mut Counts,
) -> u64 {
    let mut reports = Vec::with_capacity(256);
    let mut orders = Vec::with_capacity(64);
    let mut events = 0u64;
    let mut next = decisions.iter().peekable();
    let (mut bid, mut ask) = (Decimal::ZERO, Decimal::ZERO);
    for (i, tick) in ticks.iter().enumerate() {
        venue.on_tick(tick, &mut reports);
        if let TickKind::Quote { bid: b, ask: a, .. } = tick.kind {
            (bid, ask) = (b, a);
        }
        for report in &reports {
            if AUDIT {
                if driver.manager().order(report.client_id).is_none() {
                    counts.unknown += 1;
                }
                *counts
                    .reports
                    .entry(status_name(report.status))
                    .or_default() += 1;
                if let Some(reason) = report.reason {
                    if matches!(
                        report.status,
                        ReportStatus::Rejected | ReportStatus::Cancelled
                    ) {
                        let key = format!("{}:{reason:?}", status_name(report.status));
                        *counts.reasons.entry(key).or_default() += 1;
                    }
                }
            }
            driver.report(report, tick.ts, &mut orders);
            events += 1 + submit::<AUDIT>(venue, &mut orders, 1, counts);
        }
        reports.clear();
        if i % EPOCH_TICKS == 0 && i > 0 {
            driver.epoch(tick.ts, (bid + ask) / Decimal::TWO, &mut orders);
            events += submit::<AUDIT>(venue, &mut orders, 2, counts);
        }
        if let Some(decision) = next.next_if(|d| d.tick == i) {
            driver.decide(decision, &mut orders);
            events += submit::<AUDIT>(venue, &mut orders, 0, counts);
        }
    }
    if AUDIT {
        counts.ticks = ticks.len() as u64;
    }
    events
}

/// The ticks alone through a fresh venue: the tick cost to subtract.
fn ticks_alone(config: &VenueConfig, ticks: &[Tick]) -> f64 {
    let mut venue = SymbolVenue::new(bench_instrument(), config.clone(), 1);
    let mut reports = Vec::with_capacity(256);
    let start = Instant::now();
    for tick in ticks {
        venue.on_tick(black_box(tick), &mut reports);
        reports.clear();
    }
    start.elapsed().as_secs_f64()
}

fn bench_loop<D: Driver>(
    name: &str,
    make: impl Fn() -> D,
    config: &VenueConfig,
    ticks: &[Tick],
    decisions: &[Decision],
) {
    // Untimed audit pass.
    let mut counts = Counts::default();
    let mut driver = make();
    let mut venue = SymbolVenue::new(bench_instrument(), config.clone(), 1);
    let audited = closed_loop::<D, true>(&mut driver, &mut venue, ticks, decisions, &mut counts);
    let stats = driver.manager().stats();
    let (manager_position, venue_position) = (driver.manager().position(), venue.position());
    let (manager_open, venue_open) = (driver.manager().open_orders(), venue.open_orders());
    let refusals = driver.refusals();

    let mut driver = make();
    let mut venue = SymbolVenue::new(bench_instrument(), config.clone(), 1);
    let mut unused = Counts::default();
    let start = Instant::now();
    let events = closed_loop::<D, false>(&mut driver, &mut venue, ticks, decisions, &mut unused);
    let elapsed = start.elapsed().as_secs_f64();
    let alone = ticks_alone(config, ticks);
    assert_eq!(events, audited, "the timed run must repeat the audited one");

    let n_ticks = ticks.len() as f64;
    let marginal = (elapsed - alone).max(f64::MIN_POSITIVE);
    println!("{name}");
    println!(
        "  {events} order events ({} messages + {} reports) and {} ticks in {elapsed:.3} s: {:.2} M order events/s over the whole loop, {:.2} M events/s ticks included",
        counts.orders(),
        counts.applied(),
        counts.ticks,
        events as f64 / elapsed / 1e6,
        (events as f64 + n_ticks) / elapsed / 1e6,
    );
    println!(
        "  the ticks alone take {alone:.3} s ({:.0} ns/tick): the order events' share is {:.3} s, {:.0} ns/event, {:.2} M order events/s",
        alone * 1e9 / n_ticks,
        elapsed - alone,
        marginal * 1e9 / events as f64,
        events as f64 / marginal / 1e6,
    );
    println!(
        "  {} decisions; new orders: market {}, limit {}, stop {}, take-profit {}; cancels {}; by source: decisions {}, reports {}, epochs {}; at most {} from one call",
        decisions.len(),
        counts.new[0],
        counts.new[1],
        counts.new[2],
        counts.new[3],
        counts.cancels,
        counts.by_source[0],
        counts.by_source[1],
        counts.by_source[2],
        counts.max_per_call,
    );
    let reports: Vec<String> = counts
        .reports
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("  reports: {}", reports.join(", "));
    let reasons: Vec<String> = counts
        .reasons
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "  rejections and unrequested cancels: {}",
        reasons.join(", ")
    );
    println!(
        "  manager: sent {}, cancels {}, filled {}, rejected {}, duplicates {}, anomalies {}, protective exits {}; reports for orders it did not hold open {}",
        stats.sent,
        stats.cancels,
        stats.filled,
        stats.rejected,
        stats.duplicates,
        stats.anomalies,
        stats.protective_exits,
        counts.unknown,
    );
    println!("  pre-trade refusals: {refusals}");
    println!(
        "  at the end: position manager {manager_position} / venue {venue_position}; open orders manager {manager_open} / venue {venue_open}",
    );
}

fn main() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let view = portfolio(&mut rng);
    let cases = cases(&mut rng);

    let mut timer = vec![0u64; CHECKS];
    for sample in timer.iter_mut() {
        let t0 = Instant::now();
        *sample = t0.elapsed().as_nanos() as u64;
    }
    println!(
        "pre-trade checks: {CASES} distinct cases cycled, {HELD} other symbols held, every pair correlated below the limit"
    );
    println!("  {}", latency_line("timer overhead", &mut timer));
    bench_checks(
        "rate cap off (max_orders 0)",
        RiskLimits {
            max_orders: 0,
            ..RiskLimits::default()
        },
        0,
        &cases,
        &view,
    );
    bench_checks(
        "default limits (20 orders/s), orders 50 ms apart",
        RiskLimits::default(),
        50_000_000,
        &cases,
        &view,
    );

    let (ticks, decisions) = session(&mut rng);
    let unlimited = VenueConfig {
        rate_limit: None,
        ..VenueConfig::default()
    };
    println!();
    println!("order manager ⇄ venue, closed loop on one thread, reports applied at their tick");
    bench_loop(
        "venue without rate limit",
        manager,
        &unlimited,
        &ticks,
        &decisions,
    );
    bench_loop(
        "venue default config",
        manager,
        &VenueConfig::default(),
        &ticks,
        &decisions,
    );
    println!();
    println!("signal → desk (sizing, manager, pre-trade checks) ⇄ venue without rate limit");
    bench_loop(
        "desk",
        || Desk::new(view.clone()),
        &unlimited,
        &ticks,
        &decisions,
    );
}
