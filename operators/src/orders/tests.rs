use super::*;
use bot4_schemas::Liquidity;
use proptest::prelude::*;

fn btc() -> Instrument {
    Instrument {
        symbol: "BTC-USDT".into(),
        tick_size: Decimal::new(1, 1),
        lot_size: Decimal::new(1, 4),
        min_notional: Decimal::from(5),
    }
}

fn intent(ts: Nanos, target: Decimal, urgency: Urgency) -> OrderIntent {
    OrderIntent {
        ts,
        seq: 0,
        symbol: SymbolId(0),
        target,
        max_position: Decimal::from(2),
        urgency,
        bid: Decimal::from(50_000),
        ask: Decimal::new(500001, 1),
        stop_distance: Decimal::ZERO,
        take_profit_distance: Decimal::ZERO,
        max_hold_ns: 0,
    }
}

fn bracketed(ts: Nanos, target: Decimal) -> OrderIntent {
    OrderIntent {
        stop_distance: Decimal::from(500),
        take_profit_distance: Decimal::from(1_000),
        max_hold_ns: 3_600_000_000_000,
        ..intent(ts, target, Urgency::Aggressive)
    }
}

fn report(
    order: &Order,
    status: ReportStatus,
    qty: Decimal,
    price: Decimal,
    leaves: Decimal,
    event: u32,
) -> ExecutionReport {
    ExecutionReport {
        ts: order.ts + 1,
        client_id: order.client_id,
        symbol: order.symbol,
        side: order.side,
        status,
        fill_qty: qty,
        fill_price: price,
        fee: Decimal::ZERO,
        liquidity: (!qty.is_zero()).then_some(Liquidity::Taker),
        leaves_qty: leaves,
        event,
        reason: None,
        received_ts: order.ts + 1,
    }
}

fn fill(order: &Order, qty: Decimal, leaves: Decimal) -> ExecutionReport {
    let status = if leaves.is_zero() {
        ReportStatus::Filled
    } else {
        ReportStatus::PartiallyFilled
    };
    report(order, status, qty, Decimal::from(50_000), leaves, 1)
}

/// The IOC limit of a buy at the test quote: the ask 50,000.1 · 1.0025 = 50,000.1 +
/// 125.00025 = 50,125.10025, rounded up to the 0.1 tick.
fn ioc_buy() -> Decimal {
    Decimal::new(501_252, 1)
}

/// The IOC limit of a sell: the bid 50,000 · 0.9975 = 49,875 (on the grid already).
fn ioc_sell() -> Decimal {
    Decimal::from(49_875)
}

#[test]
fn passive_target_joins_the_touch_post_only_then_escalates_on_expiry() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Passive), &mut out);
    assert_eq!(out.len(), 1);
    let limit = out[0];
    assert_eq!(
        (limit.kind, limit.tif, limit.side, limit.price, limit.qty),
        (
            OrderKind::Limit,
            TimeInForce::PostOnly,
            Side::Buy,
            Decimal::from(50_000),
            Decimal::ONE
        )
    );
    assert_eq!(limit.expire_ts, 10 + OrderConfig::default().limit_ttl_ns);
    out.clear();
    // Half fills, then the rest expires: an IOC limit order for the missing half.
    m.on_report(
        &fill(&limit, Decimal::new(5, 1), Decimal::new(5, 1)),
        20,
        &mut out,
    );
    assert!(out.is_empty());
    assert_eq!(
        m.order(limit.client_id).map(|s| s.status),
        Some(OrderStatus::PartiallyFilled)
    );
    let expired = report(
        &limit,
        ReportStatus::Expired,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        2,
    );
    m.on_report(&expired, 30, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].kind, out[0].tif, out[0].price, out[0].qty, out[0].ts),
        (
            OrderKind::Limit,
            TimeInForce::Ioc,
            ioc_buy(),
            Decimal::new(5, 1),
            30
        )
    );
    assert_eq!(out[0].expire_ts, Nanos::MAX, "an IOC order never rests");
    assert_eq!(m.position(), Decimal::new(5, 1));
    assert!(
        m.order(limit.client_id).is_none(),
        "expired: no longer open"
    );
}

