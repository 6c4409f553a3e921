//! The summary a replay prints and saves as `summary.json`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bot4_schemas::{
    Decimal, ExecutionReport, Liquidity, Order, OrderAction, ReportStatus, SymbolRegistry,
};
use serde::Serialize;

use crate::graph::Totals;
use crate::sinks::for_each_batch;
use crate::sinks::postgres::WriterStats;
use crate::PipelineError;

/// The figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Ticks processed.
    pub ticks: u64,
    /// New orders submitted (the orders table also holds their cancel requests).
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// Fees paid.
    pub fees: Decimal,
    /// PnL after fees: final equity minus starting capital.
    pub pnl_after_fees: Decimal,
    /// Starting capital.
    pub capital: Decimal,
    /// Final equity.
    pub final_equity: Decimal,
    /// Largest drawdown from a peak, as a fraction.
    pub max_drawdown: f64,
    /// Wall time of the whole run, in seconds.
    pub wall_seconds: f64,
    /// Ticks per second of wall time.
    pub ticks_per_second: f64,
    /// Workers in the job.
    pub workers: usize,
    /// `(table, rows, digest)` of the decision tables: a multiset hash of the rows' SHA-256s, the same for every worker layout.
    pub digests: Vec<(String, usize, String)>,
    /// The run's id in the database and what this process's writers committed, when the
    /// run wrote to a database.
    pub database: Option<(uuid::Uuid, WriterStats)>,
    /// Where the run's audit trail ends, so a verifier can tell that none of it was cut.
    pub audit: AuditSummary,
    /// The safety controller's mode at the end of the run.
    pub final_mode: String,
    /// What the orders were and what happened to them.
    pub execution: ExecutionSummary,
}

/// The run's orders by type and what happened to them, counted from its `orders` and
/// `reports` tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecutionSummary {
    /// New orders by kind (`market`, `limit`, `stop`, `take_profit`).
    pub kinds: BTreeMap<String, u64>,
    /// New orders by time in force.
    pub time_in_force: BTreeMap<String, u64>,
    /// New orders marked reduce-only.
    pub reduce_only: u64,
    /// New orders linked one-cancels-other.
    pub oco: u64,
    /// Cancel requests.
    pub cancels: u64,
    /// Reports by status.
    pub statuses: BTreeMap<String, u64>,
    /// Rejections and early ends by reason.
    pub reasons: BTreeMap<String, u64>,
    /// Fills that left part of their order working.
    pub partial_fills: u64,
    /// Maker fills and their fees.
    pub maker: (u64, Decimal),
    /// Taker fills and their fees.
    pub taker: (u64, Decimal),
}

impl ExecutionSummary {
    /// Count the committed `orders` and `reports` tables under `root`.
    pub fn read(root: &Path, registry: &SymbolRegistry) -> Result<Self, PipelineError> {
        let mut s = Self::default();
        for_each_batch::<Order>(root, registry, |orders| {
            for o in orders {
                if o.action == OrderAction::Cancel {
                    s.cancels += 1;
                    continue;
                }
                *s.kinds.entry(o.kind.as_str().to_owned()).or_default() += 1;
                *s.time_in_force
                    .entry(o.tif.as_str().to_owned())
                    .or_default() += 1;
                s.reduce_only += u64::from(o.reduce_only);
                s.oco += u64::from(o.oco != 0);
            }
        })?;
        for_each_batch::<ExecutionReport>(root, registry, |reports| {
            for r in reports {
                *s.statuses.entry(r.status.as_str().to_owned()).or_default() += 1;
                if let Some(reason) = r.reason {
                    *s.reasons.entry(reason.as_str().to_owned()).or_default() += 1;
                }
                if r.fill_qty.is_zero() {
                    continue;
                }
                if r.status == ReportStatus::PartiallyFilled {
                    s.partial_fills += 1;
                }
                let side = match r.liquidity {
                    Some(Liquidity::Maker) => &mut s.maker,
                    _ => &mut s.taker,
                };
                side.0 += 1;
                side.1 += r.fee;
            }
        })?;
        Ok(s)
    }

    fn to_text(&self) -> String {
        let list = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                return "none".to_owned();
            }
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "order types       {} ({}; {} reduce-only, {} one-cancels-other; {} cancels)
reports           {}
refused or ended  {}
execution         {} partial fills; maker {} fills, fees {}; taker {} fills, fees {}
",
            list(&self.kinds),
            list(&self.time_in_force),
            self.reduce_only,
            self.oco,
            self.cancels,
            list(&self.statuses),
            list(&self.reasons),
            self.partial_fills,
            self.maker.0,
            self.maker.1.round_dp(2),
            self.taker.0,
            self.taker.1.round_dp(2),
        )
    }
}

/// The head of a run's audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    /// Entries in the trail.
    pub entries: u64,
    /// The last entry's hash, 64 hex digits (zeros for an empty trail).
    pub head: String,
}

impl Summary {
    /// The summary of a run with these totals.
    pub fn new(
        totals: Totals,
        capital: Decimal,
        wall: Duration,
        workers: usize,
        digests: Vec<(String, usize, String)>,
    ) -> Self {
        let (final_equity, fees) = totals
            .last
            .map(|p| (p.equity, p.fees))
            .unwrap_or((capital, Decimal::ZERO));
        let wall_seconds = wall.as_secs_f64();
        Self {
            ticks: totals.ticks,
            orders: totals.orders,
            fills: totals.fills,
            fees,
            pnl_after_fees: final_equity - capital,
            capital,
            final_equity,
            max_drawdown: totals.max_drawdown,
            wall_seconds,
            ticks_per_second: if wall_seconds > 0.0 {
                totals.ticks as f64 / wall_seconds
            } else {
                0.0
            },
            workers,
            digests,
            database: None,
            audit: AuditSummary::default(),
            final_mode: totals.final_mode.to_owned(),
            execution: ExecutionSummary::default(),
        }
    }

    /// The summary as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The summary as the lines `bot4` prints.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "ticks processed   {}\norders            {}\nfills             {}\nfees              {}\nPnL after fees    {}\nfinal equity      {} (from {})\nmax drawdown      {:.4}%\nwall time         {:.2} s\nthroughput        {:.0} ticks/s on {} worker(s)\n",
            self.ticks,
            self.orders,
            self.fills,
            self.fees.round_dp(2),
            self.pnl_after_fees.round_dp(2),
            self.final_equity.round_dp(2),
            self.capital,
            self.max_drawdown * 100.0,
            self.wall_seconds,
            self.ticks_per_second,
            self.workers,
        );
        s.push_str(&self.execution.to_text());
        for (table, rows, hex) in &self.digests {
            s.push_str(&format!(
                "{table:<17} {rows} rows, digest {}\n",
                &hex[..16.min(hex.len())]
            ));
        }
        s.push_str(&format!(
            "safety            final mode {}; audit trail {} entries, head {}\n",
            self.final_mode,
            self.audit.entries,
            &self.audit.head[..16.min(self.audit.head.len())]
        ));
        if let Some((run_id, w)) = &self.database {
            s.push_str(&format!(
                "database          run {run_id}: {} rows in {} batches ({} retried, {} already there, {} market-data rows shed)\n",
                w.rows, w.batches, w.retries, w.skipped, w.shed_rows
            ));
        }
        s
    }
}
