//! The configuration of one run: the strategy's parameters, time and the worker layout.

use std::path::PathBuf;

use bot4_operators::desk::{DeskConfig, ProtectionConfig};
use bot4_operators::features::FeatureConfig;
use bot4_operators::models::forecaster::{Forecaster, ForecasterConfig};
use bot4_operators::orders::OrderConfig;
use bot4_operators::risk::checks::{PreTradeRisk, RiskLimits};
use bot4_operators::risk::tiers::{default_tiers, CapitalTiers, Tier, DEFAULT_HYSTERESIS};
use bot4_operators::risk::RiskConfig;
use bot4_operators::safety_triggers::TriggerConfig;
use bot4_operators::signals::bar_signal::{BarSignal, BarSignalConfig};
use bot4_operators::venue::VenueConfig;
use bot4_schemas::{Decimal, EpochWidth, Instrument, Nanos};

use crate::PipelineError;

/// Every parameter of the strategy and the simulated venue; the defaults are Bot4's
/// embedded configuration.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StrategyConfig {
    /// Capital at the start, in quote currency: the equity curve's starting point.
    pub capital: Decimal,
    /// Feature half-lives and the bar width.
    pub features: FeatureConfig,
    /// The forecasting models: GARCH, AR, logistic, ensemble, tick momentum.
    pub model: ForecasterConfig,
    /// The signal combiner's thresholds and regimes (its bar width is the features').
    pub signal: BarSignalConfig,
    /// Sizing: fractional Kelly, the volatility target, the caps.
    pub risk: RiskConfig,
    /// The pre-trade checks' limits.
    pub limits: RiskLimits,
    /// Brackets and time stops.
    pub protection: ProtectionConfig,
    /// Order handling.
    pub orders: OrderConfig,
    /// Simulated venue: latency, fees, impact, rate limits, outages.
    pub venue: VenueConfig,
    /// The safety controller's automatic triggers.
    pub safety: TriggerConfig,
    /// The capital tiers the account moves through as its equity changes.
    pub tiers: TierConfig,
    /// The correlations' decay per bar (RiskMetrics' 0.94).
    pub correlation_decay: f64,
    /// Bars two symbols need together before their correlation is known.
    pub correlation_min_bars: u64,
    /// The seed of every random draw of the run's simulation (the venue's latencies
    /// and outages), so that a replay is repeatable.
    pub seed: u64,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        Self {
            capital: Decimal::from(1_000_000),
            features: FeatureConfig::default(),
            model: ForecasterConfig::default(),
            signal: BarSignalConfig::default(),
            risk: RiskConfig::default(),
            limits: RiskLimits::default(),
            protection: ProtectionConfig::default(),
            orders: OrderConfig::default(),
            venue: VenueConfig::default(),
            safety: TriggerConfig::default(),
            tiers: TierConfig::default(),
            correlation_decay: 0.94,
            correlation_min_bars: 30,
            seed: 0xB074,
        }
    }
}

/// The capital tiers and the hysteresis of moves between them, as a tiers file holds
/// them (JSON).
///
/// # Examples
/// ```
/// use bot4_pipeline::config::TierConfig;
/// let config: TierConfig = serde_json::from_str(r#"{
///     "hysteresis": 0.1,
///     "tiers": [
///         {"name": "small", "min_equity": "0", "risk_scale": 0.5, "concentration": 0.02,
///          "max_leverage": 1.0, "max_symbols": 3, "strategies": ["bar_signal"]},
///         {"name": "large", "min_equity": "500000", "risk_scale": 1.0, "concentration": 0.05,
///          "max_leverage": 3.0, "max_symbols": 10, "strategies": ["bar_signal"]}
///     ]
/// }"#).unwrap();
/// assert_eq!(config.tiers[1].max_symbols, 10);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TierConfig {
    /// Ascending by `min_equity`; the account starts in the highest one its capital
    /// reaches.
    pub tiers: Vec<Tier>,
    /// A tier is left downwards below `min_equity · (1 − hysteresis)`; in `[0, 1)`.
    #[serde(default = "default_hysteresis")]
    pub hysteresis: f64,
}

fn default_hysteresis() -> f64 {
    DEFAULT_HYSTERESIS
}

impl TierConfig {
    /// The tiers in the JSON file at `path`.
    pub fn from_file(path: &std::path::Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PipelineError::Config(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| PipelineError::Config(format!("{}: {e}", path.display())))
    }
}

