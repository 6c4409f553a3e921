-- Order types, times in force and the reasons an order ends early.
--
-- orders: kind adds 'stop' (stop-market) and 'take_profit' (take-profit market), whose
--   trigger price is `trigger` (NULL for the others); tif is 'gtc', 'ioc', 'fok' or
--   'post_only'; reduce_only asks the venue to fill only what reduces its position;
--   oco is the client id of the one-cancels-other partner (0: none).
-- reports: status adds 'triggered' (a stop or take-profit reached its trigger);
--   reason says why an order was rejected or ended early ('rate_limited',
--   'venue_unavailable', 'post_only', 'fill_or_kill', 'immediate_or_cancel',
--   'reduce_only', 'self_trade', 'oco', 'exchange_filter', 'safety_gate', 'duplicate',
--   or a pre-trade risk check 'risk_…'); received_ns is when the strategy learnt of the
--   report (its venue time plus the acknowledgement latency).
-- signals: edge, the expected annualised return the sizing bets on.
-- Rows written before this migration have the defaults (or NULL received_ns / edge).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS trigger numeric(38,12);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS tif text NOT NULL DEFAULT 'gtc';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS reduce_only boolean NOT NULL DEFAULT false;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS oco bigint NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE reports ADD COLUMN IF NOT EXISTS received_ns bigint;
ALTER TABLE signals ADD COLUMN IF NOT EXISTS edge double precision;

DO $$
DECLARE
    old_check text;
BEGIN
    -- The kind and status CHECKs from the tables' creation, whatever PostgreSQL named them.
    FOR old_check IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'orders'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%kind%limit%'
          AND conname <> 'orders_kind_known'
    LOOP
        EXECUTE format('ALTER TABLE orders DROP CONSTRAINT %I', old_check);
    END LOOP;
    FOR old_check IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'reports'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%status%accepted%'
          AND conname <> 'reports_status_known'
    LOOP
        EXECUTE format('ALTER TABLE reports DROP CONSTRAINT %I', old_check);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_kind_known') THEN
        ALTER TABLE orders ADD CONSTRAINT orders_kind_known CHECK (kind IN
            ('market', 'limit', 'stop', 'take_profit'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_tif_known') THEN
        ALTER TABLE orders ADD CONSTRAINT orders_tif_known CHECK (tif IN
            ('gtc', 'ioc', 'fok', 'post_only'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_oco_known') THEN
        ALTER TABLE orders ADD CONSTRAINT orders_oco_known CHECK (oco >= 0);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'reports_status_known') THEN
        ALTER TABLE reports ADD CONSTRAINT reports_status_known CHECK (status IN
            ('submitted', 'accepted', 'triggered', 'partially_filled', 'filled',
             'cancelled', 'expired', 'rejected'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'reports_reason_known') THEN
        ALTER TABLE reports ADD CONSTRAINT reports_reason_known CHECK (reason IN
            ('rate_limited', 'venue_unavailable', 'post_only', 'fill_or_kill',
             'immediate_or_cancel', 'reduce_only', 'self_trade', 'oco', 'exchange_filter',
             'safety_gate', 'duplicate', 'risk_position_limit', 'risk_concentration',
             'risk_portfolio_heat', 'risk_correlation', 'risk_order_rate',
             'risk_price_band', 'risk_leverage', 'risk_filter', 'risk_missing_state'));
    END IF;
END
$$;

-- A control event may also come from the capital tiers: a `set` of `risk.tier` when the
-- equity moves the account to another tier.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'control_source_known') THEN
        ALTER TABLE control DROP CONSTRAINT control_source_known;
    END IF;
    ALTER TABLE control ADD CONSTRAINT control_source_known CHECK (source IN
        ('file', 'admin', 'kill_file', 'signal', 'kill_switch', 'drawdown',
         'circuit_breaker', 'stale_data', 'clock_skew', 'capital_tier'));
END
$$;

-- The book's risk at the end of each epoch with a position: one row per symbol held
-- and one for the portfolio (symbol NULL). exposure is the signed notional (the
-- portfolio's: gross), risk_at_stop the loss to the stop (the portfolio's: its heat);
-- sigma is one day's standard deviation of the profit in quote currency, dof the
-- Student-t tail's degrees of freedom ('Infinity' for normal tails), var_99 and cvar_99
-- one day's value at risk and expected shortfall at 99% (losses positive).
SELECT bot4_create_series('risk', $cols$
    run_id       uuid             NOT NULL,
    ts           timestamptz      NOT NULL,
    ts_ns        bigint           NOT NULL,
    symbol       text COLLATE "C",
    exposure     numeric(38,12)   NOT NULL,
    risk_at_stop numeric(38,12)   NOT NULL,
    sigma        double precision NOT NULL,
    dof          double precision NOT NULL,
    var_99       double precision NOT NULL,
    cvar_99      double precision NOT NULL,
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT risk_key UNIQUE NULLS NOT DISTINCT (run_id, symbol, ts)
$cols$, 'run_id, symbol', 'ts');

-- The risk table takes the compression policy like the others (TimescaleDB only).
SELECT bot4_apply_policies();
