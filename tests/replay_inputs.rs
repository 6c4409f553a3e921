//! Tick files as other tools write them: a hand-written CSV, Parquet with float prices
//! and millisecond or integer times, and a folder of files split by symbol. Each must
//! replay to exactly the ticks it holds and to the same decisions as Bot4's own schema.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use bot4_schemas::{ArrowRecord, Decimal, Side, SymbolId, SymbolRegistry, Tick, TickKind};
use bot4_tests::{
    digests, market_config, market_ticks, registry_of, replay_options, run_replay, table,
    write_parquet, Digests,
};
use tempfile::TempDir;

const INSTRUMENTS: &str = "symbol,tick_size,lot_size,min_notional\n\
                           ETH-USDT,0.01,0.001,5\n\
                           BTC-USDT,0.1,0.0001,5\n";

/// Trades and quotes of two symbols, sorted by `ts` (ns), with ties within a symbol
/// (a trade then a quote at the same nanosecond) and across symbols, and a trade whose
/// aggressor is unknown (empty `side`, read as a buy).
const TICKS_CSV: &str = "\
ts,symbol,kind,price,size,side,bid_price,bid_size,ask_price,ask_size
1767225600000000000,BTC-USDT,quote,,,,60000.0,0.5,60000.1,0.7
1767225600000000000,ETH-USDT,quote,,,,3000.00,2.5,3000.01,3
1767225600250000001,BTC-USDT,trade,60000.1,0.0125,buy,,,,
1767225600250000001,BTC-USDT,quote,,,,60000.1,0.3,60000.2,1.1
1767225600700000000,ETH-USDT,trade,3000.00,0.75,sell,,,,
1767225601000000000,ETH-USDT,trade,3000.01,0.001,,,,,
1767225601999999999,BTC-USDT,quote,,,,59999.9,0.0001,60000.0,2
";

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("a decimal literal")
}

/// The ticks of [`TICKS_CSV`] as the replay must read them: `seq` is the row in the
/// (only) file.
fn expected_ticks(registry: &SymbolRegistry) -> Vec<Tick> {
    let id = |s: &str| registry.id(s).expect("a registered symbol");
    let quote = |bid, bid_size, ask, ask_size| TickKind::Quote {
        bid: dec(bid),
        bid_size: dec(bid_size),
        ask: dec(ask),
        ask_size: dec(ask_size),
    };
    let trade = |price, size, aggressor| TickKind::Trade {
        price: dec(price),
        size: dec(size),
        aggressor,
    };
    let rows: [(i64, SymbolId, TickKind); 7] = [
        (
            1_767_225_600_000_000_000,
            id("BTC-USDT"),
            quote("60000.0", "0.5", "60000.1", "0.7"),
        ),
        (
            1_767_225_600_000_000_000,
            id("ETH-USDT"),
            quote("3000.00", "2.5", "3000.01", "3"),
        ),
        (
            1_767_225_600_250_000_001,
            id("BTC-USDT"),
            trade("60000.1", "0.0125", Side::Buy),
        ),
        (
            1_767_225_600_250_000_001,
            id("BTC-USDT"),
            quote("60000.1", "0.3", "60000.2", "1.1"),
        ),
        (
            1_767_225_600_700_000_000,
            id("ETH-USDT"),
            trade("3000.00", "0.75", Side::Sell),
        ),
        (
            1_767_225_601_000_000_000,
            id("ETH-USDT"),
            trade("3000.01", "0.001", Side::Buy),
        ),
        (
            1_767_225_601_999_999_999,
            id("BTC-USDT"),
            quote("59999.9", "0.0001", "60000.0", "2"),
        ),
    ];
    rows.into_iter()
        .enumerate()
        .map(|(row, (ts, symbol, kind))| Tick {
            ts,
            seq: row as u64,
            symbol,
            kind,
        })
        .collect()
}

fn sorted(mut ticks: Vec<Tick>) -> Vec<Tick> {
    ticks.sort_by_key(Tick::key);
    ticks
}

