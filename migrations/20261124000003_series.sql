-- The time-series tables: one per record type Bot4 writes to Parquet, with the columns
-- of its Arrow schema (schemas/src/arrow/records.rs) and these conventions:
--
-- * run_id: the run (runs.run_id) that produced the row.
-- * ts timestamptz is the partitioning column; PostgreSQL keeps microseconds, so ts_ns
--   bigint keeps the exact Unix nanoseconds and ts = bot4_ts(ts_ns) is checked. Order
--   and compare by ts_ns when nanoseconds matter.
-- * symbol is text COLLATE "C": symbols are ASCII names, and in the unique keys a
--   byte comparison costs far less than the database locale's collation.
-- * Money and quantities: numeric(38,12), as decimal(38,12) in Arrow. f64: double
--   precision. Enumerations: text with a CHECK of the values the Arrow writer emits.
-- * u64 and u32 become bigint: seq (the place in a run's input) and epoch are far
--   below 2^63; client_id is (symbol id << 40) | counter, below 2^63 while symbol ids
--   stay below 2^23, so the sink must refuse a larger one rather than wrap.
-- * A unique key (including ts, as partitioned tables and hypertables require) names
--   what identifies a row within a run, so that a re-sent row is a no-op under
--   INSERT ... ON CONFLICT DO NOTHING. Every column of the key is a TimescaleDB
--   compression segment_by or order_by column.

SELECT bot4_create_series('ticks', $cols$
    run_id    uuid          NOT NULL,
    ts        timestamptz   NOT NULL,
    ts_ns     bigint        NOT NULL,
    seq       bigint        NOT NULL CHECK (seq >= 0),
    symbol    text COLLATE "C" NOT NULL,
    kind      text          NOT NULL CHECK (kind IN ('trade', 'quote')),
    price     numeric(38,12),
    size      numeric(38,12),
    side      text          CHECK (side IN ('buy', 'sell')),
    bid_price numeric(38,12),
    bid_size  numeric(38,12),
    ask_price numeric(38,12),
    ask_size  numeric(38,12),
    CHECK (ts = bot4_ts(ts_ns)),
    CHECK (kind <> 'trade' OR (price IS NOT NULL AND size IS NOT NULL)),
    CHECK (kind <> 'quote' OR (bid_price IS NOT NULL AND bid_size IS NOT NULL
                               AND ask_price IS NOT NULL AND ask_size IS NOT NULL)),
    CONSTRAINT ticks_key UNIQUE (run_id, symbol, ts, seq)
$cols$, 'run_id, symbol', 'ts, seq', p_drop_after => interval '90 days');

-- Each closed bar; ts is the bar's start (`start` in Arrow), end_ts its end (`end`).
SELECT bot4_create_series('bar_features', $cols$
    run_id                uuid             NOT NULL,
    ts                    timestamptz      NOT NULL,
    ts_ns                 bigint           NOT NULL,
    end_ts                timestamptz      NOT NULL,
    end_ns                bigint           NOT NULL,
    symbol                text COLLATE "C" NOT NULL,
    open                  numeric(38,12)   NOT NULL,
    high                  numeric(38,12)   NOT NULL,
    low                   numeric(38,12)   NOT NULL,
    close                 numeric(38,12)   NOT NULL,
    volume                numeric(38,12)   NOT NULL,
    trades                bigint           NOT NULL,
    log_return            double precision NOT NULL,
    volatility            double precision NOT NULL,
    count                 bigint           NOT NULL,
    warm                  boolean          NOT NULL,
    input_rsi             double precision NOT NULL,
    input_macd            double precision NOT NULL,
    input_zscore          double precision NOT NULL,
    input_stoch           double precision NOT NULL,
    input_cci             double precision NOT NULL,
    input_di_spread       double precision NOT NULL,
    input_return_over_vol double precision NOT NULL,
    input_trade_imbalance double precision NOT NULL,
    CHECK (ts = bot4_ts(ts_ns)),
    CHECK (end_ts = bot4_ts(end_ns)),
    CONSTRAINT bar_features_key UNIQUE (run_id, symbol, ts)
$cols$, 'run_id, symbol', 'ts', p_drop_after => interval '365 days');

-- At most one signal per tick: seq is the tick's.
SELECT bot4_create_series('signals', $cols$
    run_id     uuid             NOT NULL,
    ts         timestamptz      NOT NULL,
    ts_ns      bigint           NOT NULL,
    seq        bigint           NOT NULL CHECK (seq >= 0),
    symbol     text COLLATE "C" NOT NULL,
    direction  smallint         NOT NULL CHECK (direction BETWEEN -1 AND 1),
    strength   double precision NOT NULL,
    confidence double precision NOT NULL,
    volatility double precision NOT NULL,
    bid        numeric(38,12)   NOT NULL,
    ask        numeric(38,12)   NOT NULL,
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT signals_key UNIQUE (run_id, symbol, ts, seq)
$cols$, 'run_id, symbol', 'ts, seq', p_drop_after => interval '365 days');

-- An order's `new` and its `cancel` share the client_id. price is NULL for market
-- orders; expire_ns is the Unix nanosecond at which a resting order expires
-- (9223372036854775807, i64::MAX: never).
SELECT bot4_create_series('orders', $cols$
    run_id           uuid           NOT NULL,
    ts               timestamptz    NOT NULL,
    ts_ns            bigint         NOT NULL,
    client_id        bigint         NOT NULL CHECK (client_id >= 0),
    symbol           text COLLATE "C" NOT NULL,
    action           text           NOT NULL CHECK (action IN ('new', 'cancel')),
    side             text           NOT NULL CHECK (side IN ('buy', 'sell')),
    kind             text           NOT NULL CHECK (kind IN ('market', 'limit')),
    price            numeric(38,12),
    qty              numeric(38,12) NOT NULL,
    expire_ns        bigint         NOT NULL,
    reduces_exposure boolean        NOT NULL,
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT orders_key UNIQUE (run_id, client_id, action, ts)
$cols$, 'run_id, symbol', 'ts, client_id, action');

-- event: the order's own event counter, so (client_id, event) names one report.
SELECT bot4_create_series('reports', $cols$
    run_id     uuid           NOT NULL,
    ts         timestamptz    NOT NULL,
    ts_ns      bigint         NOT NULL,
    client_id  bigint         NOT NULL CHECK (client_id >= 0),
    symbol     text COLLATE "C" NOT NULL,
    side       text           NOT NULL CHECK (side IN ('buy', 'sell')),
    status     text           NOT NULL CHECK (status IN ('submitted', 'accepted',
                   'partially_filled', 'filled', 'cancelled', 'expired', 'rejected')),
    fill_qty   numeric(38,12) NOT NULL,
    fill_price numeric(38,12) NOT NULL,
    fee        numeric(38,12) NOT NULL,
    liquidity  text           CHECK (liquidity IN ('maker', 'taker')),
    leaves_qty numeric(38,12) NOT NULL,
    event      bigint         NOT NULL CHECK (event >= 0),
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT reports_key UNIQUE (run_id, client_id, event, ts)
$cols$, 'run_id, symbol', 'ts, client_id, event');

SELECT bot4_create_series('fills', $cols$
    run_id    uuid           NOT NULL,
    ts        timestamptz    NOT NULL,
    ts_ns     bigint         NOT NULL,
    client_id bigint         NOT NULL CHECK (client_id >= 0),
    symbol    text COLLATE "C" NOT NULL,
    side      text           NOT NULL CHECK (side IN ('buy', 'sell')),
    price     numeric(38,12) NOT NULL,
    qty       numeric(38,12) NOT NULL,
    fee       numeric(38,12) NOT NULL,
    liquidity text           NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    event     bigint         NOT NULL CHECK (event >= 0),
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT fills_key UNIQUE (run_id, client_id, event, ts)
$cols$, 'run_id, symbol', 'ts, client_id, event');

-- One snapshot per symbol and epoch with activity. ts is the time of the position's
-- last fill or mark, which a later epoch repeats when only a report without a fill
-- touched the symbol, so the key needs the epoch (the sink's timely epoch, not in the
-- Arrow schema).
SELECT bot4_create_series('positions', $cols$
    run_id         uuid           NOT NULL,
    ts             timestamptz    NOT NULL,
    ts_ns          bigint         NOT NULL,
    epoch          bigint         NOT NULL CHECK (epoch >= 0),
    symbol         text COLLATE "C" NOT NULL,
    qty            numeric(38,12) NOT NULL,
    avg_price      numeric(38,12) NOT NULL,
    mark           numeric(38,12) NOT NULL,
    cash           numeric(38,12) NOT NULL,
    realized_pnl   numeric(38,12) NOT NULL,
    unrealized_pnl numeric(38,12) NOT NULL,
    fees           numeric(38,12) NOT NULL,
    fills          bigint         NOT NULL CHECK (fills >= 0),
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT positions_key UNIQUE (run_id, symbol, epoch, ts)
$cols$, 'run_id, symbol', 'ts, epoch');

-- One point per epoch with activity, at the epoch's end.
SELECT bot4_create_series('equity', $cols$
    run_id         uuid             NOT NULL,
    ts             timestamptz      NOT NULL,
    ts_ns          bigint           NOT NULL,
    equity         numeric(38,12)   NOT NULL,
    realized_pnl   numeric(38,12)   NOT NULL,
    unrealized_pnl numeric(38,12)   NOT NULL,
    fees           numeric(38,12)   NOT NULL,
    gross_exposure numeric(38,12)   NOT NULL,
    peak           numeric(38,12)   NOT NULL,
    drawdown       double precision NOT NULL,
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT equity_key UNIQUE (run_id, ts)
$cols$, 'run_id', 'ts');

-- Control commands as the graph applied them; seq orders those of the same time.
SELECT bot4_create_series('control', $cols$
    run_id uuid        NOT NULL,
    ts     timestamptz NOT NULL,
    ts_ns  bigint      NOT NULL,
    seq    bigint      NOT NULL CHECK (seq >= 0),
    mode   text        NOT NULL CHECK (mode IN ('normal', 'pause', 'reduce', 'emergency', 'reset')),
    reason text        NOT NULL,
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT control_key UNIQUE (run_id, ts, seq)
$cols$, 'run_id', 'ts, seq');

-- The access paths of the queries in sql/: a symbol's rows of a run in time order
-- (OHLCV, quote look-ups, signal evaluation, PnL) and an order's reports and fills.
-- For ticks and signals, the unique key (run_id, symbol, ts, seq) is that path: one
-- index a row rather than two, which is a third of the sink's ingest rate for ticks.
CREATE INDEX IF NOT EXISTS bar_features_ts ON bar_features (run_id, ts);
CREATE INDEX IF NOT EXISTS orders_symbol_ts ON orders (run_id, symbol, ts);
CREATE INDEX IF NOT EXISTS reports_symbol_ts ON reports (run_id, symbol, ts);
CREATE INDEX IF NOT EXISTS fills_symbol_ts ON fills (run_id, symbol, ts);
CREATE INDEX IF NOT EXISTS positions_symbol_ts ON positions (run_id, symbol, ts);
