//! The venue's own record of our trading in its symbol: the position (for reduce-only
//! orders) and the rolling 30-day quote volume (for the fee tier).

use bot4_schemas::{Liquidity, Nanos, Side};
use rust_decimal::Decimal;

use super::config::VenueConfig;
use super::gateway::DAY;

/// Days in the fee tier's rolling volume.
const WINDOW_DAYS: usize = 30;

/// Our quote volume in each of the last 30 event-time days (UTC days since the epoch):
/// what a fee tier is picked by. The venue keeps one per symbol; the safety watch keeps
/// one per symbol of the whole account, for [`SymbolVenue::set_other_volume`].
///
/// Invariant: `total` is the sum of `volumes`; slot `d mod 30` holds day `days[slot]`.
///
/// # Examples
/// ```
/// use bot4_operators::venue::RollingVolume;
/// use rust_decimal::Decimal;
/// const DAY: i64 = 86_400_000_000_000;
/// let mut v = RollingVolume::new();
/// v.add_at(0, Decimal::from(100));
/// v.add_at(29 * DAY, Decimal::from(5));
/// assert_eq!(v.total_as_of_ts(29 * DAY), Decimal::from(105));
/// assert_eq!(v.total_as_of_ts(30 * DAY), Decimal::from(5)); // day 0 has left the window
/// ```
///
/// [`SymbolVenue::set_other_volume`]: super::SymbolVenue::set_other_volume
#[derive(Debug, Clone)]
pub struct RollingVolume {
    days: [i64; WINDOW_DAYS],
    volumes: [Decimal; WINDOW_DAYS],
    total: Decimal,
}

impl Default for RollingVolume {
    fn default() -> Self {
        Self::new()
    }
}

impl RollingVolume {
    /// No volume.
    pub fn new() -> Self {
        Self {
            days: [i64::MIN; WINDOW_DAYS],
            volumes: [Decimal::ZERO; WINDOW_DAYS],
            total: Decimal::ZERO,
        }
    }

    /// The volume of days `day − 29 ..= day`, dropping older days.
    fn total_at(&mut self, day: i64) -> Decimal {
        for (d, v) in self.days.iter_mut().zip(self.volumes.iter_mut()) {
            if *d != i64::MIN && *d <= day - WINDOW_DAYS as i64 {
                self.total -= *v;
                *v = Decimal::ZERO;
                *d = i64::MIN;
            }
        }
        self.total
    }

    /// The volume of days `day − 29 ..= day`, without dropping anything.
    fn total_as_of(&self, day: i64) -> Decimal {
        self.days
            .iter()
            .zip(&self.volumes)
            .filter(|&(&d, _)| d != i64::MIN && d > day - WINDOW_DAYS as i64 && d <= day)
            .map(|(_, &v)| v)
            .sum()
    }

    /// Add `volume` traded at event time `ts`.
    pub fn add_at(&mut self, ts: Nanos, volume: Decimal) {
        self.add(ts.div_euclid(DAY), volume);
    }

    /// The volume of the 30 days up to and including that of `ts`.
    pub fn total_as_of_ts(&self, ts: Nanos) -> Decimal {
        self.total_as_of(ts.div_euclid(DAY))
    }

    fn add(&mut self, day: i64, volume: Decimal) {
        let slot = day.rem_euclid(WINDOW_DAYS as i64) as usize;
        if self.days[slot] != day {
            self.total -= self.volumes[slot];
            self.volumes[slot] = Decimal::ZERO;
            self.days[slot] = day;
        }
        self.volumes[slot] += volume;
        self.total += volume;
    }
}

/// The position and volume the venue has seen us trade.
#[derive(Debug, Clone)]
pub(super) struct Account {
    /// Signed sum of our fills, in base units.
    position: Decimal,
    volume: RollingVolume,
    /// The rest of the account's 30-day quote volume, set by the caller.
    pub(super) other_volume: Decimal,
}

/// What a fill changed beyond the order itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Booked {
    /// The fee charged.
    pub(super) fee: Decimal,
    /// The position's sign changed (it reached zero, left it, or flipped).
    pub(super) sign_changed: bool,
}

impl Account {
    pub(super) fn new() -> Self {
        Self {
            position: Decimal::ZERO,
            volume: RollingVolume::new(),
            other_volume: Decimal::ZERO,
        }
    }

    pub(super) fn position(&self) -> Decimal {
        self.position
    }

    /// Our 30-day quote volume as of `ts` (without the rest of the account's).
    pub(super) fn own_volume(&self, ts: Nanos) -> Decimal {
        self.volume.total_as_of(ts.div_euclid(DAY))
    }

    /// How much an order on `side` can still reduce the position: its size when the
    /// order is on the other side of it, else zero.
    pub(super) fn reducible(&self, side: Side) -> Decimal {
        match side {
            Side::Sell if self.position > Decimal::ZERO => self.position,
            Side::Buy if self.position < Decimal::ZERO => -self.position,
            _ => Decimal::ZERO,
        }
    }

    /// Book a fill at `ts`: its fee by the tier of the 30-day volume before it, then its
    /// quote volume and its effect on the position.
    pub(super) fn book(
        &mut self,
        ts: Nanos,
        side: Side,
        liquidity: Liquidity,
        price: Decimal,
        qty: Decimal,
        config: &VenueConfig,
    ) -> Booked {
        let day = ts.div_euclid(DAY);
        let volume = self.volume.total_at(day) + self.other_volume;
        let fee = config.fee(volume, liquidity, price, qty);
        self.volume.add(day, price * qty);
        let before = self.position;
        match side {
            Side::Buy => self.position += qty,
            Side::Sell => self.position -= qty,
        }
        Booked {
            fee,
            sign_changed: signum(before) != signum(self.position),
        }
    }
}

fn signum(x: Decimal) -> i8 {
    if x > Decimal::ZERO {
        1
    } else if x < Decimal::ZERO {
        -1
    } else {
        0
    }
}
