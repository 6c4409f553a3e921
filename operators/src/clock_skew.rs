//! The clock-skew trigger: the event time of the market against the local clock.
//!
//! In a live run the local clock is the host's; in a paced replay it is the replay's
//! own mapping of wall time to event time, so a skew there means the job has fallen
//! behind the market it is meant to keep up with. Either way the caller reads the clock
//! and passes it in: this state machine only compares. A skew beyond the limit on
//! `confirm` ticks in a row asks for a Pause; it does not lift it (a person checks the
//! clocks and resumes), and it asks again only after the skew has stayed within half
//! the limit for `rearm_after_ns` of event time.

use bot4_schemas::{ControlCommand, Nanos};

/// Limits of the clock-skew trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ClockSkewConfig {
    /// The largest tolerated `|event time − local time|`.
    pub max_skew_ns: Nanos,
    /// Ticks in a row beyond it before the trigger fires (one late tick is noise).
    pub confirm: u32,
    /// How long the skew must stay within half the limit before the trigger may fire
    /// again.
    pub rearm_after_ns: Nanos,
}

impl Default for ClockSkewConfig {
    fn default() -> Self {
        Self {
            max_skew_ns: 2_000_000_000,
            confirm: 3,
            rearm_after_ns: 300_000_000_000,
        }
    }
}

/// State of the clock-skew trigger.
#[derive(Debug, Clone)]
pub struct ClockSkewMonitor {
    config: ClockSkewConfig,
    tripped: bool,
    run: u32,
    /// While tripped: since when the skew has been within half the limit.
    within_since: Option<Nanos>,
}

impl ClockSkewMonitor {
    /// A monitor with these limits, not tripped.
    pub fn new(config: ClockSkewConfig) -> Self {
        Self {
            config,
            tripped: false,
            run: 0,
            within_since: None,
        }
    }

    /// A tick of event time `event_ts` seen at local time `local_ts`; the command to ask
    /// for, with its reason, when the trigger fires.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::clock_skew::{ClockSkewConfig, ClockSkewMonitor};
    /// let mut m = ClockSkewMonitor::new(ClockSkewConfig {
    ///     max_skew_ns: 100, confirm: 2, rearm_after_ns: 1_000_000,
    /// });
    /// assert!(m.observe(1_000, 1_050).is_none());
    /// assert!(m.observe(2_000, 2_500).is_none(), "one tick beyond the limit is noise");
    /// assert!(m.observe(3_000, 3_500).is_some());
    /// assert!(m.observe(4_000, 4_500).is_none(), "asked once");
    /// ```
    pub fn observe(
        &mut self,
        event_ts: Nanos,
        local_ts: Nanos,
    ) -> Option<(ControlCommand, String)> {
        let skew = event_ts.saturating_sub(local_ts);
        let limit = self.config.max_skew_ns;
        if self.tripped {
            if skew.unsigned_abs() > (limit / 2).unsigned_abs() {
                self.within_since = None;
            } else {
                let since = *self.within_since.get_or_insert(event_ts);
                if event_ts.saturating_sub(since) >= self.config.rearm_after_ns {
                    self.tripped = false;
                    self.within_since = None;
                }
            }
            return None;
        }
        if skew.unsigned_abs() <= limit.unsigned_abs() {
            self.run = 0;
            return None;
        }
        self.run += 1;
        if self.run < self.config.confirm.max(1) {
            return None;
        }
        self.run = 0;
        self.tripped = true;
        Some({
            let (ahead, by) = if skew > 0 {
                ("ahead of", skew)
            } else {
                ("behind", -skew)
            };
            (
                ControlCommand::Pause,
                format!(
                    "clock skew: the market's event time is {:.3} s {ahead} the local clock (limit {:.3} s)",
                    by as f64 / 1e9,
                    limit as f64 / 1e9
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sustained_skew_pauses_once_and_rearms_after_recovering() {
        let mut m = ClockSkewMonitor::new(ClockSkewConfig::default());
        let s = 1_000_000_000;
        assert!(m.observe(10 * s, 10 * s).is_none());
        assert!(m.observe(11 * s, 14 * s).is_none());
        assert!(m.observe(12 * s, 15 * s).is_none());
        let (command, reason) = m.observe(13 * s, 16 * s).expect("three ticks 3 s behind");
        assert_eq!(command, ControlCommand::Pause);
        assert_eq!(
            reason,
            "clock skew: the market's event time is 3.000 s behind the local clock (limit 2.000 s)"
        );
        for i in 0..10 {
            assert!(
                m.observe((14 + i) * s, (14 + i) * s + 1_500_000_000)
                    .is_none(),
                "still beyond half"
            );
        }
        for i in 0..30 {
            // Within half the limit, but not yet for five minutes.
            assert!(
                m.observe((30 + 10 * i) * s, (30 + 10 * i) * s).is_none(),
                "recovering"
            );
            assert!(
                m.observe((35 + 10 * i) * s, (38 + 10 * i) * s).is_none(),
                "still tripped"
            );
        }
        assert!(m.observe(400 * s, 400 * s).is_none());
        assert!(
            m.observe(700 * s, 700 * s).is_none(),
            "five minutes within: re-armed"
        );
        assert!(m.observe(701 * s, 698 * s).is_none());
        assert!(m.observe(702 * s, 699 * s).is_none());
        assert!(m
            .observe(703 * s, 700 * s)
            .expect("re-armed")
            .1
            .contains("ahead of"));
    }

    #[test]
    fn isolated_late_ticks_are_noise() {
        let mut m = ClockSkewMonitor::new(ClockSkewConfig::default());
        let s = 1_000_000_000;
        for i in 0..100 {
            let late = if i % 3 == 0 { 5 * s } else { 0 };
            assert!(m.observe(i * s, i * s + late).is_none());
        }
    }
}
