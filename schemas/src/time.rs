//! Event time: nanoseconds since the Unix epoch, and the epochs that timely counts in.

use crate::SchemaError;

/// Event time in nanoseconds since 1970-01-01T00:00:00Z.
pub type Nanos = i64;

/// One second in nanoseconds.
pub const NANOS_PER_SECOND: Nanos = 1_000_000_000;

/// The width of a timely epoch: event time is bucketed into epochs of this width, and the
/// dataflow's timestamps are epoch numbers, never one timestamp per record.
///
/// # Examples
/// ```
/// use bot4_schemas::EpochWidth;
/// let width = EpochWidth::from_nanos(1_000_000).unwrap();
/// assert_eq!(width.epoch_of(2_500_000), 2);
/// assert_eq!(width.epoch_start(2), 2_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochWidth(i64);

impl EpochWidth {
    /// A width of `nanos` nanoseconds, which must be positive.
    pub fn from_nanos(nanos: i64) -> Result<Self, SchemaError> {
        if nanos <= 0 {
            return Err(SchemaError::BadValue {
                column: "epoch".into(),
                row: 0,
                reason: format!("epoch width must be positive, got {nanos} ns"),
            });
        }
        Ok(Self(nanos))
    }

    /// The width in nanoseconds.
    pub fn nanos(self) -> i64 {
        self.0
    }

    /// The epoch holding event time `ts`. Times before 1970 fall in epoch 0.
    #[inline]
    pub fn epoch_of(self, ts: Nanos) -> u64 {
        if ts <= 0 {
            0
        } else {
            (ts / self.0) as u64
        }
    }

    /// The first nanosecond of `epoch`.
    #[inline]
    pub fn epoch_start(self, epoch: u64) -> Nanos {
        (epoch as i64).saturating_mul(self.0)
    }

    /// The last nanosecond of `epoch`.
    #[inline]
    pub fn epoch_end(self, epoch: u64) -> Nanos {
        self.epoch_start(epoch).saturating_add(self.0 - 1)
    }
}
