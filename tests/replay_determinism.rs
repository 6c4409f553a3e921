//! One market replayed with every worker layout — 1, 2 and 4 threads, twice with one,
//! and 2 processes × 2 threads over loopback through the real `bot4` command — must
//! produce the same orders, reports, fills, positions and equity, row for row.

use std::path::Path;
use std::time::Duration;

use bot4_schemas::{Order, OrderAction};
use bot4_tests::{
    digests, free_ports, generate_market, market_config, registry_of, replay_options, run_replay,
    spawn_bot4, table, Digests, Finished, TEST_BAR,
};
use tempfile::TempDir;

/// Six symbols for two hours at four steps a second: about 165 000 ticks, and seed 1
/// makes the default strategy trade (checked below).
const SYMBOLS: usize = 6;
const SECONDS: i64 = 2 * 3_600;
const SEED: u64 = 1;
const RATE: f64 = 4.0;

/// Generous: the cluster run takes about a second in release.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(120);

fn in_process(input: &Path, out: &Path, workers: usize) -> Digests {
    let summary = run_replay(&replay_options(input, out, workers));
    let d = digests(out, &registry_of(input));
    assert_eq!(
        summary.workers, workers,
        "summary of a {workers}-worker run"
    );
    assert_eq!(
        summary.ticks as usize, d.ticks,
        "summary.ticks against rows of ticks/ ({workers} workers)"
    );
    let orders = table::<Order>(out, &registry_of(input));
    let new_orders = orders
        .iter()
        .filter(|o| o.action == OrderAction::New)
        .count();
    // Every report is of an order in the table, the ones the pre-trade checks refused
    // included.
    let known: std::collections::BTreeSet<u64> = orders.iter().map(|o| o.client_id).collect();
    let reports = table::<bot4_schemas::ExecutionReport>(out, &registry_of(input));
    let orphans: Vec<_> = reports
        .iter()
        .filter(|r| !known.contains(&r.client_id))
        .collect();
    assert!(orphans.is_empty(), "reports of no order: {orphans:?}");
    assert_eq!(
        summary.orders as usize, new_orders,
        "summary.orders against the new orders of orders/ ({workers} workers)"
    );
    assert_eq!(
        summary.fills as usize,
        d.rows("fills"),
        "summary.fills ({workers} workers)"
    );
    for (table, rows, sha) in &summary.digests {
        assert_eq!(
            (*rows, sha.as_str()),
            (d.rows(table), d.sha(table)),
            "summary digest of {table} against the table ({workers} workers)"
        );
    }
    d
}