#[test]
fn a_post_only_refusal_is_replaced_by_an_ioc_limit() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Passive), &mut out);
    let limit = out[0];
    out.clear();
    let mut refused = report(
        &limit,
        ReportStatus::Rejected,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        0,
    );
    refused.reason = Some(ReportReason::PostOnly);
    m.on_report(&refused, 20, &mut out);
    assert_eq!(
        (out.len(), out[0].kind, out[0].tif, out[0].price, out[0].qty),
        (
            1,
            OrderKind::Limit,
            TimeInForce::Ioc,
            ioc_buy(),
            Decimal::ONE
        )
    );
}

#[test]
fn an_aggressive_entry_is_an_ioc_limit_beyond_the_far_touch() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    assert_eq!(out.len(), 1);
    let buy = out[0];
    assert_eq!(
        (buy.side, buy.kind, buy.tif, buy.price, buy.qty),
        (
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Ioc,
            ioc_buy(),
            Decimal::ONE
        )
    );
    assert!(!buy.reduces_exposure && !buy.reduce_only);
    // A sell at a bid of 49,999.9: 49,999.9 − 124.99975 = 49,874.90025, down to 49,874.9.
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    let short = OrderIntent {
        bid: Decimal::new(499_999, 1),
        ..intent(10, -Decimal::ONE, Urgency::Aggressive)
    };
    m.on_intent(&short, &mut out);
    assert_eq!(
        (out[0].side, out[0].kind, out[0].tif, out[0].price),
        (
            Side::Sell,
            OrderKind::Limit,
            TimeInForce::Ioc,
            Decimal::new(498_749, 1)
        )
    );
    // A wider cap: 50,000.1 · 1.01 = 50,000.1 + 500.001 = 50,500.101, up to 50,500.2.
    let wide = OrderConfig {
        ioc_slippage_bps: 100,
        ..OrderConfig::default()
    };
    let mut m = OrderManager::new(SymbolId(0), btc(), wide);
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    assert_eq!(out[0].price, Decimal::new(505_002, 1));
}

#[test]
fn an_ioc_remainder_is_sent_again_at_the_next_epoch() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let ioc = out[0];
    assert_eq!((ioc.tif, ioc.price), (TimeInForce::Ioc, ioc_buy()));
    out.clear();
    let accepted = report(
        &ioc,
        ReportStatus::Accepted,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ONE,
        0,
    );
    m.on_report(&accepted, 11, &mut out);
    // 0.4 fills at 50,000: the bracket goes on for 0.4 at 49,500 / 51,000.
    m.on_report(
        &fill(&ioc, Decimal::new(4, 1), Decimal::new(6, 1)),
        12,
        &mut out,
    );
    assert_eq!(out.len(), 2, "{out:?}");
    let (stop, tp) = (out[0], out[1]);
    assert_eq!(
        (stop.kind, stop.qty, stop.trigger, tp.qty, tp.trigger),
        (
            OrderKind::Stop,
            Decimal::new(4, 1),
            Decimal::from(49_500),
            Decimal::new(4, 1),
            Decimal::from(51_000)
        )
    );
    out.clear();
    // The venue cancels the other 0.6: nothing goes at once, the bracket stays.
    let mut rest = report(
        &ioc,
        ReportStatus::Cancelled,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        2,
    );
    rest.reason = Some(ReportReason::ImmediateOrCancel);
    m.on_report(&rest, 13, &mut out);
    assert!(out.is_empty(), "held until the epoch: {out:?}");
    assert_eq!(m.position(), Decimal::new(4, 1));
    assert!(m.order(ioc.client_id).is_none(), "ended");
    assert_eq!(m.open_orders(), 2, "the bracket's two legs");
    assert_eq!(
        m.bracket(),
        Some((Decimal::from(49_500), Some(Decimal::from(51_000))))
    );
    assert_eq!(
        m.order(stop.client_id).map(|s| s.order.qty),
        Some(Decimal::new(4, 1))
    );
    assert_eq!((m.stats().rejected, m.stats().anomalies), (0, 0));
    // The cancel, delivered again, changes nothing either.
    m.on_report(&rest, 14, &mut out);
    assert!(out.is_empty());
    // The next epoch sends the missing 0.6, again as an IOC limit.
    m.on_epoch(1_000, None, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].kind, out[0].tif, out[0].price, out[0].qty, out[0].ts),
        (
            OrderKind::Limit,
            TimeInForce::Ioc,
            ioc_buy(),
            Decimal::new(6, 1),
            1_000
        )
    );
    out.clear();
    m.on_epoch(2_000, None, &mut out);
    assert!(out.is_empty(), "the 0.6 is in flight: nothing more");
}

