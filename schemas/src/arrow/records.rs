//! The Arrow form of every record type.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use rust_decimal::Decimal;

use super::{
    decimal_field, f64_field, schema, text_field, ts_field, u64_field, ArrowRecord, Reader, Writer,
};
use crate::{
    Bar, BarFeatures, ControlCommand, ControlEvent, ControlSource, EquityPoint, ExecutionReport,
    FeatureVector, Fill, Forecast, Liquidity, Order, OrderAction, OrderIntent, OrderKind, Position,
    ReportReason, ReportStatus, RiskPoint, SchemaError, Side, Signal, SymbolRegistry, Tick,
    TickKind, TimeInForce, Urgency, BAR_INPUTS, BAR_INPUT_NAMES, FORECAST_SCORES,
    FORECAST_SCORE_NAMES,
};
use arrow_schema::{DataType, Field};

fn liquidity_str(l: Liquidity) -> &'static str {
    match l {
        Liquidity::Maker => "maker",
        Liquidity::Taker => "taker",
    }
}

fn parse_liquidity(t: &str) -> Option<Liquidity> {
    match t {
        "maker" => Some(Liquidity::Maker),
        "taker" => Some(Liquidity::Taker),
        _ => None,
    }
}

fn urgency_str(u: Urgency) -> &'static str {
    match u {
        Urgency::Passive => "passive",
        Urgency::Aggressive => "aggressive",
    }
}

fn parse_urgency(t: &str) -> Option<Urgency> {
    match t {
        "passive" => Some(Urgency::Passive),
        "aggressive" => Some(Urgency::Aggressive),
        _ => None,
    }
}

/// What a row of a tick batch is, by its `kind` (or, without one, by its `price`).
#[derive(Debug, Clone, Copy)]
enum RowKind {
    Trade,
    Quote,
    Depth,
}

impl ArrowRecord for Tick {
    const NAME: &'static str = "ticks";

