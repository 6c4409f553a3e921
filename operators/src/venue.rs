//! A simulated venue for one symbol: order messages and market-data ticks in, execution
//! reports out, deterministically. Replay and paper trading both execute through it.
//!
//! # Time
//!
//! An order message leaves the strategy at `order.ts`. The session has one ordered
//! connection: the message reaches the venue at
//! `arrival = max(order.ts + entry, previous arrival)`, where `entry` is a log-normal
//! draw ([`VenueConfig::entry_latency`], at least 1 ns) and `previous arrival` that of
//! the message submitted before it. So messages arrive in the order they were
//! [submitted](SymbolVenue::submit), and a cancel never overtakes its order. A tick at
//! time `T` is processed in two steps:
//!
//! 1. Every message with `arrival < T` reaches the venue and every open order with
//!    `expire_ts <= T` expires, in event-time order: arrivals in submission order, an
//!    expiry at `e` before any arrival at `e`. All of them see the book as it was before
//!    `T`: the last quote seen and the levels known. (Interleaving rather than "all
//!    arrivals, then all expiries" only matters for a cancel arriving after its order
//!    expired, which then finds nothing to cancel.) A message arriving exactly at `T`
//!    waits for the next tick: the tick happened first.
//! 2. The tick is applied. A quote replaces the touch and prunes the levels (see
//!    [The book](#the-book)); then our open orders match against it (bids, then asks,
//!    each in priority order), then the stops and take-profits it reaches trigger, in
//!    the order they reached the venue. A trade matches our resting orders on the side
//!    it hit, then triggers. A depth tick sets or removes one level and updates the
//!    queue position of our resting orders at its price; it fills and triggers nothing
//!    (a market remainder takes a new level on the next quote).
//!
//! Every report carries the time its event happened (`ts`): the arrival time for what a
//! message causes (acceptance, rejection, an immediate fill, a cancel), `expire_ts` for
//! an expiry, `T` for what tick `T` causes. Reports are appended in non-decreasing
//! `ts`; reports at equal `ts` in processing order ([`ExecutionReport::key`] sorts
//! them canonically). Its `received_ts`, when the strategy learns of it, is
//! `ts + ack` with `ack` a log-normal draw per report ([`VenueConfig::ack_latency`]),
//! and no earlier than the end of an outage `ts` lies in.
//!
//! Randomness comes from ChaCha8 streams of the constructor's `seed`: one for entry
//! latencies, drawn per submitted message in submission order, one for ack latencies,
//! drawn per report in report order. The same seed and the same calls give the same
//! reports.
//!
//! # The book
//!
//! What the venue knows of the market comes from the ticks. The **touch** is the last
//! quote's bid and ask with their sizes. Behind it are **levels** (L2), one per price
//! and side, each set by a depth tick to the size displayed there; a size of zero (or
//! less) removes the level, a depth tick with a non-positive price is ignored. A quote
//! prunes the levels at or through its touch on each side where its price is positive
//! (bids at or above the new bid, asks at or below the new ask): the quote's touch is
//! the best level. Otherwise levels are kept across quotes; one announced at or through
//! the current touch is not used until a quote puts it behind its touch. Our fills use
//! up what they take: of the touch until the next quote, of a level until that level's
//! next depth tick (the replayed feed does not contain our own fills).
//!
//! # Placing an order
//!
//! A `New` message is handled in this order; the first rule that refuses it makes its
//! only report a `Rejected` one, with the reason:
//!
//! 1. **Duplicate**: a `New` whose `client_id` this venue has already seen is dropped
//!    without a report (its reports would interleave with the first order's), and takes
//!    no token: a repeated submit is a no-op. A client id is used once, refused or not;
//!    a retry is a new order with a new id. The venue remembers the last 65 536 ids it
//!    saw, each for a day of event time (a bounded cache, [`IdempotencyCache`]), so its
//!    memory stays flat over a long run.
//! 2. **Outage** (`VenueUnavailable`): it arrives within an outage window.
//! 3. **Rate limit** (`RateLimited`, the "429"): the token bucket
//!    ([`VenueConfig::rate_limit`], full at the start, refilled continuously in event
//!    time up to its capacity) has no whole token at its arrival. Every message that
//!    gets past 1 and 2, new or cancel, takes one. Real exchanges count per account
//!    (and by request weight); this venue counts per symbol.
//! 4. **Filters** (`ExchangeFilter`): [`SymbolVenue::check`]; see [`RejectReason`].
//! 5. **OCO** (`Oco`): its OCO partner has already triggered or filled (see below).
//! 6. **Reduce-only** (`ReduceOnly`): a reduce-only order on the side that would shrink
//!    the venue's position (a sell when long, a buy when short) has its working quantity
//!    capped at `|position|`; with nothing to reduce it is rejected.
//! 7. **Post-only** (`PostOnly`): a post-only limit order that would take liquidity: a
//!    buy at `price >= ask` (a sell at `price <= bid`), or one that reaches one of our
//!    own resting limit orders on the other side.
//!
//! Otherwise it gets an `Accepted` report, whose `leaves_qty` is its working quantity
//! (`qty`, or the reduce-only cap). A stop or take-profit then waits untriggered (or
//! triggers at once, if the last quote already reaches its trigger); a market or limit
//! order starts executing.
//!
//! # Executing
//!
//! An order starts executing on arrival (market, limit) or when it triggers (stop,
//! take-profit, which then execute as market orders):
//!
//! 1. **Self-trade prevention** ([`SelfTradePrevention`]): it would trade with our own
//!    resting limit orders on the other side when, for a limit order, its price reaches
//!    theirs, or for a market order, they rest at or inside the opposite touch (any of
//!    them when that side of the quote is empty). Market remainders and untriggered
//!    orders are not in the book and never count. `CancelNew`: the new order is
//!    `Cancelled` (reason `SelfTrade`) before it matches. `CancelResting`: each of
//!    those resting orders is `Cancelled` (`SelfTrade`), then the new one goes on.
//!    `DecrementBoth`: in their priority order, the new order and each resting one are
//!    both reduced by the smaller of their working quantities, without a fill or a fee;
//!    an order reduced to zero is `Cancelled` (`SelfTrade`); one reduced but not to zero
//!    gets a report in its current status (`Accepted`, `Triggered` or
//!    `PartiallyFilled`), no fill, `reason` `SelfTrade` and the reduced `leaves_qty`
//!    (the new order gets one such report after all the reductions). So `leaves_qty`
//!    always is what still works: the quantity, less fills, less decrements.
//! 2. **Fill or kill**: a FOK order that cannot fill its whole working quantity now
//!    (by the rules of 3) is `Cancelled` (`FillOrKill`) without a fill.
//! 3. **Taking liquidity**, as taker, if it is marketable (a market order always; a
//!    limit buy if `price >= ask`, a limit sell if `price <= bid`), each part a fill of
//!    its own:
//!    1. at the touch price, for at most the displayed size our fills have left of the
//!       last quote;
//!    2. then **the levels** behind the opposite touch (asks above the ask for a buy,
//!       bids below the bid for a sell), best first, each at its own price for at most
//!       the size our fills have left of it, while that price is within a limit order's
//!       limit;
//!    3. then, once the impact estimates are warm, what it still wants fills at once
//!       **past the deepest level** (past the touch, on a side without levels): `q`
//!       more at `touch · (1 ± Y·σ_d·√((W + q)/V))` (+ for buys), rounded to the tick
//!       grid away from the order and no better than the deepest level's price, where
//!       `W` is what our orders already took beyond this touch since the quote (of the
//!       levels and on the curve, this order's levels included), `Y`
//!       [`VenueConfig::impact_coef`], `V` the daily volume and `σ_d` the daily
//!       volatility of the mid (below). A limit order takes only as much here as keeps
//!       that price within its limit (floored to the lot grid). Without warm estimates
//!       (or with `Y` zero or `None`) nothing fills past the levels.
//! 4. **Time in force** for what is left: `Ioc` is `Cancelled` (`ImmediateOrCancel`);
//!    `Gtc` and `PostOnly` limit orders rest at their limit price; a `Gtc` market order
//!    (or a triggered stop or take-profit) keeps working as a **market remainder**,
//!    which on each later quote takes liquidity as in 3 (at that quote's touch, then
//!    the levels, and past them when warm).
//!
//! # Resting orders
//!
//! * A resting limit order fills as maker at its own limit price: a resting buy at `p`
//!   on a quote with `ask <= p` (for at most the ask size left), or on a sell-aggressor
//!   trade at or through `p`; sells mirror this. Trades never fill market remainders.
//! * **Queue position**: a limit order that rests at its side's touch price joins behind
//!   the displayed size left there (`ahead`, the bid size for a buy at the bid); one
//!   that betters the touch (or rests while that side of the book is empty) has nothing
//!   ahead; one behind the touch joins behind the size our fills have left of the level
//!   at its price, if there is one; otherwise (or resting before any quote) it has
//!   `ahead` unknown until a level or a quote's touch reaches its price. A quote's touch
//!   at its price sets an unknown `ahead` to the size shown and lowers a known one to at
//!   most that size (a touch that moved past it sets zero). So does a depth tick at its
//!   price while the order is behind its side's touch (or before any quote); a depth
//!   tick at or through the touch leaves the queue alone. A trade at exactly its price
//!   first uses up what is ahead (all of the trade while `ahead` is unknown), then fills
//!   it; a trade through its price empties the queue ahead and fills it. Our own orders
//!   at one price queue among themselves by arrival, each behind the market size it
//!   found ahead.
//! * **Shared liquidity**: our own fills use up what they hit. Until the next quote,
//!   later fills against the same quote see only the size left, and until its next
//!   depth tick, against a level; the size of a trade is shared the same way. Open
//!   orders take it in priority order: market remainders (and triggered orders) first
//!   by when they started, then limit orders best price first, then earliest accepted.
//! * **Triggers**: a sell stop triggers on a quote with `bid <= trigger` or a trade at
//!   `price <= trigger`, a buy stop on `ask >= trigger` or a trade `>= trigger`; a sell
//!   take-profit on `bid >= trigger` or a trade `>= trigger`, a buy take-profit on
//!   `ask <= trigger` or a trade `<= trigger` (trades of either aggressor). It reports
//!   `Triggered`, then executes as above against the book as it stands (on a trade,
//!   the last quote's). Depth ticks trigger nothing. Untriggered orders neither fill
//!   nor use liquidity.
//! * **OCO**: when an order with `oco != 0` triggers or first fills, its partner is
//!   `Cancelled` (`Oco`) if it is open (triggered or not); if the partner has not
//!   reached the venue yet, it is rejected (`Oco`) when it does.
//! * **Reduce-only**: each fill of a reduce-only order is capped at what it can still
//!   reduce; whenever the position's sign changes (it reaches zero, leaves it or
//!   flips), every open reduce-only order that can no longer reduce is `Cancelled`
//!   (`ReduceOnly`). So a reduce-only order never increases `|position|` nor flips it.
//! * **Cancelling** (`OrderAction::Cancel`, naming the order by `client_id`): an open
//!   order is closed with a `Cancelled` report. A cancel refused by an outage or the
//!   rate limit instead gets a report in the order's current status, with no fill, its
//!   `leaves_qty` and reason `VenueUnavailable` or `RateLimited`: the order still works.
//!   A cancel of an order that is unknown or done reports nothing.
//! * **Expiry**: an open order (resting, market remainder, untriggered) still open at
//!   its `expire_ts` gets an `Expired` report at `expire_ts`.
//!
//! # The venue's own state
//!
//! * **Position**: the signed sum of this venue's fills ([`SymbolVenue::position`]).
//! * **Fees**: the maker or taker rate of the [`FeeTier`] reached by the 30-day quote
//!   volume before each fill: our fills' `price · qty` in the event-time days
//!   (`ts / 86 400 s`) `d − 29 ..= d` of the fill, plus the rest of the account's volume
//!   ([`SymbolVenue::set_other_volume`]), exact. The fee is `price · qty · rate` rounded
//!   to 8 decimal places, half to even ([`VenueConfig::fee`]).
//! * **Impact estimates** ([`EstimateConfig`]): every quote and trade discounts three
//!   sums by `exp(−Δt/τ)` for the event time `Δt` since the previous quote or trade and
//!   adds `Δt` to the first, a trade's size to the second and a quote's squared log
//!   return of the mid to the third; `V = day · S_size/S_Δt`, `σ_d = √(day ·
//!   S_r²/S_Δt)`. Depth ticks are not seen: a feed's estimates are the same with or
//!   without its levels. They are warm once `warmup_ns` of event time has passed since
//!   the first quote or trade and `min_trades` trades were seen, and both are positive.
//!   They are those of the last quote or trade: an arrival between them uses them
//!   unchanged.
//! * **Outages** ([`VenueConfig::outages`], [`RandomOutages`]): windows `[start, end)`;
//!   touching or overlapping windows make one outage. The random ones are drawn per
//!   event-time day from their own seed in the config (not the constructor's), so they
//!   are the same for every symbol's venue: a Poisson count a day, each starting
//!   uniformly in the day and lasting an exponential time clamped to `[1 ns, 1 day]`.
//!   Resting orders keep matching during an outage; only messages are refused.
//!
//! # Reports
//!
//! `event` counts an order's reports from 0. A fill's status is `Filled` when it
//! leaves nothing, else `PartiallyFilled`; `leaves_qty` is what is still working after
//! the event (0 after a terminal report); fill fields are zero and `liquidity` is
//! `None` when a report carries no fill. `reason` is set on rejections, on cancels that
//! were not asked for, and on the status reports above.
//!
//! # Invariants
//!
//! No order fills more than its quantity, no fill is at a price worse than its limit,
//! a taker fill beyond the touch on a side with levels is at a level's price or no
//! better than the deepest one, post-only orders fill only as maker, a FOK order fills
//! whole or not at all, a reduce-only order never increases `|position|` nor flips it,
//! every order gets at most one terminal report and nothing after it, and
//! `received_ts >= ts`. The venue
//! does not know its symbol's id: it trusts its caller to route one symbol's ticks and
//! orders to it, and its reports carry the order's `symbol`.