#[test]
fn a_fill_or_kill_cancel_ends_the_order_like_an_ioc_one() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    let sent = out[0];
    out.clear();
    // Killed whole, without an acknowledgement first.
    let mut killed = report(
        &sent,
        ReportStatus::Cancelled,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        1,
    );
    killed.reason = Some(ReportReason::FillOrKill);
    m.on_report(&killed, 20, &mut out);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!((m.position(), m.open_orders()), (Decimal::ZERO, 0));
    assert_eq!((m.stats().rejected, m.stats().anomalies), (0, 0));
    // A new target is a new decision, with its own quote: it lifts the hold.
    m.on_intent(&intent(30, Decimal::ONE, Urgency::Aggressive), &mut out);
    assert_eq!(
        (out.len(), out[0].tif, out[0].qty),
        (1, TimeInForce::Ioc, Decimal::ONE)
    );
}

#[test]
fn an_ioc_order_in_flight_is_not_cancelled_as_too_slow() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    out.clear();
    m.on_intent(&intent(20, Decimal::TWO, Urgency::Aggressive), &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].action, out[0].tif, out[0].qty),
        (OrderAction::New, TimeInForce::Ioc, Decimal::ONE)
    );
}

#[test]
fn emergency_flattens_with_a_market_order_even_while_iocs_are_held() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    let ioc = out[0];
    out.clear();
    m.on_report(
        &fill(&ioc, Decimal::new(4, 1), Decimal::new(6, 1)),
        20,
        &mut out,
    );
    let mut rest = report(
        &ioc,
        ReportStatus::Cancelled,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        2,
    );
    rest.reason = Some(ReportReason::ImmediateOrCancel);
    m.on_report(&rest, 21, &mut out);
    assert!(out.is_empty());
    m.set_mode(Mode::Emergency, 30, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    let flat = out[0];
    assert_eq!(
        (
            flat.side,
            flat.kind,
            flat.tif,
            flat.qty,
            flat.reduces_exposure
        ),
        (
            Side::Sell,
            OrderKind::Market,
            TimeInForce::Gtc,
            Decimal::new(4, 1),
            true
        )
    );
    out.clear();
    // An aggressive target in Emergency is flat too: the market order covers it.
    m.on_intent(&intent(40, Decimal::ONE, Urgency::Aggressive), &mut out);
    m.on_epoch(1_000, None, &mut out);
    assert!(out.is_empty(), "{out:?}");
    m.on_report(
        &fill(&flat, Decimal::new(4, 1), Decimal::ZERO),
        50,
        &mut out,
    );
    assert_eq!((m.position(), m.open_orders()), (Decimal::ZERO, 0));
}

#[test]
fn a_report_delivered_twice_counts_once() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    let market = out[0];
    let half = fill(&market, Decimal::new(5, 1), Decimal::new(5, 1));
    m.on_report(&half, 20, &mut out);
    m.on_report(&half, 21, &mut out);
    assert_eq!(m.position(), Decimal::new(5, 1));
    assert_eq!(m.stats().duplicates, 1);
}