#[test]
fn a_hand_written_csv_replays_to_exactly_its_ticks() {
    let dir = TempDir::new().expect("a temporary folder");
    std::fs::write(dir.path().join("instruments.csv"), INSTRUMENTS).expect("writing instruments");
    let input = dir.path().join("ticks.csv");
    std::fs::write(&input, TICKS_CSV).expect("writing the ticks");
    let registry = registry_of(&input);
    // BTC sorts first, whatever the order of the registry file.
    assert_eq!(registry.id("BTC-USDT"), Some(SymbolId(0)));
    let expected = expected_ticks(&registry);
    for workers in [1, 2] {
        let out = dir.path().join(format!("out-w{workers}"));
        let summary = run_replay(&replay_options(&input, &out, workers));
        assert_eq!(summary.ticks, expected.len() as u64, "{workers} workers");
        let got = sorted(table::<Tick>(&out, &registry));
        assert_eq!(got, expected, "ticks/ of a {workers}-worker replay");
    }
}

/// A small market whose ticks are all on whole milliseconds, so that every writer below
/// can store the same times.
fn millisecond_market() -> (SymbolRegistry, Vec<Tick>) {
    let (registry, mut ticks) = market_ticks(market_config(6, 2 * 3_600, 1, 4.0));
    for tick in &mut ticks {
        tick.ts -= tick.ts.rem_euclid(1_000_000);
    }
    (registry, ticks)
}

fn write_instruments(dir: &Path, registry: &SymbolRegistry) {
    std::fs::create_dir_all(dir).expect("creating an input folder");
    std::fs::write(dir.join("instruments.csv"), registry.to_csv()).expect("writing instruments");
}

/// `ticks` in Bot4's own schema (decimal columns, ns timestamps) as the file `path`, in
/// row groups of `row_group_rows`.
fn write_decimal(path: &Path, registry: &SymbolRegistry, ticks: &[Tick], row_group_rows: usize) {
    let batch = Tick::to_batch(ticks, registry).expect("ticks as a batch");
    write_parquet(path, &batch, row_group_rows);
}

/// `ticks` as a tool without decimals writes them: `Float64` prices and sizes, no `seq`,
/// and `ts` as `Int64` nanoseconds or a `Timestamp(ms)`.
fn write_float(path: &Path, registry: &SymbolRegistry, ticks: &[Tick], millis: bool) {
    // Through the decimal's text, so the float is the one nearest to it.
    let f = |d: Decimal| {
        d.to_string()
            .parse::<f64>()
            .expect("a decimal's text is a float")
    };
    let column = |pick: &dyn Fn(&TickKind) -> Option<Decimal>| -> ArrayRef {
        Arc::new(
            ticks
                .iter()
                .map(|t| pick(&t.kind).map(f))
                .collect::<Float64Array>(),
        )
    };
    let ts: ArrayRef = if millis {
        Arc::new(TimestampMillisecondArray::from(
            ticks.iter().map(|t| t.ts / 1_000_000).collect::<Vec<_>>(),
        ))
    } else {
        Arc::new(Int64Array::from(
            ticks.iter().map(|t| t.ts).collect::<Vec<_>>(),
        ))
    };
    // Trades and depth levels share `price`, `size` and `side`.
    let trade = |k: &TickKind| match *k {
        TickKind::Trade {
            price,
            size,
            aggressor,
        } => Some((price, size, aggressor)),
        TickKind::Depth { side, price, size } => Some((price, size, side)),
        TickKind::Quote { .. } => None,
    };
    let quote = |k: &TickKind| match *k {
        TickKind::Quote {
            bid,
            bid_size,
            ask,
            ask_size,
        } => Some([bid, bid_size, ask, ask_size]),
        TickKind::Trade { .. } | TickKind::Depth { .. } => None,
    };
    let batch = RecordBatch::try_from_iter([
        ("ts", ts),
        (
            "symbol",
            Arc::new(StringArray::from_iter_values(
                ticks.iter().map(|t| registry.name(t.symbol)),
            )) as ArrayRef,
        ),
        (
            "kind",
            Arc::new(StringArray::from_iter_values(
                ticks.iter().map(|t| t.kind.as_str()),
            )) as ArrayRef,
        ),
        ("price", column(&|k| trade(k).map(|x| x.0))),
        ("size", column(&|k| trade(k).map(|x| x.1))),
        (
            "side",
            Arc::new(
                ticks
                    .iter()
                    .map(|t| trade(&t.kind).map(|x| x.2.as_str()))
                    .collect::<StringArray>(),
            ) as ArrayRef,
        ),
        ("bid_price", column(&|k| quote(k).map(|q| q[0]))),
        ("bid_size", column(&|k| quote(k).map(|q| q[1]))),
        ("ask_price", column(&|k| quote(k).map(|q| q[2]))),
        ("ask_size", column(&|k| quote(k).map(|q| q[3]))),
    ])
    .expect("a float tick batch");
    write_parquet(path, &batch, 50_000);
}