impl Default for TierConfig {
    /// [`default_tiers`] with 20% hysteresis.
    fn default() -> Self {
        Self {
            tiers: default_tiers(),
            hysteresis: DEFAULT_HYSTERESIS,
        }
    }
}

impl StrategyConfig {
    /// The name the tiers enable the strategy by.
    pub const NAME: &'static str = "bar_signal";

    /// The signal stage's configuration, on the features' bars.
    pub fn bar_signal(&self) -> BarSignalConfig {
        BarSignalConfig {
            bar_width: self.features.bar_width,
            ..self.signal
        }
    }

    /// A desk's configuration.
    pub fn desk(&self) -> DeskConfig {
        DeskConfig {
            sizing: self.risk,
            limits: self.limits,
            orders: self.orders,
            protection: self.protection,
        }
    }

    /// The capital tiers, starting from the run's capital.
    pub fn tiers(&self) -> Result<CapitalTiers, PipelineError> {
        CapitalTiers::new(
            self.tiers.tiers.clone(),
            self.tiers.hysteresis,
            self.capital,
        )
        .map_err(|e| PipelineError::Config(format!("capital tiers: {e}")))
    }

    /// An error naming the first invalid parameter; the graph is built only from a
    /// configuration that passed.
    pub fn validate(&self) -> Result<(), PipelineError> {
        if self.capital <= Decimal::ZERO {
            return Err(PipelineError::Config("the capital must be positive".into()));
        }
        let any = Instrument {
            symbol: "ANY".into(),
            tick_size: Decimal::ONE,
            lot_size: Decimal::ONE,
            min_notional: Decimal::ZERO,
        };
        PreTradeRisk::new(any, self.limits)
            .map_err(|e| PipelineError::Config(format!("risk limits: {e}")))?;
        if !(self.correlation_decay > 0.0 && self.correlation_decay < 1.0) {
            return Err(PipelineError::Config(
                "the correlation decay must be between 0 and 1".into(),
            ));
        }
        if self.features.bar_width <= 0 {
            return Err(PipelineError::Config(
                "the bar width must be positive".into(),
            ));
        }
        self.tiers()?;
        Forecaster::new(self.model).map_err(|e| PipelineError::Config(format!("model: {e}")))?;
        BarSignal::new(self.bar_signal())
            .map_err(|e| PipelineError::Config(format!("signal: {e}")))?;
        let t = &self.safety;
        for (name, limit) in [("soft", t.soft_drawdown), ("hard", t.hard_drawdown)] {
            if limit.is_some_and(|l| !(l > 0.0 && l < 1.0)) {
                return Err(PipelineError::Config(format!(
                    "the {name} drawdown limit must be a fraction between 0 and 1"
                )));
            }
        }
        if let (Some(soft), Some(hard)) = (t.soft_drawdown, t.hard_drawdown) {
            if soft > hard {
                return Err(PipelineError::Config(format!(
                    "the soft drawdown limit {soft} is above the hard one {hard}"
                )));
            }
        }
        if t.stale_after_ns.is_some_and(|n| n <= 0)
            || t.breaker_window_ns <= 0
            || t.breaker_cooldown_ns < 0
        {
            return Err(PipelineError::Config(
                "the safety triggers' intervals must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// How the job is spread over threads and processes, in timely's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Worker threads per process.
    pub workers: usize,
    /// Number of processes.
    pub processes: usize,
    /// This process's index.
    pub process: usize,
    /// `host:port` of every process, in process order (required when `processes > 1`).
    pub addresses: Vec<String>,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            workers: 1,
            processes: 1,
            process: 0,
            addresses: Vec::new(),
        }
    }
}

impl Layout {
    /// A layout of `workers` threads in `processes` processes, this being `process`; the
    /// addresses come from `hostfile` (one `host:port` per line) or default to
    /// `localhost:2101`, `localhost:2102`, …
    pub fn new(
        workers: usize,
        processes: usize,
        process: usize,
        hostfile: Option<&PathBuf>,
    ) -> Result<Self, PipelineError> {
        if workers == 0 {
            return Err(PipelineError::Config("--workers must be at least 1".into()));
        }
        if processes == 0 || process >= processes {
            return Err(PipelineError::Config(format!(
                "--process {process} is not below --processes {processes}"
            )));
        }
        let addresses = match hostfile {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
                let hosts: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned)
                    .take(processes)
                    .collect();
                if hosts.len() < processes {
                    return Err(PipelineError::Config(format!(
                        "{}: {} addresses for {processes} processes",
                        path.display(),
                        hosts.len()
                    )));
                }
                hosts
            }
            None if processes > 1 => (0..processes)
                .map(|i| format!("localhost:{}", 2101 + i))
                .collect(),
            None => Vec::new(),
        };
        Ok(Self {
            workers,
            processes,
            process,
            addresses,
        })
    }