    /// `ts`, `symbol`, `kind` (`trade`, `quote` or `depth`), then `price`, `size`, `side`
    /// for trades (`side` the aggressor) and depth updates (`side` the book side: `buy`
    /// for a bid level; `size` zero when the level is gone), and `bid_price`, `bid_size`,
    /// `ask_price`, `ask_size` for quotes (null where they do not apply), and `seq`, the
    /// tick's place in the run's input.
    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            text_field("symbol", false),
            text_field("kind", false),
            decimal_field("price", true),
            decimal_field("size", true),
            text_field("side", true),
            decimal_field("bid_price", true),
            decimal_field("bid_size", true),
            decimal_field("ask_price", true),
            decimal_field("ask_size", true),
            u64_field("seq"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        // Trades and depth updates share `price`, `size` and `side` (the aggressor for a
        // trade, the book side for a level).
        let level = |t: &Tick| match t.kind {
            TickKind::Trade {
                price,
                size,
                aggressor,
            } => Some((price, size, aggressor)),
            TickKind::Depth { side, price, size } => Some((price, size, side)),
            TickKind::Quote { .. } => None,
        };
        let quote = |t: &Tick| match t.kind {
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            } => Some((bid, bid_size, ask, ask_size)),
            TickKind::Trade { .. } | TickKind::Depth { .. } => None,
        };
        Writer::new(Self::schema())
            .ts(rows.iter().map(|t| t.ts))
            .symbol(rows.iter().map(|t| t.symbol), reg)
            .text(rows.iter().map(|t| Some(t.kind.as_str())))
            .decimal(rows.iter().map(|t| level(t).map(|x| x.0)))
            .decimal(rows.iter().map(|t| level(t).map(|x| x.1)))
            .text(rows.iter().map(|t| level(t).map(|x| x.2.as_str())))
            .decimal(rows.iter().map(|t| quote(t).map(|x| x.0)))
            .decimal(rows.iter().map(|t| quote(t).map(|x| x.1)))
            .decimal(rows.iter().map(|t| quote(t).map(|x| x.2)))
            .decimal(rows.iter().map(|t| quote(t).map(|x| x.3)))
            .u64(rows.iter().map(|t| t.seq))
            .finish()
    }

    /// `kind` may be omitted: a row with a `price` is then a trade, otherwise a quote.
    /// A depth row needs `side`, and its `size` may be zero.
    /// `side` may be omitted or null for trades whose aggressor is unknown; they then
    /// count as buys.
    /// `seq` may be omitted; rows then number from zero.
    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let n = r.rows();
        let ts = r.ts("ts")?;
        let symbol = r.symbols("symbol", reg)?;
        let kind = if r.has("kind") {
            Some(r.text("kind")?)
        } else {
            None
        };
        let opt = |name: &str| -> Result<Vec<Option<Decimal>>, SchemaError> {
            if r.has(name) {
                r.decimal_opt(name)
            } else {
                Ok(vec![None; n])
            }
        };
        let (price, size) = (opt("price")?, opt("size")?);
        let (bid, bid_size, ask, ask_size) = (
            opt("bid_price")?,
            opt("bid_size")?,
            opt("ask_price")?,
            opt("ask_size")?,
        );
        let side = if r.has("side") {
            r.text_opt("side")?
        } else {
            vec![None; n]
        };
        let seq = if r.has("seq") {
            r.u64("seq")?
        } else {
            (0..n as u64).collect()
        };
        let missing = |column: &str, row: usize| SchemaError::BadValue {
            column: column.to_owned(),
            row,
            reason: "null where the tick kind requires a value".into(),
        };
        // Prices and sizes are positive and below 10^12, so that products such as
        // notionals and fees stay far inside `Decimal`'s 28 digits.
        let limit = Decimal::from(1_000_000_000_000i64);
        let positive = |column: &str, row: usize, v: Decimal| {
            if v > Decimal::ZERO && v < limit {
                Ok(v)
            } else {
                Err(SchemaError::BadValue {
                    column: column.to_owned(),
                    row,
                    reason: format!("{v} is not a positive value below 10^12"),
                })
            }
        };
        let mut out = Vec::with_capacity(n);
        let side_of = |row: usize, s: &str| {
            Side::parse(s).ok_or_else(|| SchemaError::BadValue {
                column: "side".into(),
                row,
                reason: format!("`{s}` is neither `buy` nor `sell`"),
            })
        };
        for row in 0..n {
            let which = match &kind {
                Some(k) => match k[row].as_str() {
                    "trade" | "t" => RowKind::Trade,
                    "quote" | "q" => RowKind::Quote,
                    "depth" | "d" => RowKind::Depth,
                    other => {
                        return Err(SchemaError::BadValue {
                            column: "kind".into(),
                            row,
                            reason: format!("`{other}` is not `trade`, `quote` or `depth`"),
                        })
                    }
                },
                None if price[row].is_some() => RowKind::Trade,
                None => RowKind::Quote,
            };
            let kind = match which {
                RowKind::Depth => {
                    let side = side_of(
                        row,
                        side[row].as_deref().ok_or_else(|| missing("side", row))?,
                    )?;
                    let size = size[row].ok_or_else(|| missing("size", row))?;
                    TickKind::Depth {
                        side,
                        price: positive(
                            "price",
                            row,
                            price[row].ok_or_else(|| missing("price", row))?,
                        )?,
                        size: if size.is_zero() {
                            Decimal::ZERO
                        } else {
                            positive("size", row, size)?
                        },
                    }
                }
                RowKind::Trade => {
                    let aggressor = match side[row].as_deref() {
                        None | Some("") => Side::Buy,
                        Some(s) => side_of(row, s)?,
                    };
                    TickKind::Trade {
                        price: positive(
                            "price",
                            row,
                            price[row].ok_or_else(|| missing("price", row))?,
                        )?,
                        size: positive(
                            "size",
                            row,
                            size[row].ok_or_else(|| missing("size", row))?,
                        )?,
                        aggressor,
                    }
                }
                RowKind::Quote => {
                    let bid = positive(
                        "bid_price",
                        row,
                        bid[row].ok_or_else(|| missing("bid_price", row))?,
                    )?;
                    let ask = positive(
                        "ask_price",
                        row,
                        ask[row].ok_or_else(|| missing("ask_price", row))?,
                    )?;
                    if ask < bid {
                        return Err(SchemaError::BadValue {
                            column: "ask_price".into(),
                            row,
                            reason: format!("ask {ask} is below bid {bid}"),
                        });
                    }
                    TickKind::Quote {
                        bid,
                        bid_size: positive(
                            "bid_size",
                            row,
                            bid_size[row].ok_or_else(|| missing("bid_size", row))?,
                        )?,
                        ask,
                        ask_size: positive(
                            "ask_size",
                            row,
                            ask_size[row].ok_or_else(|| missing("ask_size", row))?,
                        )?,
                    }
                }
            };
            out.push(Tick {
                ts: ts[row],
                seq: seq[row],
                symbol: symbol[row],
                kind,
            });
        }
        Ok(out)
    }
}

impl ArrowRecord for Bar {
    const NAME: &'static str = "bars";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("start"),
            ts_field("end"),
            text_field("symbol", false),
            decimal_field("open", false),
            decimal_field("high", false),
            decimal_field("low", false),
            decimal_field("close", false),
            decimal_field("volume", false),
            u64_field("trades"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|b| b.start))
            .ts(rows.iter().map(|b| b.end))
            .symbol(rows.iter().map(|b| b.symbol), reg)
            .decimal(rows.iter().map(|b| Some(b.open)))
            .decimal(rows.iter().map(|b| Some(b.high)))
            .decimal(rows.iter().map(|b| Some(b.low)))
            .decimal(rows.iter().map(|b| Some(b.close)))
            .decimal(rows.iter().map(|b| Some(b.volume)))
            .u64(rows.iter().map(|b| b.trades))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (start, end, symbol) = (r.ts("start")?, r.ts("end")?, r.symbols("symbol", reg)?);
        let (open, high, low, close) = (
            r.decimal("open")?,
            r.decimal("high")?,
            r.decimal("low")?,
            r.decimal("close")?,
        );
        let (volume, trades) = (r.decimal("volume")?, r.u64("trades")?);
        Ok((0..r.rows())
            .map(|i| Bar {
                start: start[i],
                end: end[i],
                symbol: symbol[i],
                open: open[i],
                high: high[i],
                low: low[i],
                close: close[i],
                volume: volume[i],
                trades: trades[i],
            })
            .collect())
    }
}

