//! PostgreSQL's binary `COPY` format, and each record type's row in its table.
//!
//! A batch is one `COPY <table> (<columns>) FROM STDIN (FORMAT binary)` stream: the
//! signature and header, one tuple per row (a field count, then each field as a length
//! and its bytes in network order, `-1` for NULL), and a trailer. The field encodings are
//! PostgreSQL's `*_send` formats: `int8`, `int2`, `float8`, `bool`, `text` (UTF-8),
//! `uuid` (16 bytes), `timestamptz` (microseconds since 2000-01-01 UTC) and `numeric`
//! (base-10000 digits with a weight, a sign and a display scale).

use bot4_schemas::{
    to_scaled_i128, BarFeatures, ControlEvent, Decimal, EquityPoint, ExecutionReport, Fill,
    Liquidity, Nanos, Order, OrderAction, OrderKind, Position, RiskPoint, Signal, SymbolRegistry,
    Tick, TickKind, ARROW_DECIMAL_SCALE,
};

/// The signature, flags and header-extension length that open every binary `COPY`.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00 UTC.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// `numeric` sign words.
const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;

/// Base-10000 digit groups after the decimal point of a stored decimal (scale 12).
const FRACTION_GROUPS: usize = ARROW_DECIMAL_SCALE as usize / 4;

/// One batch of rows for one table, in binary `COPY` format.
#[derive(Debug)]
pub struct CopyBuf {
    bytes: Vec<u8>,
    /// The least and greatest event time written.
    lo: Nanos,
    hi: Nanos,
}

impl Default for CopyBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl CopyBuf {
    /// An empty batch: just the header.
    pub fn new() -> Self {
        Self {
            bytes: HEADER.to_vec(),
            lo: Nanos::MAX,
            hi: Nanos::MIN,
        }
    }

    /// The least and greatest event time of the rows (`(MAX, MIN)` when none).
    pub fn time_range(&self) -> (Nanos, Nanos) {
        (self.lo, self.hi)
    }

    /// Start a row of `fields` fields.
    pub fn row(&mut self, fields: i16) {
        self.bytes.extend_from_slice(&fields.to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        // Every field here is far below 2 GiB: symbols, reasons and fixed-width values.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(bytes);
    }

    /// A NULL.
    pub fn null(&mut self) {
        self.bytes.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// An `int8`.
    pub fn i64(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    /// An `int8` from an unsigned value, refused above `i64::MAX` rather than wrapped.
    pub fn u64(&mut self, v: u64, column: &str) -> Result<(), String> {
        let v = i64::try_from(v).map_err(|_| format!("{column} = {v} exceeds bigint"))?;
        self.i64(v);
        Ok(())
    }

    /// An `int2`.
    pub fn i16(&mut self, v: i16) {
        self.field(&v.to_be_bytes());
    }

    /// A `float8`.
    pub fn f64(&mut self, v: f64) {
        self.field(&v.to_be_bytes());
    }

    /// A `bool`.
    pub fn bool(&mut self, v: bool) {
        self.field(&[u8::from(v)]);
    }

    /// A `text`.
    pub fn text(&mut self, v: &str) {
        self.field(v.as_bytes());
    }

    /// A `uuid`.
    pub fn uuid(&mut self, v: &[u8; 16]) {
        self.field(v);
    }

    /// The `timestamptz` of Unix nanoseconds `ns`, floored to the microsecond as
    /// `bot4_ts(ns)` does, followed by `ns` itself as the `ts_ns` column.
    pub fn ts(&mut self, ns: Nanos) {
        self.lo = self.lo.min(ns);
        self.hi = self.hi.max(ns);
        self.field(&(ns.div_euclid(1000) - PG_EPOCH_MICROS).to_be_bytes());
        self.i64(ns);
    }

    /// A `numeric(38,12)`: `v` at scale 12, rounded half to even beyond it exactly as the
    /// Parquet columns are, so both stores hold the same values. Refused when it needs
    /// more than 38 digits.
    pub fn decimal(&mut self, v: Decimal) -> Result<(), String> {
        let scaled = to_scaled_i128(v)
            .ok_or_else(|| format!("{v} needs more than 38 digits at scale 12"))?;
        let sign = if scaled < 0 { NUMERIC_NEG } else { NUMERIC_POS };
        let mut magnitude = scaled.unsigned_abs();
        // Base-10000 groups, least significant first; the lowest FRACTION_GROUPS are
        // after the decimal point. A u128 has at most 39 digits: 10 groups.
        let mut groups = [0u16; 10];
        let mut n = 0;
        while magnitude > 0 {
            groups[n] = (magnitude % 10_000) as u16;
            magnitude /= 10_000;
            n += 1;
        }
        // Trailing zero groups are implied by the display scale.
        let low = groups[..n].iter().take_while(|&&g| g == 0).count();
        let digits = &groups[low..n];
        let weight = n as i16 - FRACTION_GROUPS as i16 - 1;
        let len = 8 + 2 * digits.len();
        self.bytes.extend_from_slice(&(len as i32).to_be_bytes());
        self.bytes
            .extend_from_slice(&(digits.len() as i16).to_be_bytes());
        self.bytes
            .extend_from_slice(&(if digits.is_empty() { 0 } else { weight }).to_be_bytes());
        self.bytes.extend_from_slice(&sign.to_be_bytes());
        self.bytes
            .extend_from_slice(&(ARROW_DECIMAL_SCALE as u16).to_be_bytes());
        for g in digits.iter().rev() {
            self.bytes.extend_from_slice(&g.to_be_bytes());
        }
        Ok(())
    }

    /// The complete `COPY` stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
        self.bytes
    }
}

/// What a row needs besides its record: the run it belongs to, the symbol names and the
/// epoch the sink received it in.
#[derive(Debug, Clone, Copy)]
pub struct RowContext<'a> {
    /// The run's id, as a `uuid`.
    pub run_id: &'a [u8; 16],
    /// Symbol names.
    pub registry: &'a SymbolRegistry,
    /// The timely epoch of the row.
    pub epoch: u64,
}

/// A record type and the table it is stored in.
pub trait PgRecord: Clone + Send + std::fmt::Debug + 'static {
    /// The table.
    const TABLE: &'static str;
    /// The columns a row fills, in order.
    const COLUMNS: &'static [&'static str];
    /// Whether a full buffer may shed rows of this table (market data only; never
    /// orders, reports, fills, positions, equity or control).
    const SHEDDABLE: bool = false;

    /// Write `self` as one row. An error names the column and the value at fault.
    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String>;
}

