//! Throughput of the simulated venue (`SymbolVenue`): order events (messages submitted
//! plus ticks applied) per second on one core.
//!
//! One symbol, 1 000 000 ticks (a quote every millisecond on a random walk, a trade
//! after every third) and about one message a tick: limit orders posted at, behind and
//! inside the touch, IOC and FOK orders, market orders, reduce-only stop / take-profit
//! OCO pairs, and cancels of the oldest open order, with at most 64 open. The inputs are
//! generated first from a fixed seed; only `submit` and `on_tick` are timed, with the
//! reports collected into one reused buffer. It runs with the rate limit off (so that
//! every message reaches the matching engine) and with the default configuration
//! (where most messages are 429s). With `--depth`, it runs both again on the same
//! session with two L2 updates after every quote (a bid and an ask level 1 to 10 ticks
//! behind the touch, one in five removing its level), which market orders then walk.
//!
//! Run: `cargo run --release -p bot4-benches --bin venue_throughput [-- --depth]`

#![allow(clippy::print_stdout, reason = "the report is this command's output")]

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Instant;

use bot4_benches::{bench_instrument, XorShift};
use bot4_operators::venue::{SymbolVenue, VenueConfig};
use bot4_schemas::{Decimal, Nanos, Order, OrderKind, Side, SymbolId, Tick, TickKind, TimeInForce};

const TICKS: usize = 1_000_000;
const MAX_OPEN: usize = 64;

/// One input of the session.
enum Event {
    Tick(Tick),
    Send(Order),
}

/// The session; with `depth`, the same one with two depth ticks after each quote.
fn session(depth: bool) -> Vec<Event> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    // Its own stream, so that the rest of the session is the same with or without it.
    let mut levels = XorShift(0xD1B5_4A32_D192_ED03);
    let mut seq = 0u64;
    let symbol = SymbolId(0);
    let mut events = Vec::with_capacity(TICKS * 2);
    let mut bid_ticks: i64 = 300_000; // 30 000.0
    let mut next_id = 1u64;
    let mut open: VecDeque<u64> = VecDeque::new();
    let price = |ticks: i64| Decimal::new(ticks, 1);
    let lots = |n: u64| Decimal::new(n as i64, 3);
    for i in 0..TICKS {
        let ts = i as Nanos * 1_000_000;
        bid_ticks += rng.below(5) as i64 - 2;
        let spread = 1 + rng.below(3) as i64;
        let quoted = i % 3 != 2;
        let kind = if !quoted {
            let buy = rng.below(2) == 0;
            TickKind::Trade {
                price: price(if buy { bid_ticks + spread } else { bid_ticks }),
                size: lots(1 + rng.below(2_000)),
                aggressor: if buy { Side::Buy } else { Side::Sell },
            }
        } else {
            TickKind::Quote {
                bid: price(bid_ticks),
                bid_size: lots(1 + rng.below(5_000)),
                ask: price(bid_ticks + spread),
                ask_size: lots(1 + rng.below(5_000)),
            }
        };
        let mut push = |kind| {
            seq += 1;
            events.push(Event::Tick(Tick {
                ts,
                seq,
                symbol,
                kind,
            }));
        };
        push(kind);
        if depth && quoted {
            for (side, behind) in [(Side::Buy, -1), (Side::Sell, 1)] {
                let touch = if side == Side::Buy {
                    bid_ticks
                } else {
                    bid_ticks + spread
                };
                let away = 1 + levels.below(10) as i64;
                let size = if levels.below(5) == 0 {
                    0
                } else {
                    1 + levels.below(5_000)
                };
                push(TickKind::Depth {
                    side,
                    price: price(touch + behind * away),
                    size: lots(size),
                });
            }
        }
        let side = if rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let qty = lots(200 + rng.below(800));
        let roll = rng.below(100);
        if open.len() >= MAX_OPEN || roll < 30 {
            if let Some(id) = open.pop_front() {
                let cancel = Order::new(ts, id, symbol, side, OrderKind::Limit, price(1), qty);
                events.push(Event::Send(cancel.cancel_of(ts)));
            }
            continue;
        }
        let offset = rng.below(6) as i64 - 2;
        let limit_at = match side {
            Side::Buy => bid_ticks - offset,
            Side::Sell => bid_ticks + spread + offset,
        };
        let base = Order::new(
            ts,
            next_id,
            symbol,
            side,
            OrderKind::Limit,
            price(limit_at),
            qty,
        );
        let order = match roll {
            30..=74 => base,
            75..=79 => Order {
                tif: TimeInForce::PostOnly,
                ..base
            },
            80..=84 => Order {
                tif: TimeInForce::Ioc,
                ..base
            },
            85..=87 => Order {
                tif: TimeInForce::Fok,
                ..base
            },
            88..=92 => Order {
                kind: OrderKind::Market,
                price: Decimal::ZERO,
                ..base
            },
            _ => {
                // A reduce-only stop / take-profit pair around the touch.
                let (stop, profit) = match side {
                    Side::Sell => (bid_ticks - 50, bid_ticks + 50),
                    Side::Buy => (bid_ticks + 50, bid_ticks - 50),
                };
                let leg = |id, partner, kind, trigger| Order {
                    kind,
                    price: Decimal::ZERO,
                    trigger: price(trigger),
                    reduce_only: true,
                    oco: partner,
                    client_id: id,
                    ..base
                };
                events.push(Event::Send(leg(
                    next_id,
                    next_id + 1,
                    OrderKind::Stop,
                    stop,
                )));
                open.push_back(next_id);
                next_id += 1;
                leg(next_id, next_id - 1, OrderKind::TakeProfit, profit)
            }
        };
        events.push(Event::Send(order));
        open.push_back(next_id);
        next_id += 1;
    }
    events
}

fn measure(name: &str, config: VenueConfig, events: &[Event]) {
    let mut venue = SymbolVenue::new(bench_instrument(), config, 1);
    let mut out = Vec::with_capacity(1024);
    let (mut reports, mut fills) = (0usize, 0usize);
    let start = Instant::now();
    for event in events {
        match event {
            Event::Tick(tick) => {
                venue.on_tick(black_box(tick), &mut out);
                reports += out.len();
                fills += out.iter().filter(|r| !r.fill_qty.is_zero()).count();
                out.clear();
            }
            Event::Send(order) => {
                black_box(venue.submit(*order));
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let messages = events
        .iter()
        .filter(|e| matches!(e, Event::Send(_)))
        .count();
    println!(
        "{name:<22} {:>9} events ({messages} messages, {} ticks) in {elapsed:.3} s: {:>5.2} M events/s, {:>4.0} ns/event; {reports} reports, {fills} fills, {} open",
        events.len(),
        events.len() - messages,
        events.len() as f64 / elapsed / 1e6,
        elapsed * 1e9 / events.len() as f64,
        venue.open_orders(),
    );
}

fn main() {
    let unlimited = VenueConfig {
        rate_limit: None,
        ..VenueConfig::default()
    };
    let events = session(false);
    measure("no rate limit", unlimited.clone(), &events);
    measure("default config", VenueConfig::default(), &events);
    if std::env::args().any(|arg| arg == "--depth") {
        let events = session(true);
        measure("depth, no rate limit", unlimited, &events);
        measure("depth, default config", VenueConfig::default(), &events);
    }
}