/// A closed bar and what the features stage made of it: the bar's own columns, then
/// `log_return`, `volatility`, `count`, `warm` and one `input_<name>` per model input.
impl ArrowRecord for BarFeatures {
    const NAME: &'static str = "bar_features";

    fn schema() -> SchemaRef {
        let mut fields: Vec<Field> = Bar::schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend([
            f64_field("log_return"),
            f64_field("volatility"),
            u64_field("count"),
            Field::new("warm", DataType::Boolean, false),
        ]);
        fields.extend(
            BAR_INPUT_NAMES
                .iter()
                .map(|n| f64_field(&format!("input_{n}"))),
        );
        schema(fields)
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        let bars: Vec<Bar> = rows.iter().map(|b| b.bar).collect();
        let inner = Bar::to_batch(&bars, reg)?;
        let own = Writer::new(schema(
            Self::schema().fields()[inner.num_columns()..]
                .iter()
                .map(|f| f.as_ref().clone())
                .collect(),
        ))
        .f64(rows.iter().map(|b| b.log_return))
        .f64(rows.iter().map(|b| b.volatility))
        .u64(rows.iter().map(|b| b.count))
        .bool(rows.iter().map(|b| b.warm));
        let own = (0..BAR_INPUTS)
            .fold(own, |w, k| w.f64(rows.iter().map(move |b| b.inputs[k])))
            .finish()?;
        let mut columns = inner.columns().to_vec();
        columns.extend(own.columns().iter().cloned());
        Ok(RecordBatch::try_new(Self::schema(), columns)?)
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let bars = Bar::from_batch(batch, reg)?;
        let r = Reader::new(batch, Self::NAME);
        let (log_return, volatility) = (r.f64("log_return")?, r.f64("volatility")?);
        let (count, warm) = (r.u64("count")?, r.bool("warm")?);
        let mut inputs = Vec::with_capacity(BAR_INPUTS);
        for name in BAR_INPUT_NAMES {
            inputs.push(r.f64(&format!("input_{name}"))?);
        }
        Ok(bars
            .into_iter()
            .enumerate()
            .map(|(i, bar)| BarFeatures {
                bar,
                log_return: log_return[i],
                volatility: volatility[i],
                count: count[i],
                warm: warm[i],
                inputs: std::array::from_fn(|k| inputs[k][i]),
            })
            .collect())
    }
}

impl ArrowRecord for Signal {
    const NAME: &'static str = "signals";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("symbol", false),
            Field::new("direction", DataType::Int8, false),
            f64_field("strength"),
            f64_field("confidence"),
            f64_field("volatility"),
            decimal_field("bid", false),
            decimal_field("ask", false),
            f64_field("edge"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|s| s.ts))
            .u64(rows.iter().map(|s| s.seq))
            .symbol(rows.iter().map(|s| s.symbol), reg)
            .i8(rows.iter().map(|s| s.direction))
            .f64(rows.iter().map(|s| s.strength))
            .f64(rows.iter().map(|s| s.confidence))
            .f64(rows.iter().map(|s| s.volatility))
            .decimal(rows.iter().map(|s| Some(s.bid)))
            .decimal(rows.iter().map(|s| Some(s.ask)))
            .f64(rows.iter().map(|s| s.edge))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, seq, symbol) = (r.ts("ts")?, r.u64("seq")?, r.symbols("symbol", reg)?);
        let (direction, strength) = (r.i8("direction")?, r.f64("strength")?);
        let (confidence, volatility) = (r.f64("confidence")?, r.f64("volatility")?);
        let (bid, ask, edge) = (r.decimal("bid")?, r.decimal("ask")?, r.f64("edge")?);
        Ok((0..r.rows())
            .map(|i| Signal {
                ts: ts[i],
                seq: seq[i],
                symbol: symbol[i],
                direction: direction[i],
                strength: strength[i],
                confidence: confidence[i],
                volatility: volatility[i],
                bid: bid[i],
                ask: ask[i],
                edge: edge[i],
            })
            .collect())
    }
}