/// The `COPY … FROM STDIN` statement of table `T`.
pub fn copy_statement<T: PgRecord>() -> String {
    format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        T::TABLE,
        T::COLUMNS.join(", ")
    )
}

fn fields<T: PgRecord>() -> i16 {
    T::COLUMNS.len() as i16
}

fn liquidity(l: Liquidity) -> &'static str {
    match l {
        Liquidity::Maker => "maker",
        Liquidity::Taker => "taker",
    }
}

impl PgRecord for Tick {
    const TABLE: &'static str = "ticks";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "seq",
        "symbol",
        "kind",
        "price",
        "size",
        "side",
        "bid_price",
        "bid_size",
        "ask_price",
        "ask_size",
    ];
    const SHEDDABLE: bool = true;

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.seq, "seq")?;
        out.text(ctx.registry.name(self.symbol));
        match self.kind {
            TickKind::Trade {
                price,
                size,
                aggressor,
            } => {
                out.text("trade");
                out.decimal(price)?;
                out.decimal(size)?;
                out.text(aggressor.as_str());
                (0..4).for_each(|_| out.null());
            }
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            } => {
                out.text("quote");
                (0..3).for_each(|_| out.null());
                out.decimal(bid)?;
                out.decimal(bid_size)?;
                out.decimal(ask)?;
                out.decimal(ask_size)?;
            }
            TickKind::Depth { side, price, size } => {
                out.text("depth");
                out.decimal(price)?;
                out.decimal(size)?;
                out.text(side.as_str());
                (0..4).for_each(|_| out.null());
            }
        }
        Ok(())
    }
}

impl PgRecord for BarFeatures {
    const TABLE: &'static str = "bar_features";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "end_ts",
        "end_ns",
        "symbol",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "trades",
        "log_return",
        "volatility",
        "count",
        "warm",
        "input_rsi",
        "input_macd",
        "input_zscore",
        "input_stoch",
        "input_cci",
        "input_di_spread",
        "input_return_over_vol",
        "input_trade_imbalance",
    ];
    const SHEDDABLE: bool = true;

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        let bar = &self.bar;
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(bar.start);
        out.ts(bar.end);
        out.text(ctx.registry.name(bar.symbol));
        for v in [bar.open, bar.high, bar.low, bar.close, bar.volume] {
            out.decimal(v)?;
        }
        out.u64(bar.trades, "trades")?;
        out.f64(self.log_return);
        out.f64(self.volatility);
        out.u64(self.count, "count")?;
        out.bool(self.warm);
        for v in self.inputs {
            out.f64(v);
        }
        Ok(())
    }
}