#[test]
fn a_notional_cap_limits_new_exposure_and_applies_as_a_parameter() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    m.apply(&ParameterChange::OrderMaxNotional(Some(Decimal::from(
        25_000,
    ))));
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    // 25,000 at the ask of 50,000.1: 0.4999 BTC, not the 1 asked for.
    assert_eq!(out[0].qty, Decimal::new(4999, 4));
    m.apply(&ParameterChange::OrderMaxNotional(None));
    let mut more = Vec::new();
    m.on_intent(&intent(20, Decimal::ONE, Urgency::Aggressive), &mut more);
    assert_eq!(
        more[0].qty,
        Decimal::new(5001, 4),
        "the rest, once the cap is lifted"
    );
    m.apply(&ParameterChange::SoftDrawdown(None));
    assert_eq!(
        m.config.max_notional, None,
        "another stage's parameter changes nothing"
    );
}

#[test]
fn reversal_cancels_and_never_exceeds_the_limit() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Passive), &mut out);
    let first = out[0];
    out.clear();
    m.on_intent(&intent(20, -Decimal::TWO, Urgency::Aggressive), &mut out);
    assert_eq!(out[0].action, OrderAction::Cancel);
    assert_eq!(out[0].client_id, first.client_id);
    assert_eq!(
        (
            out[1].side,
            out[1].kind,
            out[1].tif,
            out[1].price,
            out[1].qty
        ),
        (
            Side::Sell,
            OrderKind::Limit,
            TimeInForce::Ioc,
            ioc_sell(),
            Decimal::TWO
        )
    );
    assert!(!out[1].reduces_exposure);
}

#[test]
fn a_fill_places_a_linked_bracket_that_follows_the_position() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let entry = out[0];
    out.clear();
    // 0.4 fills at 50,000: stop at 49,500, take-profit at 51,000, both for 0.4.
    m.on_report(
        &fill(&entry, Decimal::new(4, 1), Decimal::new(6, 1)),
        20,
        &mut out,
    );
    assert_eq!(out.len(), 2);
    let (stop, tp) = (out[0], out[1]);
    assert_eq!(
        (stop.kind, stop.side, stop.qty, stop.trigger),
        (
            OrderKind::Stop,
            Side::Sell,
            Decimal::new(4, 1),
            Decimal::from(49_500)
        )
    );
    assert_eq!(
        (tp.kind, tp.trigger),
        (OrderKind::TakeProfit, Decimal::from(51_000))
    );
    assert!(stop.reduce_only && tp.reduce_only && stop.reduces_exposure);
    assert_eq!(
        (stop.oco, tp.oco),
        (tp.client_id, stop.client_id),
        "one cancels the other"
    );
    out.clear();
    // The rest fills at 50,060: entry (0.4·50,000 + 0.6·50,060) = 50,036; the bracket is
    // replaced for 1 at 49,536 / 51,036.
    let mut rest = fill(&entry, Decimal::new(6, 1), Decimal::ZERO);
    rest.fill_price = Decimal::from(50_060);
    rest.event = 2;
    m.on_report(&rest, 30, &mut out);
    assert_eq!(m.avg_entry(), Decimal::from(50_036));
    let cancels: Vec<u64> = out
        .iter()
        .filter(|o| o.action == OrderAction::Cancel)
        .map(|o| o.client_id)
        .collect();
    assert_eq!(cancels, [stop.client_id, tp.client_id]);
    let news: Vec<(OrderKind, Decimal, Decimal)> = out
        .iter()
        .filter(|o| o.action == OrderAction::New)
        .map(|o| (o.kind, o.qty, o.trigger))
        .collect();
    assert_eq!(
        news,
        [
            (OrderKind::Stop, Decimal::ONE, Decimal::from(49_536)),
            (OrderKind::TakeProfit, Decimal::ONE, Decimal::from(51_036))
        ]
    );
    assert_eq!(
        m.bracket(),
        Some((Decimal::from(49_536), Some(Decimal::from(51_036))))
    );
}