/// The per-tick features. The bar a tick completed is not among the columns: it is a
/// record of its own, [`BarFeatures`], so a feature vector read back has `bar: None`.
impl ArrowRecord for FeatureVector {
    const NAME: &'static str = "features";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("symbol", false),
            decimal_field("bid", false),
            decimal_field("ask", false),
            f64_field("mid"),
            f64_field("ema_fast"),
            f64_field("ema_slow"),
            f64_field("log_return"),
            f64_field("volatility"),
            f64_field("spread"),
            u64_field("count"),
            f64_field("microprice"),
            f64_field("imbalance"),
            f64_field("trade_imbalance"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|f| f.ts))
            .u64(rows.iter().map(|f| f.seq))
            .symbol(rows.iter().map(|f| f.symbol), reg)
            .decimal(rows.iter().map(|f| Some(f.bid)))
            .decimal(rows.iter().map(|f| Some(f.ask)))
            .f64(rows.iter().map(|f| f.mid))
            .f64(rows.iter().map(|f| f.ema_fast))
            .f64(rows.iter().map(|f| f.ema_slow))
            .f64(rows.iter().map(|f| f.log_return))
            .f64(rows.iter().map(|f| f.volatility))
            .f64(rows.iter().map(|f| f.spread))
            .u64(rows.iter().map(|f| f.count))
            .f64(rows.iter().map(|f| f.microprice))
            .f64(rows.iter().map(|f| f.imbalance))
            .f64(rows.iter().map(|f| f.trade_imbalance))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, seq, symbol) = (r.ts("ts")?, r.u64("seq")?, r.symbols("symbol", reg)?);
        let (bid, ask, mid) = (r.decimal("bid")?, r.decimal("ask")?, r.f64("mid")?);
        let (ema_fast, ema_slow) = (r.f64("ema_fast")?, r.f64("ema_slow")?);
        let (log_return, volatility) = (r.f64("log_return")?, r.f64("volatility")?);
        let (spread, count) = (r.f64("spread")?, r.u64("count")?);
        let (microprice, imbalance) = (r.f64("microprice")?, r.f64("imbalance")?);
        let trade_imbalance = r.f64("trade_imbalance")?;
        Ok((0..r.rows())
            .map(|i| FeatureVector {
                ts: ts[i],
                seq: seq[i],
                symbol: symbol[i],
                bid: bid[i],
                ask: ask[i],
                mid: mid[i],
                ema_fast: ema_fast[i],
                ema_slow: ema_slow[i],
                log_return: log_return[i],
                volatility: volatility[i],
                spread: spread[i],
                count: count[i],
                microprice: microprice[i],
                imbalance: imbalance[i],
                trade_imbalance: trade_imbalance[i],
                bar: None,
            })
            .collect())
    }
}

impl ArrowRecord for Forecast {
    const NAME: &'static str = "forecasts";

    /// The forecast's own columns, then those of the feature vector it was made from,
    /// prefixed `feature_`.
    fn schema() -> SchemaRef {
        let mut fields = vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("symbol", false),
            f64_field("expected_return"),
            f64_field("variance"),
            f64_field("bar_variance"),
            f64_field("vol_ratio"),
            f64_field("tail_dof"),
        ];
        fields.extend(
            FORECAST_SCORE_NAMES
                .iter()
                .map(|n| f64_field(&format!("score_{n}"))),
        );
        fields.extend(FeatureVector::schema().fields().iter().skip(3).map(|f| {
            f.as_ref()
                .clone()
                .with_name(format!("feature_{}", f.name()))
        }));
        schema(fields)
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        let features: Vec<FeatureVector> = rows.iter().map(|f| f.features).collect();
        let inner = FeatureVector::to_batch(&features, reg)?;
        let own = Writer::new(schema(
            Self::schema().fields()[..FORECAST_OWN_COLUMNS]
                .iter()
                .map(|f| f.as_ref().clone())
                .collect(),
        ))
        .ts(rows.iter().map(|f| f.ts))
        .u64(rows.iter().map(|f| f.seq))
        .symbol(rows.iter().map(|f| f.symbol), reg)
        .f64(rows.iter().map(|f| f.expected_return))
        .f64(rows.iter().map(|f| f.variance))
        .f64(rows.iter().map(|f| f.bar_variance))
        .f64(rows.iter().map(|f| f.vol_ratio))
        .f64(rows.iter().map(|f| f.tail_dof));
        let own = (0..FORECAST_SCORES)
            .fold(own, |w, k| w.f64(rows.iter().map(move |f| f.scores[k])))
            .finish()?;
        let mut columns = own.columns().to_vec();
        columns.extend(inner.columns()[3..].iter().cloned());
        Ok(RecordBatch::try_new(Self::schema(), columns)?)
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, seq, symbol) = (r.ts("ts")?, r.u64("seq")?, r.symbols("symbol", reg)?);
        let (expected, variance) = (r.f64("expected_return")?, r.f64("variance")?);
        let (bar_variance, vol_ratio) = (r.f64("bar_variance")?, r.f64("vol_ratio")?);
        let tail_dof = r.f64("tail_dof")?;
        let mut scores = Vec::with_capacity(FORECAST_SCORES);
        for name in FORECAST_SCORE_NAMES {
            scores.push(r.f64(&format!("score_{name}"))?);
        }
        // The feature columns, renamed back, with the forecast's own ts, seq and symbol.
        let schema = batch.schema();
        let mut fields = vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("symbol", false),
        ];
        let mut columns = vec![
            batch.column(schema.index_of("ts")?).clone(),
            batch.column(schema.index_of("seq")?).clone(),
            batch.column(schema.index_of("symbol")?).clone(),
        ];
        for field in FeatureVector::schema().fields().iter().skip(3) {
            let name = format!("feature_{}", field.name());
            let column = batch
                .column_by_name(&name)
                .ok_or_else(|| SchemaError::MissingColumn {
                    record: Self::NAME,
                    column: name.clone(),
                })?;
            fields.push(Field::new(field.name(), column.data_type().clone(), true));
            columns.push(column.clone());
        }
        let inner = RecordBatch::try_new(schema_of(fields), columns)?;
        let features = FeatureVector::from_batch(&inner, reg)?;
        Ok((0..r.rows())
            .map(|i| Forecast {
                ts: ts[i],
                seq: seq[i],
                symbol: symbol[i],
                expected_return: expected[i],
                variance: variance[i],
                bar_variance: bar_variance[i],
                vol_ratio: vol_ratio[i],
                tail_dof: tail_dof[i],
                scores: std::array::from_fn(|k| scores[k][i]),
                features: features[i],
            })
            .collect())
    }
}