    /// Workers in the whole job.
    pub fn peers(&self) -> usize {
        self.workers * self.processes
    }

    /// The timely configuration for this layout.
    pub fn timely_config(&self) -> timely::Config {
        let communication = if self.processes > 1 {
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses: self.addresses.clone(),
                report: false,
                zerocopy: false,
            }
        } else if self.workers > 1 {
            timely::CommunicationConfig::Process(self.workers)
        } else {
            timely::CommunicationConfig::Thread
        };
        timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        }
    }
}

/// Parse a duration such as `500ms`, `1s`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, PipelineError> {
    humantime::parse_duration(text)
        .map_err(|e| PipelineError::Config(format!("`{text}` is not a duration: {e}")))
}

/// Parse a bar width such as `10s`, `1m` or `1h` into nanoseconds.
pub fn parse_bar_width(text: &str) -> Result<Nanos, PipelineError> {
    let d = parse_duration(text)?;
    match i64::try_from(d.as_nanos()) {
        Ok(nanos) if nanos > 0 => Ok(nanos),
        Ok(_) => Err(PipelineError::Config(format!(
            "bar width `{text}` must be positive"
        ))),
        Err(_) => Err(PipelineError::Config(format!(
            "bar width `{text}` is too long"
        ))),
    }
}

/// Parse a point in time in UTC from 1970 on: RFC 3339 (`2026-01-01T12:00:00Z`,
/// `2026-01-01 12:00:00.5`) or a date (`2026-01-01`, its midnight), into Unix
/// nanoseconds.
pub fn parse_time(text: &str) -> Result<Nanos, PipelineError> {
    let bad = |e: String| {
        PipelineError::Config(format!("`{text}` is not an RFC 3339 time or a date: {e}"))
    };
    let full = if text.len() == 10 && text.as_bytes().get(4) == Some(&b'-') {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let time = humantime::parse_rfc3339_weak(&full).map_err(|e| bad(e.to_string()))?;
    let nanos = match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => {
            i64::try_from(after.as_nanos()).map_err(|_| bad("too far in the future".into()))?
        }
        Err(before) => -i64::try_from(before.duration().as_nanos())
            .map_err(|_| bad("too far in the past".into()))?,
    };
    Ok(nanos)
}

/// A duration such as `2m` in nanoseconds; `0` gives `None` (the trigger is off).
pub fn parse_optional_interval(text: &str) -> Result<Option<Nanos>, PipelineError> {
    let d = parse_duration(text)?;
    match i64::try_from(d.as_nanos()) {
        Ok(0) => Ok(None),
        Ok(nanos) => Ok(Some(nanos)),
        Err(_) => Err(PipelineError::Config(format!(
            "interval `{text}` is too long"
        ))),
    }
}

/// Parse an epoch width such as `100ms` or `1s`.
pub fn parse_epoch(text: &str) -> Result<EpochWidth, PipelineError> {
    let d = parse_duration(text)?;
    let nanos = i64::try_from(d.as_nanos())
        .map_err(|_| PipelineError::Config(format!("epoch `{text}` is too long")))?;
    EpochWidth::from_nanos(nanos).map_err(|e| PipelineError::Config(format!("epoch `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_rfc3339_in_utc_or_dates() {
        let day = 1_767_225_600_000_000_000;
        assert_eq!(parse_time("2026-01-01").ok(), Some(day));
        assert_eq!(parse_time("2026-01-01T00:00:00Z").ok(), Some(day));
        assert_eq!(
            parse_time("2026-01-01T01:00:00.5Z").ok(),
            Some(day + 3_600_500_000_000)
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-01-01T25:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            let e = parse_time(bad).expect_err(bad).to_string();
            assert!(e.contains("not an RFC 3339 time"), "{e}");
        }
    }
}