use std::collections::{BTreeSet, VecDeque};

use bot4_schemas::{
    ExecutionReport, Instrument, Nanos, Order, OrderAction, ReportStatus, Side, Tick, TickKind,
};
use rust_decimal::Decimal;

use crate::idempotency::IdempotencyCache;

/// How many client ids the venue remembers to drop repeated submits.
const SEEN_CAPACITY: usize = 65_536;

/// How long it remembers each: a day of event time.
const SEEN_TTL_NS: Nanos = 86_400_000_000_000;

mod account;
mod book;
mod config;
mod engine;
mod gateway;
mod ladder;
#[cfg(test)]
mod proptests;
mod queue;
mod reject;
#[cfg(test)]
mod tests;

use account::Account;
pub use account::RollingVolume;
use book::{Book, Estimates};
pub use config::{
    EstimateConfig, FeeTier, Latency, Outage, RandomOutages, RateLimit, SelfTradePrevention,
    VenueConfig, VenueConfigError,
};
use engine::Exchange;
use gateway::Gateway;
use ladder::Depth;
use queue::{Queue, Working};
use reject::check_order;
pub use reject::RejectReason;

/// The simulated venue of one symbol.
///
/// # Examples
/// ```
/// use bot4_operators::venue::{Latency, SymbolVenue, VenueConfig};
/// use bot4_schemas::{Decimal, Instrument, Order, OrderKind, ReportStatus, Side, SymbolId, Tick, TickKind};
///
/// let instrument = Instrument { symbol: "BTC-USDT".into(), tick_size: Decimal::new(1, 1), lot_size: Decimal::new(1, 3), min_notional: Decimal::new(5, 0) };
/// // A fixed 5 ms entry latency.
/// let config = VenueConfig { entry_latency: Latency { median_ns: 5_000_000, sigma: 0.0 }, ..VenueConfig::default() };
/// let mut venue = SymbolVenue::new(instrument, config, 7);
/// let quote = |ts| Tick { ts, seq: 0, symbol: SymbolId(0), kind: TickKind::Quote {
///     bid: Decimal::new(1000, 0), bid_size: Decimal::ONE, ask: Decimal::new(1001, 0), ask_size: Decimal::ONE } };
/// let mut reports = Vec::new();
/// venue.on_tick(&quote(0), &mut reports);
/// let order = Order::new(0, 1, SymbolId(0), Side::Buy, OrderKind::Market, Decimal::ZERO, Decimal::new(1, 1));
/// assert_eq!(venue.submit(order), 5_000_000);
/// venue.on_tick(&quote(10_000_000), &mut reports);
/// let statuses: Vec<_> = reports.iter().map(|r| r.status).collect();
/// assert_eq!(statuses, [ReportStatus::Accepted, ReportStatus::Filled]);
/// assert_eq!(reports[1].ts, 5_000_000);
/// assert!(reports[1].received_ts >= reports[1].ts);
/// assert_eq!(reports[1].fill_price, Decimal::new(1001, 0));
/// assert_eq!(venue.position(), Decimal::new(1, 1));
/// assert_eq!(venue.open_orders(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct SymbolVenue {
    ex: Exchange,
    gateway: Gateway,
    /// Messages not yet at the venue, with their arrival times (non-decreasing).
    in_flight: VecDeque<(Nanos, Order)>,
    /// How many of `in_flight` are `New`.
    in_flight_new: usize,
    /// Open buy orders in the book or working as market orders, in priority order.
    bids: Queue,
    /// Open sell orders, likewise.
    asks: Queue,
    /// Stops and take-profits waiting for their trigger, in arrival order.
    untriggered: Vec<Working>,
    /// Ranks given so far: the time priority of arrivals and triggers.
    ranked: u64,
    /// Client ids of the `New`s that have reached the venue: the most recent
    /// [`SEEN_CAPACITY`], each for [`SEEN_TTL_NS`] of event time.
    seen: IdempotencyCache<u64>,
    /// Client ids not yet seen whose OCO partner has triggered or filled.
    oco_cancelled: BTreeSet<u64>,
}