/// The forecast's own columns, before the feature vector's.
const FORECAST_OWN_COLUMNS: usize = 8 + FORECAST_SCORES;

fn schema_of(fields: Vec<Field>) -> SchemaRef {
    std::sync::Arc::new(arrow_schema::Schema::new(fields))
}

impl ArrowRecord for OrderIntent {
    const NAME: &'static str = "intents";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("symbol", false),
            decimal_field("target", false),
            decimal_field("max_position", false),
            text_field("urgency", false),
            decimal_field("bid", false),
            decimal_field("ask", false),
            decimal_field("stop_distance", false),
            decimal_field("take_profit_distance", false),
            Field::new("max_hold_ns", DataType::Int64, false),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|o| o.ts))
            .u64(rows.iter().map(|o| o.seq))
            .symbol(rows.iter().map(|o| o.symbol), reg)
            .decimal(rows.iter().map(|o| Some(o.target)))
            .decimal(rows.iter().map(|o| Some(o.max_position)))
            .text(rows.iter().map(|o| Some(urgency_str(o.urgency))))
            .decimal(rows.iter().map(|o| Some(o.bid)))
            .decimal(rows.iter().map(|o| Some(o.ask)))
            .decimal(rows.iter().map(|o| Some(o.stop_distance)))
            .decimal(rows.iter().map(|o| Some(o.take_profit_distance)))
            .i64(rows.iter().map(|o| o.max_hold_ns))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, seq, symbol) = (r.ts("ts")?, r.u64("seq")?, r.symbols("symbol", reg)?);
        let (target, max_position) = (r.decimal("target")?, r.decimal("max_position")?);
        let urgency = r.parsed("urgency", "`passive` or `aggressive`", parse_urgency)?;
        let (bid, ask) = (r.decimal("bid")?, r.decimal("ask")?);
        let (stop, take_profit) = (
            r.decimal("stop_distance")?,
            r.decimal("take_profit_distance")?,
        );
        let max_hold = r.ts("max_hold_ns")?;
        Ok((0..r.rows())
            .map(|i| OrderIntent {
                ts: ts[i],
                seq: seq[i],
                symbol: symbol[i],
                target: target[i],
                max_position: max_position[i],
                urgency: urgency[i],
                bid: bid[i],
                ask: ask[i],
                stop_distance: stop[i],
                take_profit_distance: take_profit[i],
                max_hold_ns: max_hold[i],
            })
            .collect())
    }
}

impl ArrowRecord for Order {
    const NAME: &'static str = "orders";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("client_id"),
            text_field("symbol", false),
            text_field("action", false),
            text_field("side", false),
            text_field("kind", false),
            decimal_field("price", true),
            decimal_field("trigger", true),
            decimal_field("qty", false),
            text_field("tif", false),
            Field::new("expire_ts", DataType::Int64, false),
            Field::new("reduces_exposure", DataType::Boolean, false),
            Field::new("reduce_only", DataType::Boolean, false),
            u64_field("oco"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        let w = Writer::new(Self::schema())
            .ts(rows.iter().map(|o| o.ts))
            .u64(rows.iter().map(|o| o.client_id))
            .symbol(rows.iter().map(|o| o.symbol), reg)
            .text(rows.iter().map(|o| {
                Some(match o.action {
                    OrderAction::New => "new",
                    OrderAction::Cancel => "cancel",
                })
            }))
            .text(rows.iter().map(|o| Some(o.side.as_str())))
            .text(rows.iter().map(|o| Some(o.kind.as_str())))
            .decimal(
                rows.iter()
                    .map(|o| (o.kind == OrderKind::Limit).then_some(o.price)),
            )
            .decimal(
                rows.iter()
                    .map(|o| o.kind.is_triggered().then_some(o.trigger)),
            )
            .decimal(rows.iter().map(|o| Some(o.qty)))
            .text(rows.iter().map(|o| Some(o.tif.as_str())))
            .i64(rows.iter().map(|o| o.expire_ts))
            .bool(rows.iter().map(|o| o.reduces_exposure))
            .bool(rows.iter().map(|o| o.reduce_only))
            .u64(rows.iter().map(|o| o.oco));
        w.finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, client_id, symbol) = (r.ts("ts")?, r.u64("client_id")?, r.symbols("symbol", reg)?);
        let action = r.parsed("action", "`new` or `cancel`", |t| match t {
            "new" => Some(OrderAction::New),
            "cancel" => Some(OrderAction::Cancel),
            _ => None,
        })?;
        let side = r.parsed("side", "`buy` or `sell`", Side::parse)?;
        let kind = r.parsed(
            "kind",
            "`market`, `limit`, `stop` or `take_profit`",
            OrderKind::parse,
        )?;
        let (price, trigger, qty) = (
            r.decimal_opt("price")?,
            r.decimal_opt("trigger")?,
            r.decimal("qty")?,
        );
        let tif = r.parsed(
            "tif",
            "`gtc`, `ioc`, `fok` or `post_only`",
            TimeInForce::parse,
        )?;
        let (expire_ts, reduces) = (r.ts("expire_ts")?, r.bool("reduces_exposure")?);
        let (reduce_only, oco) = (r.bool("reduce_only")?, r.u64("oco")?);
        Ok((0..r.rows())
            .map(|i| Order {
                ts: ts[i],
                client_id: client_id[i],
                symbol: symbol[i],
                action: action[i],
                side: side[i],
                kind: kind[i],
                price: price[i].unwrap_or(Decimal::ZERO),
                trigger: trigger[i].unwrap_or(Decimal::ZERO),
                qty: qty[i],
                tif: tif[i],
                expire_ts: expire_ts[i],
                reduces_exposure: reduces[i],
                reduce_only: reduce_only[i],
                oco: oco[i],
            })
            .collect())
    }
}