impl PgRecord for Signal {
    const TABLE: &'static str = "signals";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "seq",
        "symbol",
        "direction",
        "strength",
        "confidence",
        "volatility",
        "bid",
        "ask",
        "edge",
    ];
    const SHEDDABLE: bool = true;

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.seq, "seq")?;
        out.text(ctx.registry.name(self.symbol));
        out.i16(i16::from(self.direction));
        out.f64(self.strength);
        out.f64(self.confidence);
        out.f64(self.volatility);
        out.decimal(self.bid)?;
        out.decimal(self.ask)?;
        out.f64(self.edge);
        Ok(())
    }
}

impl PgRecord for Order {
    const TABLE: &'static str = "orders";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "client_id",
        "symbol",
        "action",
        "side",
        "kind",
        "price",
        "qty",
        "expire_ns",
        "reduces_exposure",
        "trigger",
        "tif",
        "reduce_only",
        "oco",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.client_id, "client_id")?;
        out.text(ctx.registry.name(self.symbol));
        out.text(match self.action {
            OrderAction::New => "new",
            OrderAction::Cancel => "cancel",
        });
        out.text(self.side.as_str());
        out.text(self.kind.as_str());
        if self.kind == OrderKind::Limit {
            out.decimal(self.price)?;
        } else {
            out.null();
        }
        out.decimal(self.qty)?;
        out.i64(self.expire_ts);
        out.bool(self.reduces_exposure);
        if self.kind.is_triggered() {
            out.decimal(self.trigger)?;
        } else {
            out.null();
        }
        out.text(self.tif.as_str());
        out.bool(self.reduce_only);
        out.u64(self.oco, "oco")?;
        Ok(())
    }
}

impl PgRecord for ExecutionReport {
    const TABLE: &'static str = "reports";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "client_id",
        "symbol",
        "side",
        "status",
        "fill_qty",
        "fill_price",
        "fee",
        "liquidity",
        "leaves_qty",
        "event",
        "reason",
        "received_ns",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.client_id, "client_id")?;
        out.text(ctx.registry.name(self.symbol));
        out.text(self.side.as_str());
        out.text(self.status.as_str());
        out.decimal(self.fill_qty)?;
        out.decimal(self.fill_price)?;
        out.decimal(self.fee)?;
        match self.liquidity {
            Some(l) => out.text(liquidity(l)),
            None => out.null(),
        }
        out.decimal(self.leaves_qty)?;
        out.i64(i64::from(self.event));
        match self.reason {
            Some(r) => out.text(r.as_str()),
            None => out.null(),
        }
        out.i64(self.received_ts);
        Ok(())
    }
}

impl PgRecord for Fill {
    const TABLE: &'static str = "fills";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "client_id",
        "symbol",
        "side",
        "price",
        "qty",
        "fee",
        "liquidity",
        "event",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.client_id, "client_id")?;
        out.text(ctx.registry.name(self.symbol));
        out.text(self.side.as_str());
        out.decimal(self.price)?;
        out.decimal(self.qty)?;
        out.decimal(self.fee)?;
        out.text(liquidity(self.liquidity));
        out.i64(i64::from(self.event));
        Ok(())
    }
}

impl PgRecord for Position {
    const TABLE: &'static str = "positions";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "epoch",
        "symbol",
        "qty",
        "avg_price",
        "mark",
        "cash",
        "realized_pnl",
        "unrealized_pnl",
        "fees",
        "fills",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(ctx.epoch, "epoch")?;
        out.text(ctx.registry.name(self.symbol));
        for v in [
            self.qty,
            self.avg_price,
            self.mark,
            self.cash,
            self.realized_pnl,
            self.unrealized_pnl(),
            self.fees,
        ] {
            out.decimal(v)?;
        }
        out.u64(self.fills, "fills")?;
        Ok(())
    }
}

impl PgRecord for RiskPoint {
    const TABLE: &'static str = "risk";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "symbol",
        "exposure",
        "risk_at_stop",
        "sigma",
        "dof",
        "var_99",
        "cvar_99",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        match self.symbol {
            Some(symbol) => out.text(ctx.registry.name(symbol)),
            None => out.null(),
        }
        out.decimal(self.exposure)?;
        out.decimal(self.risk_at_stop)?;
        for v in [self.sigma, self.dof, self.var_99, self.cvar_99] {
            out.f64(v);
        }
        Ok(())
    }
}

impl PgRecord for EquityPoint {
    const TABLE: &'static str = "equity";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "equity",
        "realized_pnl",
        "unrealized_pnl",
        "fees",
        "gross_exposure",
        "peak",
        "drawdown",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        for v in [
            self.equity,
            self.realized_pnl,
            self.unrealized_pnl,
            self.fees,
            self.gross_exposure,
            self.peak,
        ] {
            out.decimal(v)?;
        }
        out.f64(self.drawdown);
        Ok(())
    }
}

