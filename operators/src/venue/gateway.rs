//! Between the strategy and the matching engine: the connection's latencies, the
//! request rate limit and the outages.

use bot4_schemas::Nanos;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Poisson};

use super::config::{Latency, Outage, RandomOutages, RateLimit, VenueConfig};

/// Nanoseconds per day, the unit of the random outage draws.
pub(super) const DAY: Nanos = 86_400_000_000_000;
/// One token of the rate limit, in nano-tokens.
const TOKEN: i128 = 1_000_000_000;

/// The ChaCha streams of one venue seed: each kind of draw has its own, so that
/// entry latencies depend only on the messages sent and ack latencies only on the
/// reports made.
const ENTRY_STREAM: u64 = 1;
const ACK_STREAM: u64 = 2;

/// A log-normal latency sampler.
#[derive(Debug, Clone)]
struct Sampler {
    dist: LogNormal<f64>,
    rng: ChaCha8Rng,
}

impl Sampler {
    fn new(latency: Latency, seed: u64, stream: u64) -> Self {
        let mu = (latency.median_ns as f64).ln();
        // Validated: the median is at least 1 and sigma finite and not negative.
        let dist =
            LogNormal::new(mu, latency.sigma).unwrap_or_else(|_| unreachable!("latency validated"));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Self { dist, rng }
    }

    /// One draw, rounded to the nanosecond (`as` saturates far beyond any real latency).
    fn draw(&mut self) -> Nanos {
        self.dist.sample(&mut self.rng).round() as Nanos
    }
}

/// The request token bucket, in nano-tokens so that refills are exact integers.
#[derive(Debug, Clone)]
struct Bucket {
    capacity: i128,
    refill_per_ns: i128,
    level: i128,
    last: Option<Nanos>,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        let capacity = i128::from(limit.capacity) * TOKEN;
        Self {
            capacity,
            // A token per second is a nano-token per nanosecond.
            refill_per_ns: i128::from(limit.refill_per_second),
            level: capacity,
            last: None,
        }
    }

    /// Refill up to `now`, then take a token if there is one.
    fn take(&mut self, now: Nanos) -> bool {
        if let Some(last) = self.last {
            let elapsed = i128::from(now.saturating_sub(last).max(0));
            self.level = (self.level + elapsed * self.refill_per_ns).min(self.capacity);
        }
        self.last = Some(now);
        if self.level >= TOKEN {
            self.level -= TOKEN;
            true
        } else {
            false
        }
    }
}

/// The outage windows, fixed and random, as far as event time has needed them.
///
/// Invariant: `windows` is sorted by start and holds every window that may contain a
/// time at or after the last query; queries come in non-decreasing time.
#[derive(Debug, Clone)]
struct Outages {
    windows: Vec<(Nanos, Nanos)>,
    random: Option<RandomOutages>,
    /// The last day whose random windows are in `windows`.
    drawn_through: Option<i64>,
    last_query: Nanos,
}

impl Outages {
    fn new(fixed: &[Outage], random: Option<RandomOutages>) -> Self {
        let mut windows: Vec<_> = fixed.iter().map(|o| (o.start, o.end)).collect();
        windows.sort_unstable();
        Self {
            windows,
            random: random.filter(|r| r.per_day > 0.0),
            drawn_through: None,
            last_query: Nanos::MIN,
        }
    }

    /// The random windows starting on `day`: a Poisson count, each starting uniformly
    /// in the day and lasting an exponential time of the mean, clamped to `[1 ns, 1 day]`.
    fn draw_day(random: &RandomOutages, day: i64, windows: &mut Vec<(Nanos, Nanos)>) {
        let mut rng = ChaCha8Rng::seed_from_u64(random.seed);
        rng.set_stream(day as u64);
        let (Ok(count), Ok(duration)) = (
            Poisson::new(random.per_day),
            Exp::new(1.0 / random.mean_duration_ns as f64),
        ) else {
            return;
        };
        let n = count.sample(&mut rng) as u64;
        let day_start = day.saturating_mul(DAY);
        for _ in 0..n {
            let offset = (rand::Rng::random::<f64>(&mut rng) * DAY as f64) as Nanos;
            let length = (duration.sample(&mut rng).round() as Nanos).clamp(1, DAY);
            let start = day_start.saturating_add(offset.min(DAY - 1));
            windows.push((start, start.saturating_add(length)));
        }
    }

    /// If the venue is down at `ts`, the end of the outage (of the union of the
    /// overlapping or touching windows that contain it).
    fn down_until(&mut self, ts: Nanos) -> Option<Nanos> {
        debug_assert!(ts >= self.last_query, "outage queries go back in time");
        self.last_query = ts;
        if let Some(random) = self.random {
            let day = ts.div_euclid(DAY);
            // A window lasts at most a day, so none from before yesterday reaches today.
            let from = self.drawn_through.map_or(day - 1, |d| d + 1);
            if from <= day {
                let before = self.windows.len();
                for d in from..=day {
                    Self::draw_day(&random, d, &mut self.windows);
                }
                if self.windows.len() > before {
                    self.windows.sort_unstable();
                }
                self.drawn_through = Some(day);
            }
        }
        let ended = self
            .windows
            .iter()
            .take_while(|&&(start, end)| start <= ts && end <= ts)
            .count();
        if ended > 0 {
            self.windows.drain(..ended);
        }
        let mut until = None;
        let mut reach = ts;
        for &(start, end) in &self.windows {
            if start > reach {
                break;
            }
            if end > reach {
                until = Some(end);
                reach = end;
            }
        }
        until
    }
}

/// Why a message was refused before the matching engine saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No token in the bucket.
    RateLimited,
    /// The venue is in an outage.
    Unavailable,
}

/// The connection of one session to one symbol's venue.
#[derive(Debug, Clone)]
pub(super) struct Gateway {
    entry: Sampler,
    ack: Sampler,
    last_arrival: Nanos,
    bucket: Option<Bucket>,
    outages: Outages,
}

impl Gateway {
    pub(super) fn new(config: &VenueConfig, seed: u64) -> Self {
        Self {
            entry: Sampler::new(config.entry_latency, seed, ENTRY_STREAM),
            ack: Sampler::new(config.ack_latency, seed, ACK_STREAM),
            last_arrival: Nanos::MIN,
            bucket: config.rate_limit.map(Bucket::new),
            outages: Outages::new(&config.outages, config.random_outages),
        }
    }

    /// When a message sent at `ts` reaches the venue: after its entry latency (at least
    /// 1 ns), and not before the message sent before it.
    pub(super) fn arrival(&mut self, ts: Nanos) -> Nanos {
        let latency = self.entry.draw().max(1);
        self.last_arrival = ts.saturating_add(latency).max(self.last_arrival);
        self.last_arrival
    }

    /// Whether a message arriving at `arrival` is refused: in an outage, or (else) with
    /// no token left.
    pub(super) fn admit(&mut self, arrival: Nanos) -> Result<(), Refusal> {
        if self.outages.down_until(arrival).is_some() {
            return Err(Refusal::Unavailable);
        }
        let has_token = self.bucket.as_mut().is_none_or(|b| b.take(arrival));
        if has_token {
            Ok(())
        } else {
            Err(Refusal::RateLimited)
        }
    }

    /// When a report made at `ts` reaches the strategy: after its ack latency, and not
    /// before the end of an outage `ts` lies in.
    pub(super) fn received(&mut self, ts: Nanos) -> Nanos {
        let at = ts.saturating_add(self.ack.draw().max(0));
        match self.outages.down_until(ts) {
            Some(end) => at.max(end),
            None => at,
        }
    }
}