#[test]
fn the_stop_trails_the_mark_up_never_down() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let entry = out[0];
    m.on_report(&fill(&entry, Decimal::ONE, Decimal::ZERO), 20, &mut out);
    assert_eq!(
        m.bracket(),
        Some((Decimal::from(49_500), Some(Decimal::from(51_000))))
    );
    out.clear();
    // A mark 100 up moves the stop less than a quarter of the 500 distance: it stays.
    m.on_epoch(1_000, Some(Decimal::from(50_100)), &mut out);
    assert!(out.is_empty());
    // 400 up: the stop moves to 50,400 − 500 = 49,900; the take-profit keeps 51,000.
    m.on_epoch(2_000, Some(Decimal::from(50_400)), &mut out);
    assert_eq!(
        m.bracket(),
        Some((Decimal::from(49_900), Some(Decimal::from(51_000))))
    );
    out.clear();
    // The mark falls back: the stop stays where it is.
    m.on_epoch(3_000, Some(Decimal::from(49_950)), &mut out);
    assert!(out.is_empty());
    assert_eq!(
        m.bracket(),
        Some((Decimal::from(49_900), Some(Decimal::from(51_000))))
    );
}

#[test]
fn a_stop_fill_stands_aside_until_the_next_intent() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let entry = out[0];
    out.clear();
    m.on_report(&fill(&entry, Decimal::ONE, Decimal::ZERO), 20, &mut out);
    let stop = out[0];
    out.clear();
    let mut stopped = report(
        &stop,
        ReportStatus::Filled,
        Decimal::ONE,
        Decimal::from(49_480),
        Decimal::ZERO,
        2,
    );
    stopped.ts = 40;
    m.on_report(&stopped, 50, &mut out);
    assert_eq!(m.position(), Decimal::ZERO);
    assert_eq!(m.stats().protective_exits, 1);
    // The take-profit is cancelled by the venue (OCO); nothing re-enters.
    assert!(
        out.iter().all(|o| o.action == OrderAction::Cancel),
        "{out:?}"
    );
    out.clear();
    m.on_epoch(1_000, Some(Decimal::from(49_000)), &mut out);
    assert!(out.is_empty(), "aside until a new intent");
    m.on_intent(&bracketed(2_000, Decimal::ONE), &mut out);
    assert!(out
        .iter()
        .any(|o| o.action == OrderAction::New && o.tif == TimeInForce::Ioc));
}

#[test]
fn a_time_stop_closes_the_position() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let entry = out[0];
    m.on_report(&fill(&entry, Decimal::ONE, Decimal::ZERO), 20, &mut out);
    out.clear();
    let hold = bracketed(0, Decimal::ONE).max_hold_ns;
    m.on_epoch(11 + hold - 1, None, &mut out);
    assert!(out.is_empty(), "not yet");
    m.on_epoch(11 + hold, None, &mut out);
    let market: Vec<&Order> = out
        .iter()
        .filter(|o| o.action == OrderAction::New)
        .collect();
    assert_eq!(market.len(), 1);
    assert_eq!(
        (market[0].side, market[0].kind, market[0].qty),
        (Side::Sell, OrderKind::Market, Decimal::ONE)
    );
    assert!(
        out.iter()
            .filter(|o| o.action == OrderAction::Cancel)
            .count()
            == 2,
        "the bracket goes"
    );
}

#[test]
fn a_pre_trade_refusal_holds_new_exposure_for_the_backoff() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
    let refused = m.refuse(&out[0], ReportReason::RiskConcentration);
    assert_eq!(
        (refused.status, refused.reason),
        (
            ReportStatus::Rejected,
            Some(ReportReason::RiskConcentration)
        )
    );
    assert_eq!(m.open_orders(), 0);
    out.clear();
    m.on_intent(&intent(20, Decimal::ONE, Urgency::Aggressive), &mut out);
    assert!(out.is_empty(), "held");
    // The refusal fed back later is a duplicate.
    m.on_report(&refused, 30, &mut out);
    assert_eq!(m.stats().duplicates, 1);
    let backoff = OrderConfig::default().refusal_backoff_ns;
    m.on_epoch(10 + backoff - 1, None, &mut out);
    assert!(out.is_empty(), "still held");
    m.on_epoch(10 + backoff, None, &mut out);
    assert_eq!(out.len(), 1, "tried again once the backoff has passed");
}