impl ArrowRecord for ExecutionReport {
    const NAME: &'static str = "reports";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("client_id"),
            text_field("symbol", false),
            text_field("side", false),
            text_field("status", false),
            decimal_field("fill_qty", false),
            decimal_field("fill_price", false),
            decimal_field("fee", false),
            text_field("liquidity", true),
            decimal_field("leaves_qty", false),
            Field::new("event", DataType::UInt32, false),
            text_field("reason", true),
            ts_field("received_ts"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|e| e.ts))
            .u64(rows.iter().map(|e| e.client_id))
            .symbol(rows.iter().map(|e| e.symbol), reg)
            .text(rows.iter().map(|e| Some(e.side.as_str())))
            .text(rows.iter().map(|e| Some(e.status.as_str())))
            .decimal(rows.iter().map(|e| Some(e.fill_qty)))
            .decimal(rows.iter().map(|e| Some(e.fill_price)))
            .decimal(rows.iter().map(|e| Some(e.fee)))
            .text(rows.iter().map(|e| e.liquidity.map(liquidity_str)))
            .decimal(rows.iter().map(|e| Some(e.leaves_qty)))
            .u32(rows.iter().map(|e| e.event))
            .text(rows.iter().map(|e| e.reason.map(ReportReason::as_str)))
            .ts(rows.iter().map(|e| e.received_ts))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, client_id, symbol) = (r.ts("ts")?, r.u64("client_id")?, r.symbols("symbol", reg)?);
        let side = r.parsed("side", "`buy` or `sell`", Side::parse)?;
        let status = r.parsed("status", "an order status", ReportStatus::parse)?;
        let (fill_qty, fill_price, fee) = (
            r.decimal("fill_qty")?,
            r.decimal("fill_price")?,
            r.decimal("fee")?,
        );
        let liquidity = r.text_opt("liquidity")?;
        let (leaves_qty, event) = (r.decimal("leaves_qty")?, r.u64("event")?);
        let (reason, received_ts) = (r.text_opt("reason")?, r.ts("received_ts")?);
        (0..r.rows())
            .map(|i| {
                let liquidity = match liquidity[i].as_deref() {
                    None => None,
                    Some(t) => Some(parse_liquidity(t).ok_or_else(|| SchemaError::BadValue {
                        column: "liquidity".into(),
                        row: i,
                        reason: format!("`{t}` is neither `maker` nor `taker`"),
                    })?),
                };
                let reason = match reason[i].as_deref() {
                    None => None,
                    Some(t) => {
                        Some(ReportReason::parse(t).ok_or_else(|| SchemaError::BadValue {
                            column: "reason".into(),
                            row: i,
                            reason: format!("`{t}` is not a report reason"),
                        })?)
                    }
                };
                Ok(ExecutionReport {
                    ts: ts[i],
                    client_id: client_id[i],
                    symbol: symbol[i],
                    side: side[i],
                    status: status[i],
                    fill_qty: fill_qty[i],
                    fill_price: fill_price[i],
                    fee: fee[i],
                    liquidity,
                    leaves_qty: leaves_qty[i],
                    event: event[i] as u32,
                    reason,
                    received_ts: received_ts[i],
                })
            })
            .collect()
    }
}

impl ArrowRecord for Fill {
    const NAME: &'static str = "fills";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("client_id"),
            text_field("symbol", false),
            text_field("side", false),
            decimal_field("price", false),
            decimal_field("qty", false),
            decimal_field("fee", false),
            text_field("liquidity", false),
            Field::new("event", DataType::UInt32, false),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|f| f.ts))
            .u64(rows.iter().map(|f| f.client_id))
            .symbol(rows.iter().map(|f| f.symbol), reg)
            .text(rows.iter().map(|f| Some(f.side.as_str())))
            .decimal(rows.iter().map(|f| Some(f.price)))
            .decimal(rows.iter().map(|f| Some(f.qty)))
            .decimal(rows.iter().map(|f| Some(f.fee)))
            .text(rows.iter().map(|f| Some(liquidity_str(f.liquidity))))
            .u32(rows.iter().map(|f| f.event))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, client_id, symbol) = (r.ts("ts")?, r.u64("client_id")?, r.symbols("symbol", reg)?);
        let side = r.parsed("side", "`buy` or `sell`", Side::parse)?;
        let (price, qty, fee) = (r.decimal("price")?, r.decimal("qty")?, r.decimal("fee")?);
        let liquidity = r.parsed("liquidity", "`maker` or `taker`", parse_liquidity)?;
        let event = r.u64("event")?;
        Ok((0..r.rows())
            .map(|i| Fill {
                ts: ts[i],
                client_id: client_id[i],
                symbol: symbol[i],
                side: side[i],
                price: price[i],
                qty: qty[i],
                fee: fee[i],
                liquidity: liquidity[i],
                event: event[i] as u32,
            })
            .collect())
    }
}