fn replay_digests(input: &Path, out: &Path, workers: usize) -> Digests {
    run_replay(&replay_options(input, out, workers));
    digests(out, &registry_of(input))
}

#[test]
fn float_prices_and_other_time_types_give_the_same_orders() {
    let dir = TempDir::new().expect("a temporary folder");
    let (registry, ticks) = millisecond_market();
    write_instruments(dir.path(), &registry);
    let decimal = dir.path().join("decimal.parquet");
    write_decimal(&decimal, &registry, &ticks, 50_000);
    let reference = replay_digests(&decimal, &dir.path().join("out-decimal"), 1);
    assert_eq!(reference.ticks, ticks.len());
    assert!(
        reference.rows("orders") > 0 && reference.rows("fills") > 0,
        "the market must make the strategy trade: {reference:?}"
    );
    for (name, millis) in [("float-int64-ns", false), ("float-timestamp-ms", true)] {
        let input = dir.path().join(format!("{name}.parquet"));
        write_float(&input, &registry, &ticks, millis);
        let out = dir.path().join(format!("out-{name}"));
        let got = replay_digests(&input, &out, 1);
        assert_eq!(got, reference, "{name} against the decimal file");
        let read: Vec<Tick> = sorted(table(&out, &registry));
        let want: Vec<Tick> = sorted(table(&dir.path().join("out-decimal"), &registry));
        assert!(
            read == want,
            "{name}: the ticks read differ from the decimal file's"
        );
    }
}

#[test]
fn a_folder_split_by_symbol_replays_like_one_file_on_any_layout() {
    let dir = TempDir::new().expect("a temporary folder");
    let (registry, ticks) = millisecond_market();
    write_instruments(dir.path(), &registry);
    let whole = dir.path().join("whole.parquet");
    write_decimal(&whole, &registry, &ticks, 50_000);
    let reference = replay_digests(&whole, &dir.path().join("out-whole"), 1);
    assert!(
        reference.rows("orders") > 0,
        "the market must trade: {reference:?}"
    );

    // Even symbols in one file, odd in the other: both span the whole time range, in
    // row groups of 4096 rows, so each worker reads pieces of both. The files sit in
    // `split/ticks/` with the registry at `split/instruments.csv`: a registry inside a
    // bare folder of tick files is itself taken for a tick file.
    let folder = dir.path().join("split");
    write_instruments(&folder, &registry);
    let files = folder.join("ticks");
    std::fs::create_dir_all(&files).expect("creating the tick folder");
    let (even, odd): (Vec<Tick>, Vec<Tick>) = ticks.iter().partition(|t| t.symbol.0 % 2 == 0);
    assert!(!even.is_empty() && !odd.is_empty());
    assert!(
        even[0].ts < odd[odd.len() - 1].ts && odd[0].ts < even[even.len() - 1].ts,
        "the two files overlap in time"
    );
    write_decimal(&files.join("even.parquet"), &registry, &even, 4_096);
    write_decimal(&files.join("odd.parquet"), &registry, &odd, 4_096);
    for workers in [1, 3] {
        let got = replay_digests(
            &folder,
            &dir.path().join(format!("out-split-w{workers}")),
            workers,
        );
        assert_eq!(
            got, reference,
            "split folder on {workers} workers against one file"
        );
    }
}
