//! The command-line side of the control plane: the levers' options of `bot4 replay` and
//! `bot4 demo`, and the commands `bot4 control` and `bot4 status`.
//!
//! There is no command that places, sizes or cancels an order, and there must not be
//! one: the levers only change the safety controller's mode.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use bot4_schemas::Nanos;
use clap::Args;

use super::client::{AdminClient, ClientError};
use super::gpio::{GpioConfig, StatusLeds};
use super::plane::{AdminConfig, ControlPlaneConfig};
use super::Status;
use crate::PipelineError;

/// The levers of a running job (`#[command(flatten)]` into a command's arguments).
#[derive(Debug, Clone, Args)]
pub struct ControlPlaneArgs {
    /// Serve `bot4 control` and `bot4 status` on this loopback address, e.g. 127.0.0.1:0
    /// (port 0: any free port; the admin file says which).
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<SocketAddr>,
    /// Where the admin endpoint writes its address and token (mode 0600) [default:
    /// $XDG_RUNTIME_DIR/bot4/admin.json, else $HOME/.bot4/admin.json].
    #[arg(long, value_name = "PATH", env = "BOT4_ADMIN_FILE")]
    pub admin_file: Option<PathBuf>,
    /// Go to Emergency when a file appears at this path (its first line is the reason).
    #[arg(long, value_name = "PATH")]
    pub kill_file: Option<PathBuf>,
    /// Do not turn SIGUSR1 into Emergency and SIGUSR2 into Pause.
    #[arg(long)]
    pub no_signals: bool,
    /// The hardware kill switch: a BCM GPIO pin, pulled up, pressed when low (needs a
    /// build with the gpio feature).
    #[arg(long, value_name = "N")]
    pub gpio_kill_pin: Option<u8>,
    /// The status LEDs' BCM GPIO pins: green (normal), yellow (pause, reduce), red
    /// (emergency).
    #[arg(long, value_name = "G,Y,R", value_delimiter = ',')]
    pub gpio_leds: Vec<u8>,
}

impl ControlPlaneArgs {
    /// The control plane these options ask for.
    pub fn config(&self) -> Result<ControlPlaneConfig, PipelineError> {
        let admin = match self.admin {
            Some(addr) => Some(AdminConfig {
                addr,
                file: admin_file_or_default(self.admin_file.as_ref())?,
            }),
            None => None,
        };
        let leds = match self.gpio_leds.as_slice() {
            [] => None,
            &[green, yellow, red] => Some(StatusLeds { green, yellow, red }),
            other => {
                return Err(PipelineError::Config(format!(
                    "--gpio-leds takes three pins, green,yellow,red; got {}",
                    other.len()
                )))
            }
        };
        let gpio = (self.gpio_kill_pin.is_some() || leds.is_some()).then_some(GpioConfig {
            kill_pin: self.gpio_kill_pin,
            leds,
        });
        if let Some(gpio) = &gpio {
            gpio.validate()?;
        }
        Ok(ControlPlaneConfig {
            admin,
            kill_file: self.kill_file.clone(),
            signals: !self.no_signals,
            gpio,
        })
    }
}

/// The default admin file: `$XDG_RUNTIME_DIR/bot4/admin.json`, else
/// `$HOME/.bot4/admin.json`; `None` when neither variable is set.
pub fn default_admin_file() -> Option<PathBuf> {
    let dir = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    dir("XDG_RUNTIME_DIR")
        .map(|d| d.join("bot4/admin.json"))
        .or_else(|| dir("HOME").map(|d| d.join(".bot4/admin.json")))
}

fn admin_file_or_default(given: Option<&PathBuf>) -> Result<PathBuf, PipelineError> {
    given.cloned().or_else(default_admin_file).ok_or_else(|| {
        PipelineError::Config(
            "no admin file: give --admin-file (neither XDG_RUNTIME_DIR nor HOME is set)".into(),
        )
    })
}

/// `bot4 control`: ask a running job for a mode, or (`set NAME VALUE`) for a parameter
/// change, which takes effect after the job's cooldown.
#[derive(Debug, Clone, Args)]
pub struct ControlArgs {
    /// The mode, or `set`.
    #[arg(value_parser = ["pause", "resume", "reduce", "emergency", "reset", "set"])]
    pub mode: String,
    /// With `set`: the parameter (orders.max_notional, orders.limit_ttl,
    /// orders.reduce_to, safety.soft_drawdown, safety.hard_drawdown, safety.stale_after,
    /// safety.breaker_rejects) and its new value.
    #[arg(num_args = 0..=2, value_names = ["NAME", "VALUE"])]
    pub parameter: Vec<String>,
    /// Why, for the audit trail (at most 500 characters).
    #[arg(long)]
    pub reason: Option<String>,
    /// The job's admin file [default: $XDG_RUNTIME_DIR/bot4/admin.json, else
    /// $HOME/.bot4/admin.json].
    #[arg(long, value_name = "PATH", env = "BOT4_ADMIN_FILE")]
    pub admin_file: Option<PathBuf>,
}