impl ArrowRecord for Position {
    const NAME: &'static str = "positions";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            text_field("symbol", false),
            decimal_field("qty", false),
            decimal_field("avg_price", false),
            decimal_field("mark", false),
            decimal_field("cash", false),
            decimal_field("realized_pnl", false),
            decimal_field("unrealized_pnl", false),
            decimal_field("fees", false),
            u64_field("fills"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|p| p.ts))
            .symbol(rows.iter().map(|p| p.symbol), reg)
            .decimal(rows.iter().map(|p| Some(p.qty)))
            .decimal(rows.iter().map(|p| Some(p.avg_price)))
            .decimal(rows.iter().map(|p| Some(p.mark)))
            .decimal(rows.iter().map(|p| Some(p.cash)))
            .decimal(rows.iter().map(|p| Some(p.realized_pnl)))
            .decimal(rows.iter().map(|p| Some(p.unrealized_pnl())))
            .decimal(rows.iter().map(|p| Some(p.fees)))
            .u64(rows.iter().map(|p| p.fills))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, symbol) = (r.ts("ts")?, r.symbols("symbol", reg)?);
        let (qty, avg_price, mark) = (
            r.decimal("qty")?,
            r.decimal("avg_price")?,
            r.decimal("mark")?,
        );
        let (cash, realized, fees) = (
            r.decimal("cash")?,
            r.decimal("realized_pnl")?,
            r.decimal("fees")?,
        );
        let fills = r.u64("fills")?;
        Ok((0..r.rows())
            .map(|i| Position {
                ts: ts[i],
                symbol: symbol[i],
                qty: qty[i],
                avg_price: avg_price[i],
                mark: mark[i],
                cash: cash[i],
                realized_pnl: realized[i],
                fees: fees[i],
                fills: fills[i],
            })
            .collect())
    }
}

impl ArrowRecord for EquityPoint {
    const NAME: &'static str = "equity";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            decimal_field("equity", false),
            decimal_field("realized_pnl", false),
            decimal_field("unrealized_pnl", false),
            decimal_field("fees", false),
            decimal_field("gross_exposure", false),
            decimal_field("peak", false),
            f64_field("drawdown"),
        ])
    }

    fn to_batch(rows: &[Self], _reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|e| e.ts))
            .decimal(rows.iter().map(|e| Some(e.equity)))
            .decimal(rows.iter().map(|e| Some(e.realized_pnl)))
            .decimal(rows.iter().map(|e| Some(e.unrealized_pnl)))
            .decimal(rows.iter().map(|e| Some(e.fees)))
            .decimal(rows.iter().map(|e| Some(e.gross_exposure)))
            .decimal(rows.iter().map(|e| Some(e.peak)))
            .f64(rows.iter().map(|e| e.drawdown))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, _reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, equity, realized) = (
            r.ts("ts")?,
            r.decimal("equity")?,
            r.decimal("realized_pnl")?,
        );
        let (unrealized, fees) = (r.decimal("unrealized_pnl")?, r.decimal("fees")?);
        let (gross, peak, drawdown) = (
            r.decimal("gross_exposure")?,
            r.decimal("peak")?,
            r.f64("drawdown")?,
        );
        Ok((0..r.rows())
            .map(|i| EquityPoint {
                ts: ts[i],
                equity: equity[i],
                realized_pnl: realized[i],
                unrealized_pnl: unrealized[i],
                fees: fees[i],
                gross_exposure: gross[i],
                peak: peak[i],
                drawdown: drawdown[i],
            })
            .collect())
    }
}

impl ArrowRecord for ControlEvent {
    const NAME: &'static str = "control";

    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("mode", false),
            text_field("source", false),
            text_field("reason", false),
            text_field("parameter", true),
            text_field("value", true),
        ])
    }

    fn to_batch(rows: &[Self], _reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|c| c.ts))
            .u64(rows.iter().map(|c| c.seq))
            .text(rows.iter().map(|c| Some(c.command.as_str())))
            .text(rows.iter().map(|c| Some(c.source.as_str())))
            .text(rows.iter().map(|c| Some(c.reason.as_str())))
            .text(
                rows.iter()
                    .map(|c| c.parameter.as_ref().map(|p| p.name.as_str())),
            )
            .text(
                rows.iter()
                    .map(|c| c.parameter.as_ref().map(|p| p.value.as_str())),
            )
            .finish()
    }

    fn from_batch(batch: &RecordBatch, _reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let ts = r.ts("ts")?;
        let seq = if r.has("seq") {
            r.u64("seq")?
        } else {
            (0..r.rows() as u64).collect()
        };
        let mode = r.parsed(
            "mode",
            "one of normal, pause, reduce, emergency, reset, set",
            ControlCommand::parse,
        )?;
        // A control file written before sources were recorded holds replayed events.
        let source = if r.has("source") {
            r.parsed(
                "source",
                "a control source such as file, admin or drawdown",
                ControlSource::parse,
            )?
        } else {
            vec![ControlSource::File; r.rows()]
        };
        let reason = r.text("reason")?;
        let (name, value) = if r.has("parameter") {
            (r.text_opt("parameter")?, r.text_opt("value")?)
        } else {
            (vec![None; r.rows()], vec![None; r.rows()])
        };
        (0..r.rows())
            .map(|i| {
                let parameter = match (&name[i], &value[i]) {
                    (Some(name), Some(value)) => Some(crate::Parameter {
                        name: name.clone(),
                        value: value.clone(),
                    }),
                    (None, None) => None,
                    _ => {
                        return Err(SchemaError::BadValue {
                            column: "parameter".into(),
                            row: i,
                            reason: "a parameter needs both its name and its value".into(),
                        })
                    }
                };
                Ok(ControlEvent {
                    ts: ts[i],
                    seq: seq[i],
                    command: mode[i],
                    source: source[i],
                    reason: reason[i].clone(),
                    parameter,
                })
            })
            .collect()
    }
}