/// Replay as two `bot4` processes of two workers each, talking over loopback.
fn cluster(input: &Path, out: &Path, scratch: &Path) -> Digests {
    let ports = free_ports(2);
    let hostfile = scratch.join("hosts.txt");
    let hosts: String = ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
    std::fs::write(&hostfile, hosts).expect("writing the hostfile");
    let running: Vec<_> = (0..2)
        .map(|process| {
            let args = [
                "replay".to_owned(),
                "--input".to_owned(),
                input.display().to_string(),
                "--out".to_owned(),
                out.display().to_string(),
                "--workers".to_owned(),
                "2".to_owned(),
                "--processes".to_owned(),
                "2".to_owned(),
                "--process".to_owned(),
                process.to_string(),
                "--hostfile".to_owned(),
                hostfile.display().to_string(),
                "--bar".to_owned(),
                TEST_BAR.to_owned(),
                "--quiet".to_owned(),
            ];
            spawn_bot4(&args)
        })
        .collect();
    // Both are waited for (and killed past the deadline) before anything is asserted, so
    // no process outlives the test.
    let finished: Vec<(Finished, bool)> = running
        .into_iter()
        .map(|r| r.wait(CLUSTER_TIMEOUT))
        .collect();
    let report = || {
        finished
            .iter()
            .enumerate()
            .map(|(i, (f, killed))| {
                format!("=== process {i} (killed: {killed}) ===\n{}", f.describe())
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (i, (f, killed)) in finished.iter().enumerate() {
        assert!(
            !killed && f.status.success(),
            "process {i} of the 2×2 cluster failed or timed out\n{}",
            report()
        );
    }
    assert!(
        finished[0].0.stdout.contains("ticks processed"),
        "process 0 prints the summary\n{}",
        report()
    );
    let summary = std::fs::read_to_string(out.join("summary.json"))
        .unwrap_or_else(|e| panic!("process 0 writes summary.json: {e}\n{}", report()));
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("summary.json is JSON");
    let d = digests(out, &registry_of(input));
    // Process 0 summarises only after every worker of both processes has committed, so
    // its digests cover the whole tables.
    for entry in summary["digests"]
        .as_array()
        .expect("digests in summary.json")
    {
        let (table, rows, digest) = (&entry[0], &entry[1], &entry[2]);
        let table = table.as_str().expect("table name");
        assert_eq!(
            rows,
            &serde_json::json!(d.rows(table)),
            "summary.json rows of {table}"
        );
        assert_eq!(
            digest,
            &serde_json::json!(d.digest(table)),
            "summary.json digest of {table}"
        );
    }
    assert_eq!(summary["workers"], 4, "summary.json of the cluster run");
    assert_eq!(
        summary["ticks"], d.ticks,
        "summary.json ticks of the cluster run"
    );
    assert_eq!(
        summary["fills"],
        d.rows("fills"),
        "summary.json fills of the cluster run"
    );
    d
}

#[test]
fn every_layout_gives_the_same_decisions() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    generate_market(market_config(SYMBOLS, SECONDS, SEED, RATE), &input);

    let reference = in_process(&input, &dir.path().join("w1"), 1);
    assert!(
        reference.rows("orders") > 0 && reference.rows("fills") > 0,
        "seed {SEED} must make the strategy trade, or this test compares empty tables: {reference:?}"
    );
    assert!(reference.rows("reports") > 0 && reference.rows("positions") > 0);
    assert!(reference.rows("equity") > 0 && reference.ticks > 0);

    let runs = [
        (
            "1 worker, second run",
            in_process(&input, &dir.path().join("w1b"), 1),
        ),
        ("2 workers", in_process(&input, &dir.path().join("w2"), 2)),
        ("4 workers", in_process(&input, &dir.path().join("w4"), 4)),
        (
            "2 processes × 2 workers",
            cluster(&input, &dir.path().join("p2w2"), dir.path()),
        ),
    ];
    for (layout, got) in runs {
        assert_eq!(got, reference, "{layout} against 1 worker");
    }
}

#[test]
fn a_replay_over_an_earlier_output_replaces_it() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    generate_market(market_config(4, 3_600, SEED, 2.0), &input);
    let out = dir.path().join("out");
    let first = in_process(&input, &out, 2);
    // Fewer workers write fewer part files: none of the first run's may survive.
    let second = in_process(&input, &out, 1);
    assert_eq!(second, first);
    for table in ["ticks", "orders", "equity"] {
        let parts = std::fs::read_dir(out.join(table))
            .expect("the table folder")
            .count();
        assert_eq!(parts, 1, "{table}/ holds only the 1-worker run's part file");
    }
}

/// The venue's fee tier counts the whole account's 30-day volume: each symbol's own, and
/// the other symbols' as of the end of the previous epoch (which live on other
/// workers). So a fill's rate lies between the tier of its own symbol's volume before it
/// and that of all the account's volume before it; some fills get a better tier than
/// their own symbol's volume reaches; and the fees are the same on every layout.
#[test]
fn the_fee_tier_counts_the_whole_accounts_volume() {
    use bot4_operators::venue::FeeTier;
    use bot4_schemas::{Decimal, Fill, Liquidity, SymbolId};
    use std::collections::BTreeMap;

    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    generate_market(market_config(SYMBOLS, SECONDS, SEED, RATE), &input);
    let registry = registry_of(&input);
    let bp = |x: i64| Decimal::new(x, 5);
    let tiers: Vec<FeeTier> = [
        (0, 20, 50),
        (50_000, 15, 40),
        (200_000, 10, 30),
        (1_000_000, 5, 20),
    ]
    .into_iter()
    .map(|(min, maker, taker)| FeeTier {
        min_volume: Decimal::from(min),
        maker: bp(maker),
        taker: bp(taker),
    })
    .collect();
    let run = |name: &str, workers: usize| {
        let out = dir.path().join(name);
        let mut opts = replay_options(&input, &out, workers);
        opts.strategy.venue.fee_tiers = tiers.clone();
        run_replay(&opts);
        out
    };
    let out = run("w1", 1);
    let mut fills: Vec<Fill> = table(&out, &registry);
    fills.sort_by_key(|f| (f.ts, f.client_id, f.event));
    assert!(
        fills.len() > 20,
        "the strategy must trade: {} fills",
        fills.len()
    );
    // The tier index a volume reaches.
    let tier_of = |volume: Decimal| {
        tiers
            .iter()
            .rposition(|t| t.min_volume <= volume)
            .unwrap_or(0)
    };
    let rate_tier = |f: &Fill| {
        let rate = f.fee / (f.price * f.qty);
        let of = |t: &FeeTier| match f.liquidity {
            Liquidity::Maker => t.maker,
            Liquidity::Taker => t.taker,
        };
        // Fees are rounded to 8 places: the nearest tier rate.
        (0..tiers.len())
            .min_by_key(|&i| (of(&tiers[i]) - rate).abs())
            .expect("tiers")
    };
    let mut own: BTreeMap<SymbolId, Decimal> = BTreeMap::new();
    let mut account = Decimal::ZERO;
    let mut helped = 0;
    for f in &fills {
        let mine = own.get(&f.symbol).copied().unwrap_or(Decimal::ZERO);
        let tier = rate_tier(f);
        assert!(
            tier_of(mine) <= tier && tier <= tier_of(account),
            "fill {f:?}: tier {tier}, own volume {mine}, account volume {account}"
        );
        helped += usize::from(tier > tier_of(mine));
        let volume = f.price * f.qty;
        *own.entry(f.symbol).or_insert(Decimal::ZERO) += volume;
        account += volume;
    }
    assert!(
        helped > 0,
        "some fill must get a better tier from the other symbols' volume (account {account}, own {own:?})"
    );
    let out2 = run("w2", 2);
    assert_eq!(digests(&out2, &registry), digests(&out, &registry));
}