/// `bot4 status`: what a running job shows of itself.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The job's admin file [default: $XDG_RUNTIME_DIR/bot4/admin.json, else
    /// $HOME/.bot4/admin.json].
    #[arg(long, value_name = "PATH", env = "BOT4_ADMIN_FILE")]
    pub admin_file: Option<PathBuf>,
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Why `bot4 control` or `bot4 status` failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The admin file could not be located.
    #[error(transparent)]
    Config(#[from] PipelineError),
    /// The job could not be asked, or refused.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Run `bot4 control`; returns the line to print, e.g. `accepted: pause`.
pub fn control_command(args: &ControlArgs) -> Result<String, CommandError> {
    let client = AdminClient::from_admin_file(&admin_file_or_default(args.admin_file.as_ref())?)?;
    let accepted = match (args.mode.as_str(), args.parameter.as_slice()) {
        ("set", [name, value]) => {
            let accepted = client.set(name, value, args.reason.as_deref())?;
            return Ok(format!(
                "accepted: {} {name} = {value} (in effect after the job's cooldown)",
                accepted.as_str()
            ));
        }
        ("set", _) => {
            return Err(CommandError::Config(PipelineError::Config(
                "`bot4 control set` needs a parameter and a value".into(),
            )))
        }
        (_, []) => client.control(&args.mode, args.reason.as_deref())?,
        (mode, _) => {
            return Err(CommandError::Config(PipelineError::Config(format!(
                "`bot4 control {mode}` takes no parameter"
            ))))
        }
    };
    Ok(format!("accepted: {}", accepted.as_str()))
}

/// Run `bot4 status`; returns the text to print (JSON with `--json`).
pub fn status_command(args: &StatusArgs) -> Result<String, CommandError> {
    let client = AdminClient::from_admin_file(&admin_file_or_default(args.admin_file.as_ref())?)?;
    let status = client.status()?;
    if args.json {
        return serde_json::to_string_pretty(&status).map_err(|e| {
            CommandError::Config(PipelineError::Config(format!("encoding the status: {e}")))
        });
    }
    Ok(format_status(&status))
}

/// An event time as RFC 3339 in UTC, or its nanoseconds if before 1970.
fn format_time(ts: Nanos) -> String {
    u64::try_from(ts).map_or_else(
        |_| format!("{ts} ns"),
        |ns| humantime::format_rfc3339_nanos(UNIX_EPOCH + Duration::from_nanos(ns)).to_string(),
    )
}

/// The status as a person reads it.
pub fn format_status(status: &Status) -> String {
    let state = serde_json::to_value(status.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{:?}", status.state));
    let cause: Vec<String> = [
        status.mode_source.as_ref().map(|s| format!("by {s}")),
        status.mode_reason.as_ref().map(|r| format!("{r:?}")),
        status
            .mode_since
            .map(|t| format!("since {}", format_time(t))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mode = if cause.is_empty() {
        status.mode.clone()
    } else {
        format!("{} ({})", status.mode, cause.join(", "))
    };
    let mut lines = vec![
        format!("state       {state} (pid {})", status.pid),
        format!("mode        {mode}"),
        format!(
            "event time  {}",
            status.event_time.map_or_else(|| "-".into(), format_time)
        ),
        format!(
            "equity      {}",
            status.equity.map_or_else(|| "-".into(), |e| e.to_string())
        ),
        format!("drawdown    {:.2}%", status.drawdown * 100.0),
        format!("exposure    {} gross", status.gross_exposure),
    ];
    if status.positions.is_empty() {
        lines.push("positions   none".into());
    } else {
        lines.push("positions".into());
        lines.extend(positions_table(status));
    }
    lines.push(format!(
        "health      ticks {}, orders {}, fills {}, venue rejects {}, control events {}",
        status.ticks, status.orders, status.fills, status.venue_rejects, status.control_events
    ));
    lines.push(format!(
        "stale       {}",
        if status.stale_symbols.is_empty() {
            "none".to_owned()
        } else {
            status.stale_symbols.join(", ")
        }
    ));
    lines.join("\n")
}

/// The positions as aligned columns: the symbol left, the numbers right.
fn positions_table(status: &Status) -> Vec<String> {
    let header = [
        "symbol",
        "qty",
        "avg price",
        "mark",
        "notional",
        "unrealized",
        "realized",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 7]> = std::iter::once(header)
        .chain(status.positions.iter().map(|p| {
            [
                p.symbol.clone(),
                p.qty.to_string(),
                p.avg_price.to_string(),
                p.mark.to_string(),
                p.notional.to_string(),
                p.unrealized_pnl.to_string(),
                p.realized_pnl.to_string(),
            ]
        }))
        .collect();
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, w))| {
                    if i == 0 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            format!("  {}", cells.join("  ")).trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::PositionStatus;
    use bot4_schemas::Decimal;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        levers: ControlPlaneArgs,
    }

    #[test]
    fn levers_parse_into_a_config() {
        let cli = Cli::try_parse_from([
            "bot4",
            "--admin",
            "127.0.0.1:0",
            "--admin-file",
            "/tmp/x/admin.json",
            "--kill-file",
            "/tmp/KILL",
            "--gpio-kill-pin",
            "4",
            "--gpio-leds",
            "17,27,22",
        ])
        .expect("parse");
        let config = cli.levers.config().expect("config");
        let admin = config.admin.expect("admin");
        assert_eq!(admin.addr, "127.0.0.1:0".parse().expect("addr"));
        assert_eq!(admin.file, PathBuf::from("/tmp/x/admin.json"));
        assert_eq!(config.kill_file, Some(PathBuf::from("/tmp/KILL")));
        assert!(config.signals);
        let gpio = config.gpio.expect("gpio");
        assert_eq!(gpio.kill_pin, Some(4));
        assert_eq!(
            gpio.leds,
            Some(StatusLeds {
                green: 17,
                yellow: 27,
                red: 22
            })
        );

        let plain = Cli::try_parse_from(["bot4", "--no-signals"]).expect("parse");
        let config = plain.levers.config().expect("config");
        assert_eq!(config, ControlPlaneConfig::default());

        let two_leds = Cli::try_parse_from(["bot4", "--gpio-leds", "1,2"]).expect("parse");
        assert!(two_leds.levers.config().is_err());
        let same_pin =
            Cli::try_parse_from(["bot4", "--gpio-kill-pin", "1", "--gpio-leds", "1,2,3"])
                .expect("parse");
        assert!(same_pin.levers.config().is_err());
    }

    #[test]
    fn the_status_reads_as_text() {
        let status = Status {
            pid: 42,
            state: super::super::JobState::Running,
            mode: "pause".into(),
            mode_since: Some(1_767_225_600_000_000_000),
            mode_source: Some("admin".into()),
            mode_reason: Some("lunch".into()),
            event_time: Some(1_767_225_660_500_000_000),
            equity: Some(Decimal::new(100_012_345, 2)),
            drawdown: 0.0123,
            gross_exposure: Decimal::new(5000, 0),
            positions: vec![PositionStatus {
                symbol: "BTCUSDT".into(),
                qty: Decimal::new(1, 1),
                avg_price: Decimal::new(50_000, 0),
                mark: Decimal::new(50_000, 0),
                notional: Decimal::new(5000, 0),
                unrealized_pnl: Decimal::ZERO,
                realized_pnl: Decimal::new(-12, 1),
            }],
            ticks: 10,
            orders: 2,
            fills: 1,
            venue_rejects: 0,
            stale_symbols: vec!["ETHUSDT".into()],
            control_events: 1,
        };
        let text = format_status(&status);
        assert!(text.contains("state       running (pid 42)"), "{text}");
        assert!(
            text.contains(r#"mode        pause (by admin, "lunch", since 2026-01-01T00:00:00"#),
            "{text}"
        );
        assert!(text.contains("event time  2026-01-01T00:01:00.5"), "{text}");
        assert!(text.contains("equity      1000123.45"), "{text}");
        assert!(text.contains("drawdown    1.23%"), "{text}");
        assert!(text.contains("BTCUSDT"), "{text}");
        assert!(text.contains("-1.2"), "{text}");
        assert!(text.contains("stale       ETHUSDT"), "{text}");
        let empty = format_status(&Status::default());
        assert!(empty.contains("positions   none"), "{empty}");
        assert!(empty.contains("stale       none"), "{empty}");
    }
}
