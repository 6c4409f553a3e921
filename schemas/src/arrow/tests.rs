//! Every record survives a trip through a `RecordBatch` unchanged, and malformed batches
//! are errors that name the column and row.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::*;

fn registry() -> SymbolRegistry {
    SymbolRegistry::new(
        ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
            .iter()
            .map(|s| Instrument {
                symbol: (*s).into(),
                tick_size: Decimal::new(1, 2),
                lot_size: Decimal::new(1, 3),
                min_notional: Decimal::from(5),
            })
            .collect(),
    )
    .unwrap()
}

fn dec() -> impl Strategy<Value = Decimal> {
    (-(10i64.pow(15))..10i64.pow(15), 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
}

/// Values whose products (as in unrealised PnL) stay within `Decimal`'s 28 digits.
fn small_dec() -> impl Strategy<Value = Decimal> {
    (-(10i64.pow(10))..10i64.pow(10), 0u32..=8).prop_map(|(m, s)| Decimal::new(m, s))
}

fn pos_dec() -> impl Strategy<Value = Decimal> {
    (1i64..10i64.pow(15), 4u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
}

fn symbol() -> impl Strategy<Value = SymbolId> {
    (0u32..3).prop_map(SymbolId)
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn tick() -> impl Strategy<Value = Tick> {
    let trade =
        (pos_dec(), pos_dec(), side()).prop_map(|(price, size, aggressor)| TickKind::Trade {
            price,
            size,
            aggressor,
        });
    let quote =
        (pos_dec(), pos_dec(), pos_dec(), pos_dec()).prop_map(|(a, bid_size, b, ask_size)| {
            TickKind::Quote {
                bid: a.min(b),
                bid_size,
                ask: a.max(b),
                ask_size,
            }
        });
    let depth = (
        side(),
        pos_dec(),
        prop_oneof![Just(Decimal::ZERO), pos_dec()],
    )
        .prop_map(|(side, price, size)| TickKind::Depth { side, price, size });
    (
        any::<i64>(),
        any::<u64>(),
        symbol(),
        prop_oneof![trade, quote, depth],
    )
        .prop_map(|(ts, seq, symbol, kind)| Tick {
            ts,
            seq,
            symbol,
            kind,
        })
}

fn report() -> impl Strategy<Value = ExecutionReport> {
    let status = prop_oneof![
        Just(ReportStatus::Submitted),
        Just(ReportStatus::Accepted),
        Just(ReportStatus::Triggered),
        Just(ReportStatus::PartiallyFilled),
        Just(ReportStatus::Filled),
        Just(ReportStatus::Cancelled),
        Just(ReportStatus::Expired),
        Just(ReportStatus::Rejected),
    ];
    let liquidity = prop_oneof![
        Just(None),
        Just(Some(Liquidity::Maker)),
        Just(Some(Liquidity::Taker))
    ];
    (
        (any::<i64>(), any::<u64>(), symbol(), side(), status),
        (dec(), dec(), dec(), liquidity, dec(), any::<u32>()),
        (
            proptest::option::of(proptest::sample::select(ReportReason::ALL.to_vec())),
            any::<i64>(),
        ),
    )
        .prop_map(
            |(
                (ts, client_id, symbol, side, status),
                (q, p, fee, liquidity, leaves, event),
                (reason, received_ts),
            )| {
                ExecutionReport {
                    ts,
                    client_id,
                    symbol,
                    side,
                    status,
                    fill_qty: q,
                    fill_price: p,
                    fee,
                    liquidity,
                    leaves_qty: leaves,
                    event,
                    reason,
                    received_ts,
                }
            },
        )
}

fn order() -> impl Strategy<Value = Order> {
    let action = prop_oneof![Just(OrderAction::New), Just(OrderAction::Cancel)];
    (
        (any::<i64>(), any::<u64>(), symbol(), action, side()),
        (
            proptest::sample::select(OrderKind::ALL.to_vec()),
            dec(),
            dec(),
            any::<i64>(),
            any::<bool>(),
        ),
        (
            proptest::sample::select(TimeInForce::ALL.to_vec()),
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (ts, client_id, symbol, action, side),
                (kind, price, qty, expire_ts, reduces),
                (tif, reduce_only, oco),
            )| {
                Order {
                    ts,
                    client_id,
                    symbol,
                    action,
                    side,
                    kind,
                    price: if kind == OrderKind::Limit {
                        price
                    } else {
                        Decimal::ZERO
                    },
                    trigger: if kind.is_triggered() {
                        price
                    } else {
                        Decimal::ZERO
                    },
                    qty,
                    tif,
                    expire_ts,
                    reduces_exposure: reduces,
                    reduce_only,
                    oco,
                }
            },
        )
}

fn round_trip<T: ArrowRecord + PartialEq + std::fmt::Debug>(
    rows: &[T],
) -> Result<(), TestCaseError> {
    let reg = registry();
    let batch = T::to_batch(rows, &reg).unwrap();
    prop_assert_eq!(batch.schema(), T::schema());
    prop_assert_eq!(&T::from_batch(&batch, &reg).unwrap(), rows);
    Ok(())
}

proptest! {
    #[test]
    fn ticks_round_trip(rows in proptest::collection::vec(tick(), 0..40)) {
        round_trip(&rows)?;
    }

    #[test]
    fn orders_round_trip(rows in proptest::collection::vec(order(), 0..40)) {
        round_trip(&rows)?;
    }

    #[test]
    fn reports_and_fills_round_trip(rows in proptest::collection::vec(report(), 0..40)) {
        round_trip(&rows)?;
        let fills: Vec<Fill> = rows.iter().filter_map(ExecutionReport::fill).collect();
        round_trip(&fills)?;
    }

    #[test]
    fn positions_equity_signals_round_trip(
        rows in proptest::collection::vec((any::<i64>(), symbol(), small_dec(), small_dec(), small_dec(), small_dec(), -1i8..=1, 0.0f64..1.0), 0..30)
    ) {
        let positions: Vec<Position> = rows.iter().map(|&(ts, symbol, a, b, c, d, _, _)| Position {
            ts, symbol, qty: a, avg_price: b, mark: c, cash: d, realized_pnl: a, fees: b, fills: 3,
        }).collect();
        // Position stores its unrealised PnL too, which from_batch does not need.
        let reg = registry();
        let batch = Position::to_batch(&positions, &reg).unwrap();
        prop_assert_eq!(Position::from_batch(&batch, &reg).unwrap(), positions);
        let equity: Vec<EquityPoint> = rows.iter().map(|&(ts, _, a, b, c, d, _, x)| EquityPoint {
            ts, equity: a, realized_pnl: b, unrealized_pnl: c, fees: d, gross_exposure: a, peak: b, drawdown: x,
        }).collect();
        round_trip(&equity)?;
        let risk: Vec<RiskPoint> = rows.iter().enumerate().map(|(i, &(ts, symbol, a, b, _, _, _, x))| RiskPoint {
            ts, symbol: (i % 3 != 0).then_some(symbol), exposure: a, risk_at_stop: b,
            sigma: x, dof: if i % 2 == 0 { f64::INFINITY } else { 4.0 + x }, var_99: 2.3 * x, cvar_99: 2.7 * x,
        }).collect();
        round_trip(&risk)?;
        let signals: Vec<Signal> = rows.iter().map(|&(ts, symbol, a, b, _, _, d, x)| Signal {
            ts, seq: 1, symbol, direction: d, strength: x, confidence: -x, volatility: x, bid: a, ask: b, edge: -x,
        }).collect();
        round_trip(&signals)?;
        let forecasts: Vec<Forecast> = rows.iter().map(|&(ts, symbol, a, b, _, _, _, x)| Forecast {
            ts, seq: 2, symbol, expected_return: x, variance: x * x, bar_variance: x.abs(),
            vol_ratio: 1.0 + x, tail_dof: 4.0 + x.abs(), scores: [x, -x, 2.0 * x, 0.5],
            features: FeatureVector {
                ts, seq: 2, symbol, bid: a, ask: b, mid: x, ema_fast: x, ema_slow: -x,
                log_return: x, volatility: x, spread: x, count: 4, microprice: x,
                imbalance: -x, trade_imbalance: 0.25, bar: None,
            },
        }).collect();
        round_trip(&forecasts)?;
        let features: Vec<FeatureVector> = forecasts.iter().map(|f| f.features).collect();
        round_trip(&features)?;
        let intents: Vec<OrderIntent> = rows.iter().map(|&(ts, symbol, a, b, c, d, dir, _)| OrderIntent {
            ts, seq: 5, symbol, target: a, max_position: b, bid: c, ask: d,
            urgency: if dir > 0 { Urgency::Aggressive } else { Urgency::Passive },
            stop_distance: c, take_profit_distance: d, max_hold_ns: ts,
        }).collect();
        round_trip(&intents)?;
        let control: Vec<ControlEvent> = rows.iter().enumerate().map(|(i, &(ts, _, _, _, _, _, dir, _))| ControlEvent {
            ts, seq: i as u64,
            command: [ControlCommand::Normal, ControlCommand::Pause, ControlCommand::Reduce, ControlCommand::Emergency, ControlCommand::Reset][(dir + 1) as usize + i % 3],
            source: bot4_schemas_source(i),
            reason: format!("reason {i}"),
            parameter: (i % 4 == 3).then(|| crate::Parameter { name: "orders.reduce_to".into(), value: format!("0.{i}") }),
        }).collect();
        round_trip(&control)?;
        let bars: Vec<Bar> = rows.iter().map(|&(ts, symbol, a, b, c, d, _, _)| Bar {
            start: ts, end: ts, symbol, open: a, high: b, low: c, close: d, volume: a, trades: 9,
        }).collect();
        round_trip(&bars)?;
        let bar_features: Vec<BarFeatures> = bars.iter().enumerate().map(|(i, &bar)| BarFeatures {
            bar, log_return: i as f64 * 0.5, volatility: 0.01, count: i as u64, warm: i % 2 == 0,
            inputs: std::array::from_fn(|k| k as f64 - i as f64),
        }).collect();
        round_trip(&bar_features)?;
    }
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

#[test]
fn foreign_tick_files_are_read_with_their_own_types() {
    // Float prices and integer nanoseconds, no `kind` column: the rows with a price are
    // trades.
    let b = batch(vec![
        ("ts", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        (
            "symbol",
            Arc::new(StringArray::from(vec!["ETH-USDT", "ETH-USDT"])),
        ),
        (
            "price",
            Arc::new(Float64Array::from(vec![Some(3000.1), None])),
        ),
        ("size", Arc::new(Float64Array::from(vec![Some(0.5), None]))),
        (
            "bid_price",
            Arc::new(Float64Array::from(vec![None, Some(2999.9)])),
        ),
        (
            "bid_size",
            Arc::new(Float64Array::from(vec![None, Some(1.0)])),
        ),
        (
            "ask_price",
            Arc::new(Float64Array::from(vec![None, Some(3000.2)])),
        ),
        (
            "ask_size",
            Arc::new(Float64Array::from(vec![None, Some(2.0)])),
        ),
    ]);
    let ticks = Tick::from_batch(&b, &registry()).unwrap();
    assert_eq!(
        ticks[0].kind,
        TickKind::Trade {
            price: "3000.1".parse().unwrap(),
            size: "0.5".parse().unwrap(),
            aggressor: Side::Buy
        }
    );
    assert!(
        matches!(ticks[1].kind, TickKind::Quote { bid, .. } if bid == "2999.9".parse::<Decimal>().unwrap())
    );
}

#[test]
fn malformed_tick_batches_name_column_and_row() {
    let reg = registry();
    let unknown = batch(vec![
        ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("symbol", Arc::new(StringArray::from(vec!["DOGE-USDT"]))),
        ("price", Arc::new(StringArray::from(vec!["1"]))),
        ("size", Arc::new(StringArray::from(vec!["1"]))),
    ]);
    let e = Tick::from_batch(&unknown, &reg).unwrap_err().to_string();
    assert!(e.contains("DOGE-USDT") && e.contains("row 0"), "{e}");
    let crossed = batch(vec![
        ("ts", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        (
            "symbol",
            Arc::new(StringArray::from(vec!["BTC-USDT", "BTC-USDT"])),
        ),
        ("bid_price", Arc::new(StringArray::from(vec!["10", "11"]))),
        ("bid_size", Arc::new(StringArray::from(vec!["1", "1"]))),
        ("ask_price", Arc::new(StringArray::from(vec!["11", "10"]))),
        ("ask_size", Arc::new(StringArray::from(vec!["1", "1"]))),
    ]);
    let e = Tick::from_batch(&crossed, &reg).unwrap_err().to_string();
    assert!(e.contains("ask_price") && e.contains("row 1"), "{e}");
    let text = batch(vec![
        ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("symbol", Arc::new(StringArray::from(vec!["BTC-USDT"]))),
        ("price", Arc::new(StringArray::from(vec!["abc"]))),
        ("size", Arc::new(StringArray::from(vec!["1"]))),
    ]);
    let e = Tick::from_batch(&text, &reg).unwrap_err().to_string();
    assert!(e.contains("price") && e.contains("abc"), "{e}");
    let no_ts = batch(vec![(
        "symbol",
        Arc::new(StringArray::from(vec!["BTC-USDT"])) as ArrayRef,
    )]);
    let e = Tick::from_batch(&no_ts, &reg).unwrap_err().to_string();
    assert!(e.contains("missing column `ts`"), "{e}");
    // A depth row needs its book side, and a size that is zero or positive.
    let depth = |side: Option<&str>, size: &str| {
        batch(vec![
            ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("symbol", Arc::new(StringArray::from(vec!["BTC-USDT"]))),
            ("kind", Arc::new(StringArray::from(vec!["depth"]))),
            ("price", Arc::new(StringArray::from(vec!["10"]))),
            ("size", Arc::new(StringArray::from(vec![size]))),
            ("side", Arc::new(StringArray::from(vec![side]))),
        ])
    };
    let e = Tick::from_batch(&depth(None, "1"), &reg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("side") && e.contains("row 0"), "{e}");
    let e = Tick::from_batch(&depth(Some("up"), "1"), &reg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("side") && e.contains("up"), "{e}");
    let e = Tick::from_batch(&depth(Some("buy"), "-1"), &reg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("size") && e.contains("-1"), "{e}");
    let gone = Tick::from_batch(&depth(Some("sell"), "0"), &reg).unwrap();
    assert_eq!(
        gone[0].kind,
        TickKind::Depth {
            side: Side::Sell,
            price: Decimal::TEN,
            size: Decimal::ZERO
        }
    );
    let unknown = batch(vec![
        ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("symbol", Arc::new(StringArray::from(vec!["BTC-USDT"]))),
        ("kind", Arc::new(StringArray::from(vec!["level"]))),
    ]);
    let e = Tick::from_batch(&unknown, &reg).unwrap_err().to_string();
    assert!(e.contains("kind") && e.contains("level"), "{e}");
}

fn bot4_schemas_source(i: usize) -> crate::ControlSource {
    crate::ControlSource::ALL[i % crate::ControlSource::ALL.len()]
}

fn audit_entry() -> impl Strategy<Value = AuditEntry> {
    (
        1u64..u64::MAX,
        any::<i64>(),
        0usize..AuditKind::ALL.len(),
        any::<String>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(seq, ts, kind, payload, prev_hash, hash)| AuditEntry {
            seq,
            ts,
            kind: AuditKind::ALL[kind],
            payload,
            prev_hash,
            hash,
        })
}

proptest! {
    #[test]
    fn audit_entries_round_trip(rows in proptest::collection::vec(audit_entry(), 0..30)) {
        round_trip(&rows)?;
    }
}

#[test]
fn audit_hashes_are_lowercase_hex_and_malformed_ones_name_the_row() {
    let entry = AuditEntry {
        seq: 1,
        ts: 5,
        kind: AuditKind::ParameterChange,
        payload: "{\"name\":\"ä\"}".into(),
        prev_hash: [0; 32],
        hash: [0xAB; 32],
    };
    let b = AuditEntry::to_batch(std::slice::from_ref(&entry), &registry()).unwrap();
    let hash = b.column_by_name("hash").unwrap();
    let hash = hash.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(hash.value(0), "ab".repeat(32));

    let columns = |hash: &str, kind: &str| {
        batch(vec![
            ("ts", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            ("seq", Arc::new(Int64Array::from(vec![1, 2]))),
            ("kind", Arc::new(StringArray::from(vec!["control", kind]))),
            ("payload", Arc::new(StringArray::from(vec!["{}", "{}"]))),
            (
                "prev_hash",
                Arc::new(StringArray::from(vec!["00".repeat(32), "00".repeat(32)])),
            ),
            (
                "hash",
                Arc::new(StringArray::from(vec!["00".repeat(32), hash.to_owned()])),
            ),
        ])
    };
    let ok = AuditEntry::from_batch(&columns(&"CD".repeat(32), "mode_change"), &registry());
    assert_eq!(ok.unwrap()[1].hash, [0xcd; 32]);
    let e = AuditEntry::from_batch(&columns(&"0".repeat(63), "control"), &registry())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`hash`") && e.contains("row 1"), "{e}");
    let e = AuditEntry::from_batch(&columns(&"00".repeat(32), "edit"), &registry())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`kind`") && e.contains("row 1") && e.contains("edit"),
        "{e}"
    );
}