proptest! {
    /// Whatever the targets and fills (IOC and FOK cancellations among them), position
    /// plus every open order towards the target stays within the limit on both sides,
    /// every order is on the lot grid, every IOC limit at the capped price, no FOK is
    /// ever sent, and the position is the sum of the fills.
    #[test]
    fn exposure_stays_within_the_limit(
        steps in proptest::collection::vec((-30i64..=30, any::<bool>(), 0u8..6, any::<bool>(), any::<bool>()), 1..60)
    ) {
        let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
        let mut out = Vec::new();
        let mut ts = 0;
        let mut filled = Decimal::ZERO;
        let mut events = 0u32;
        for (target, aggressive, action, bracket, epoch) in steps {
            ts += 10;
            let urgency = if aggressive { Urgency::Aggressive } else { Urgency::Passive };
            let before = out.len();
            let i = if bracket { bracketed(ts, Decimal::new(target, 1)) } else { intent(ts, Decimal::new(target, 1), urgency) };
            m.on_intent(&OrderIntent { urgency, ..i }, &mut out);
            // Fill, partially fill or expire the newest open order towards the target.
            let newest = m.open.iter().filter(|(_, o)| o.role == Role::Target).map(|(&id, o)| (id, o.state.order, o.state.leaves)).next_back();
            if let Some((_, order, leaves)) = newest {
                let half = btc().floor_qty(leaves / Decimal::TWO);
                let cancelled = |reason| ExecutionReport {
                    reason: Some(reason),
                    ..report(&order, ReportStatus::Cancelled, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, 1)
                };
                let reports = match action {
                    0 => vec![fill(&order, leaves, Decimal::ZERO)],
                    1 => vec![fill(&order, half, leaves - half)],
                    2 => vec![report(&order, ReportStatus::Expired, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, 1)],
                    3 => vec![report(&order, ReportStatus::Accepted, Decimal::ZERO, Decimal::ZERO, leaves, 0)],
                    // An IOC order takes half, the rest is cancelled (as the venue does
                    // whatever the order's time in force: the manager must cope).
                    4 => vec![
                        fill(&order, half, leaves - half),
                        cancelled(ReportReason::ImmediateOrCancel),
                    ],
                    _ => vec![cancelled(ReportReason::FillOrKill)],
                };
                for report in reports {
                    // Each report its own event number, as the venue counts them.
                    events += 1;
                    let report = ExecutionReport { event: events, ..report };
                    filled += report.side.sign() * report.fill_qty;
                    m.on_report(&report, ts + 5, &mut out);
                }
            }
            if epoch {
                m.on_epoch(ts + 7, Some(Decimal::from(50_000)), &mut out);
            }
            for o in &out[before..] {
                prop_assert!(btc().on_lot(o.qty));
                prop_assert!(o.tif != TimeInForce::Fok);
                if o.tif == TimeInForce::Ioc {
                    let limit = match o.side { Side::Buy => ioc_buy(), Side::Sell => ioc_sell() };
                    prop_assert_eq!((o.kind, o.price), (OrderKind::Limit, limit));
                }
            }
            let toward = |side| m.open.values().filter(|o| o.role == Role::Target && o.state.order.side == side).map(|o| o.state.leaves).sum::<Decimal>();
            let (long, short) = (toward(Side::Buy), toward(Side::Sell));
            prop_assert!(m.position() + long <= Decimal::TWO, "long exposure {}", m.position() + long);
            prop_assert!(m.position() - short >= -Decimal::TWO, "short exposure {}", m.position() - short);
            prop_assert_eq!(m.position(), filled);
        }
    }
}