impl PgRecord for ControlEvent {
    const TABLE: &'static str = "control";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "seq",
        "mode",
        "source",
        "reason",
        "parameter",
        "value",
    ];

    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.seq, "seq")?;
        out.text(self.command.as_str());
        out.text(self.source.as_str());
        out.text(&self.reason);
        match &self.parameter {
            Some(p) => {
                out.text(&p.name);
                out.text(&p.value);
            }
            None => {
                out.null();
                out.null();
            }
        }
        Ok(())
    }
}

impl PgRecord for bot4_schemas::AuditEntry {
    const TABLE: &'static str = "audit";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "ts",
        "ts_ns",
        "seq",
        "kind",
        "payload",
        "prev_hash",
        "hash",
    ];

    /// The payload's bytes as hashed; the hashes as 64 lowercase hex digits.
    fn encode(&self, ctx: RowContext<'_>, out: &mut CopyBuf) -> Result<(), String> {
        out.row(fields::<Self>());
        out.uuid(ctx.run_id);
        out.ts(self.ts);
        out.u64(self.seq, "seq")?;
        out.text(self.kind.as_str());
        out.text(&self.payload);
        out.text(&bot4_schemas::hash_to_hex(&self.prev_hash));
        out.text(&bot4_schemas::hash_to_hex(&self.hash));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `numeric` fields of `v`: (ndigits, weight, sign, dscale, digits).
    fn numeric(v: Decimal) -> (i16, i16, u16, u16, Vec<u16>) {
        let mut buf = CopyBuf::new();
        buf.decimal(v).expect("in range");
        let b = &buf.bytes[HEADER.len()..];
        let word = |i: usize| u16::from_be_bytes([b[4 + 2 * i], b[5 + 2 * i]]);
        let len = i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let ndigits = word(0) as i16;
        assert_eq!(len, 8 + 2 * ndigits as usize);
        let digits = (0..ndigits as usize).map(|i| word(4 + i)).collect();
        (ndigits, word(1) as i16, word(2), word(3), digits)
    }

    #[test]
    fn numeric_matches_postgres_numeric_send() {
        // Values and what PostgreSQL's numeric_send gives for them as numeric(38,12).
        let d = |s: &str| s.parse::<Decimal>().expect("a decimal literal");
        assert_eq!(numeric(d("0")), (0, 0, NUMERIC_POS, 12, vec![]));
        assert_eq!(numeric(d("1")), (1, 0, NUMERIC_POS, 12, vec![1]));
        assert_eq!(numeric(d("-1.5")), (2, 0, NUMERIC_NEG, 12, vec![1, 5000]));
        assert_eq!(
            numeric(d("12345.6789")),
            (3, 1, NUMERIC_POS, 12, vec![1, 2345, 6789])
        );
        assert_eq!(
            numeric(d("0.000000000001")),
            (1, -3, NUMERIC_POS, 12, vec![1])
        );
        assert_eq!(numeric(d("0.01")), (1, -1, NUMERIC_POS, 12, vec![100]));
        assert_eq!(numeric(d("10000")), (1, 1, NUMERIC_POS, 12, vec![1]));
        // Beyond twelve places: half to even, as the Parquet columns.
        assert_eq!(
            numeric(d("0.0000000000125")),
            (1, -3, NUMERIC_POS, 12, vec![12])
        );
        assert_eq!(
            numeric(d("-1234567890123456.000000000001")),
            (7, 3, NUMERIC_NEG, 12, vec![1234, 5678, 9012, 3456, 0, 0, 1])
        );
        assert!(CopyBuf::new()
            .decimal(d("100000000000000000000000000"))
            .is_err());
    }

    #[test]
    fn timestamps_floor_to_the_microsecond() {
        let mut buf = CopyBuf::new();
        buf.ts(-1);
        let b = &buf.bytes[HEADER.len()..];
        let micros = i64::from_be_bytes(b[4..12].try_into().expect("8 bytes"));
        assert_eq!(micros, -1 - PG_EPOCH_MICROS);
        let ns = i64::from_be_bytes(b[16..24].try_into().expect("8 bytes"));
        assert_eq!(ns, -1);
    }

    #[test]
    fn unsigned_values_beyond_bigint_are_refused() {
        let mut buf = CopyBuf::new();
        assert!(buf.u64(i64::MAX as u64, "client_id").is_ok());
        let e = buf
            .u64(i64::MAX as u64 + 1, "client_id")
            .expect_err("beyond bigint");
        assert!(e.contains("client_id"), "{e}");
    }

    #[test]
    fn an_empty_batch_is_the_header_and_the_trailer() {
        assert_eq!(
            CopyBuf::new().finish(),
            [HEADER, &(-1i16).to_be_bytes()[..]].concat()
        );
    }
}