impl SymbolVenue {
    /// A venue trading `instrument`, with no quote and no orders, drawing its latencies
    /// from `seed`.
    ///
    /// # Panics
    /// If `config` is invalid ([`VenueConfig::validate`]): an order decided on a tick
    /// must not trade on it, and a latency or fee schedule must make sense.
    pub fn new(instrument: Instrument, config: VenueConfig, seed: u64) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid venue config: {e}");
        }
        Self {
            gateway: Gateway::new(&config, seed),
            ex: Exchange {
                instrument,
                estimates: Estimates::new(config.estimates),
                config,
                book: None,
                depth: Depth::new(),
                account: Account::new(),
            },
            in_flight: VecDeque::new(),
            in_flight_new: 0,
            bids: Queue::new(),
            asks: Queue::new(),
            untriggered: Vec::new(),
            ranked: 0,
            seen: IdempotencyCache::new(SEEN_CAPACITY, SEEN_TTL_NS),
            oco_cancelled: BTreeSet::new(),
        }
    }

    /// Send an order message at `order.ts`; returns when it reaches the venue, where the
    /// first tick after that acts on it.
    pub fn submit(&mut self, order: Order) -> Nanos {
        let arrival = self.gateway.arrival(order.ts);
        if order.action == OrderAction::New {
            self.in_flight_new += 1;
        }
        self.in_flight.push_back((arrival, order));
        arrival
    }

    /// Process one tick of this symbol, appending the reports it causes to `out`.
    /// Ticks must come in `(ts, seq)` order.
    pub fn on_tick(&mut self, tick: &Tick, out: &mut Vec<ExecutionReport>) {
        self.catch_up(tick.ts, out);
        let from = out.len();
        self.ex.estimates.on_tick(tick.ts, &tick.kind);
        match tick.kind {
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            } => {
                self.ex.book = Some(Book::new(bid, bid_size, ask, ask_size));
                self.ex.depth.prune(bid, ask);
                self.match_quote(tick.ts, out);
            }
            TickKind::Trade {
                price,
                size,
                aggressor,
            } => {
                let resting = match aggressor {
                    Side::Sell => Side::Buy,
                    Side::Buy => Side::Sell,
                };
                self.match_trade(tick.ts, price, size, resting, out);
            }
            TickKind::Depth { side, price, size } => {
                self.ex.depth.set(side, price, size);
                let queue = match side {
                    Side::Buy => &mut self.bids,
                    Side::Sell => &mut self.asks,
                };
                for w in &mut queue.orders {
                    self.ex.rest_on_depth(w, price, size);
                }
            }
        }
        self.settle(from, out);
    }

    /// How many orders are open: resting limit orders, market remainders, untriggered
    /// stops and take-profits, and new orders still in flight.
    pub fn open_orders(&self) -> usize {
        self.bids.orders.len()
            + self.asks.orders.len()
            + self.untriggered.len()
            + self.in_flight_new
    }

    /// Whether the venue's filters accept `order` arriving at `arrival`, given the last
    /// quote seen; see [`RejectReason`] for the checks.
    pub fn check(&self, order: &Order, arrival: Nanos) -> Result<(), RejectReason> {
        check_order(
            &self.ex.instrument,
            self.ex.book.map(|b| b.mid()),
            order,
            arrival,
        )
    }

    /// The venue's position in the symbol: the signed sum of its fills.
    pub fn position(&self) -> Decimal {
        self.ex.account.position()
    }

    /// Set the rest of the account's 30-day quote volume (other symbols, other
    /// sessions), added to this venue's own for the fee tier. Zero at the start.
    pub fn set_other_volume(&mut self, volume: Decimal) {
        self.ex.account.other_volume = volume;
    }

    /// The 30-day quote volume that picks the fee tier of a fill at `ts`: this venue's
    /// fills in the days `d − 29 ..= d` of `ts`, plus the other volume.
    pub fn volume_30d(&self, ts: Nanos) -> Decimal {
        self.ex.account.own_volume(ts) + self.ex.account.other_volume
    }

    /// The impact law's `(V, σ_d)`: daily volume in base units and daily volatility of
    /// the mid's log, once the estimates are warm.
    pub fn daily_estimates(&self) -> Option<(f64, f64)> {
        self.ex.estimates.daily()
    }

    /// Step 1 of a tick at `now`: deliver the messages arriving before `now` and expire
    /// the orders expiring at or before it, in event-time order.
    fn catch_up(&mut self, now: Nanos, out: &mut Vec<ExecutionReport>) {
        loop {
            let arrival = self
                .in_flight
                .front()
                .map(|&(arrival, _)| arrival)
                .filter(|&arrival| arrival < now);
            let expiry = self.earliest_expiry().filter(|&(e, _)| e <= now);
            let from = out.len();
            if let Some((expire_ts, client_id)) =
                expiry.filter(|&(e, _)| arrival.is_none_or(|a| e <= a))
            {
                if let Some(open) = self.find_open(client_id) {
                    out.push(open.close(expire_ts, ReportStatus::Expired, None));
                }
            } else if let Some((arrival, order)) = arrival.and_then(|_| self.in_flight.pop_front())
            {
                if order.action == OrderAction::New {
                    self.in_flight_new -= 1;
                }
                self.arrive(arrival, order, out);
            } else {
                return;
            }
            self.settle(from, out);
        }
    }

    /// End a step: drop the orders it closed, and stamp when its reports are received.
    /// (Steps come in event-time order, so the outage windows are asked in time order.)
    fn settle(&mut self, from: usize, out: &mut [ExecutionReport]) {
        self.bids.sweep();
        self.asks.sweep();
        self.untriggered.retain(|o| !o.done);
        for report in &mut out[from..] {
            report.received_ts = self.gateway.received(report.ts);
        }
    }

    /// The open order that expires first, as `(expire_ts, client_id)`.
    fn earliest_expiry(&self) -> Option<(Nanos, u64)> {
        self.bids
            .orders
            .iter()
            .chain(&self.asks.orders)
            .chain(&self.untriggered)
            .filter(|o| !o.done && o.expire_ts != Nanos::MAX)
            .map(|o| (o.expire_ts, o.client_id))
            .min()
    }

    /// The open order `client_id` at the venue.
    fn find_open(&mut self, client_id: u64) -> Option<&mut Working> {
        self.bids
            .orders
            .iter_mut()
            .chain(self.asks.orders.iter_mut())
            .chain(self.untriggered.iter_mut())
            .find(|o| !o.done && o.client_id == client_id)
    }

    fn next_rank(&mut self) -> u64 {
        self.ranked += 1;
        self.ranked
    }
}