/// Enter a bracketed long of 1 at 50,000; returns the manager and the (stop, take-profit).
fn bracketed_long() -> (OrderManager, Order, Order) {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let entry = out[0];
    out.clear();
    m.on_report(&fill(&entry, Decimal::ONE, Decimal::ZERO), 20, &mut out);
    assert_eq!(out.len(), 2, "{out:?}");
    (m, out[0], out[1])
}

#[test]
fn a_triggered_stop_is_left_to_close_the_position() {
    let (mut m, stop, tp) = bracketed_long();
    let mut out = Vec::new();
    let triggered = report(
        &stop,
        ReportStatus::Triggered,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ONE,
        3,
    );
    m.on_report(&triggered, 30, &mut out);
    // The venue cancels the take-profit (OCO): nothing is re-placed, the stop not touched.
    let mut oco = report(
        &tp,
        ReportStatus::Cancelled,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        3,
    );
    oco.reason = Some(ReportReason::Oco);
    m.on_report(&oco, 31, &mut out);
    assert!(
        out.iter()
            .all(|o| o.client_id != stop.client_id && o.action == OrderAction::Cancel),
        "no new order and no cancel of the executing stop: {out:?}"
    );
    assert!(
        !out.iter()
            .any(|o| o.action == OrderAction::New && o.kind == OrderKind::Market),
        "no second exit"
    );
    let filled = report(
        &stop,
        ReportStatus::Filled,
        Decimal::ONE,
        Decimal::from(49_490),
        Decimal::ZERO,
        4,
    );
    m.on_report(&filled, 32, &mut out);
    assert_eq!((m.position(), m.open_orders()), (Decimal::ZERO, 0));
    assert!(
        out.iter().all(|o| o.action == OrderAction::Cancel),
        "{out:?}"
    );
}

#[test]
fn a_rate_limited_leg_is_placed_again_after_the_backoff() {
    let (mut m, stop, tp) = bracketed_long();
    let mut out = Vec::new();
    let mut refused = report(
        &stop,
        ReportStatus::Rejected,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        0,
    );
    refused.reason = Some(ReportReason::RateLimited);
    m.on_report(&refused, 30, &mut out);
    assert!(out.is_empty(), "nothing re-sent at once: {out:?}");
    let backoff = OrderConfig::default().venue_backoff_ns;
    m.on_epoch(refused.ts + backoff - 1, None, &mut out);
    assert!(out.is_empty(), "still backing off: {out:?}");
    m.on_epoch(refused.ts + backoff, None, &mut out);
    // The stray take-profit is cancelled and a whole new bracket placed.
    assert!(
        out.iter()
            .any(|o| o.action == OrderAction::Cancel && o.client_id == tp.client_id),
        "{out:?}"
    );
    let kinds: Vec<OrderKind> = out
        .iter()
        .filter(|o| o.action == OrderAction::New)
        .map(|o| o.kind)
        .collect();
    assert_eq!(kinds, [OrderKind::Stop, OrderKind::TakeProfit]);
}

#[test]
fn a_leg_refused_before_sending_takes_its_partner_with_it() {
    let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
    let mut out = Vec::new();
    m.on_intent(&bracketed(10, Decimal::ONE), &mut out);
    let entry = out[0];
    out.clear();
    m.on_report(&fill(&entry, Decimal::ONE, Decimal::ZERO), 20, &mut out);
    let (stop, tp) = (out[0], out[1]);
    // The desk passes the stop and refuses the take-profit.
    m.refuse(&tp, ReportReason::RiskOrderRate);
    assert_eq!(m.bracket(), None);
    out.clear();
    let backoff = OrderConfig::default().venue_backoff_ns;
    m.on_epoch(tp.ts + backoff, None, &mut out);
    assert!(
        out.iter()
            .any(|o| o.action == OrderAction::Cancel && o.client_id == stop.client_id),
        "the orphaned stop is cancelled: {out:?}"
    );
    assert_eq!(
        out.iter().filter(|o| o.action == OrderAction::New).count(),
        2,
        "and a new pair placed"
    );
}