impl ArrowRecord for crate::AuditEntry {
    const NAME: &'static str = "audit";

    /// `ts`, `seq`, `kind` (`control`, `mode_change`, `parameter_change`), `payload` (JSON
    /// text, as hashed), and `prev_hash` and `hash` as 64 lowercase hex digits.
    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            u64_field("seq"),
            text_field("kind", false),
            text_field("payload", false),
            text_field("prev_hash", false),
            text_field("hash", false),
        ])
    }

    fn to_batch(rows: &[Self], _reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        let prev: Vec<String> = rows
            .iter()
            .map(|e| crate::hash_to_hex(&e.prev_hash))
            .collect();
        let hash: Vec<String> = rows.iter().map(|e| crate::hash_to_hex(&e.hash)).collect();
        Writer::new(Self::schema())
            .ts(rows.iter().map(|e| e.ts))
            .u64(rows.iter().map(|e| e.seq))
            .text(rows.iter().map(|e| Some(e.kind.as_str())))
            .text(rows.iter().map(|e| Some(e.payload.as_str())))
            .text(prev.iter().map(|h| Some(h.as_str())))
            .text(hash.iter().map(|h| Some(h.as_str())))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, _reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let ts = r.ts("ts")?;
        let seq = r.u64("seq")?;
        let kind = r.parsed(
            "kind",
            "one of control, mode_change, parameter_change",
            crate::AuditKind::parse,
        )?;
        let payload = r.text("payload")?;
        let hex = "a hash of 64 hex digits";
        let prev_hash = r.parsed("prev_hash", hex, crate::hash_from_hex)?;
        let hash = r.parsed("hash", hex, crate::hash_from_hex)?;
        Ok(payload
            .into_iter()
            .enumerate()
            .map(|(i, payload)| crate::AuditEntry {
                seq: seq[i],
                ts: ts[i],
                kind: kind[i],
                payload,
                prev_hash: prev_hash[i],
                hash: hash[i],
            })
            .collect())
    }
}

impl ArrowRecord for RiskPoint {
    const NAME: &'static str = "risk";

    /// `symbol` is null on the portfolio's row.
    fn schema() -> SchemaRef {
        schema(vec![
            ts_field("ts"),
            text_field("symbol", true),
            decimal_field("exposure", false),
            decimal_field("risk_at_stop", false),
            f64_field("sigma"),
            f64_field("dof"),
            f64_field("var_99"),
            f64_field("cvar_99"),
        ])
    }

    fn to_batch(rows: &[Self], reg: &SymbolRegistry) -> Result<RecordBatch, SchemaError> {
        Writer::new(Self::schema())
            .ts(rows.iter().map(|r| r.ts))
            .text(rows.iter().map(|r| r.symbol.map(|s| reg.name(s))))
            .decimal(rows.iter().map(|r| Some(r.exposure)))
            .decimal(rows.iter().map(|r| Some(r.risk_at_stop)))
            .f64(rows.iter().map(|r| r.sigma))
            .f64(rows.iter().map(|r| r.dof))
            .f64(rows.iter().map(|r| r.var_99))
            .f64(rows.iter().map(|r| r.cvar_99))
            .finish()
    }

    fn from_batch(batch: &RecordBatch, reg: &SymbolRegistry) -> Result<Vec<Self>, SchemaError> {
        let r = Reader::new(batch, Self::NAME);
        let (ts, names) = (r.ts("ts")?, r.text_opt("symbol")?);
        let (exposure, risk_at_stop) = (r.decimal("exposure")?, r.decimal("risk_at_stop")?);
        let (sigma, dof) = (r.f64("sigma")?, r.f64("dof")?);
        let (var, cvar) = (r.f64("var_99")?, r.f64("cvar_99")?);
        (0..r.rows())
            .map(|i| {
                let symbol = match names[i].as_deref() {
                    None => None,
                    Some(name) => Some(reg.id(name).ok_or_else(|| SchemaError::BadValue {
                        column: "symbol".into(),
                        row: i,
                        reason: format!("symbol `{name}` is not in the instrument registry"),
                    })?),
                };
                Ok(RiskPoint {
                    ts: ts[i],
                    symbol,
                    exposure: exposure[i],
                    risk_at_stop: risk_at_stop[i],
                    sigma: sigma[i],
                    dof: dof[i],
                    var_99: var[i],
                    cvar_99: cvar[i],
                })
            })
            .collect()
    }
}
