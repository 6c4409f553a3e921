-- One-minute and one-hour OHLCV bars of each run's trades: ohlcv_1m and ohlcv_1h, with
-- columns run_id, symbol, bucket (the bar's start), open, high, low, close, volume,
-- trades. For other widths, or bars of part of a run, use sql/ohlcv.sql.
--
-- TimescaleDB: continuous aggregates, created WITH NO DATA (a continuous aggregate
-- created WITH DATA refreshes at once, which TimescaleDB refuses inside a transaction
-- or a function), real-time (materialized_only = false: buckets the refresh policy has
-- not reached yet are computed from ticks at query time; since 2.13 the default is
-- materialized only). The policies refresh the last 3 days (1m) and 7 days (1h) of wall
-- time; data loaded for older times (replays of history) shows up through real-time
-- aggregation only above the last materialized bucket, so after loading history run,
-- outside a transaction:
--     CALL refresh_continuous_aggregate('ohlcv_1m', NULL, NULL);
-- open and close are first(price, ts_ns) and last(price, ts_ns): trades of the same
-- nanosecond tie arbitrarily there.
--
-- Plain PostgreSQL: ordinary materialized views with a unique index, refreshed on
-- demand, e.g. after a run:
--     REFRESH MATERIALIZED VIEW CONCURRENTLY ohlcv_1m;
-- open and close order trades by (ts_ns, seq), exactly as the bars of the graph.

DO $$
DECLARE
    cagg   text;
    width  interval;
    policy record;
BEGIN
    FOR cagg, width IN VALUES ('ohlcv_1m', interval '1 minute'), ('ohlcv_1h', interval '1 hour') LOOP
        CONTINUE WHEN to_regclass(cagg) IS NOT NULL;
        IF bot4_storage() = 'timescaledb' THEN
            EXECUTE format($q$
                CREATE MATERIALIZED VIEW %I
                WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                SELECT run_id,
                       symbol,
                       time_bucket(interval %L, ts) AS bucket,
                       first(price, ts_ns)          AS open,
                       max(price)                   AS high,
                       min(price)                   AS low,
                       last(price, ts_ns)           AS close,
                       sum(size)                    AS volume,
                       count(*)                     AS trades
                FROM ticks
                WHERE kind = 'trade'
                GROUP BY run_id, symbol, time_bucket(interval %L, ts)
                WITH NO DATA
            $q$, cagg, width, width);
        ELSE
            EXECUTE format($q$
                CREATE MATERIALIZED VIEW %I AS
                SELECT run_id,
                       symbol,
                       time_bucket(interval %L, ts)                        AS bucket,
                       (array_agg(price ORDER BY ts_ns, seq))[1]           AS open,
                       max(price)                                          AS high,
                       min(price)                                          AS low,
                       (array_agg(price ORDER BY ts_ns DESC, seq DESC))[1] AS close,
                       sum(size)                                           AS volume,
                       count(*)                                            AS trades
                FROM ticks
                WHERE kind = 'trade'
                GROUP BY run_id, symbol, time_bucket(interval %L, ts)
                WITH DATA
            $q$, cagg, width, width);
            EXECUTE format('CREATE UNIQUE INDEX %I ON %I (run_id, symbol, bucket)',
                           cagg || '_key', cagg);
        END IF;
    END LOOP;

    IF bot4_storage() = 'timescaledb' THEN
        FOR policy IN
            SELECT * FROM (VALUES
                ('ohlcv_1m', interval '3 days', interval '1 minute', interval '1 minute'),
                ('ohlcv_1h', interval '7 days', interval '1 hour', interval '1 hour')
            ) AS p (cagg, start_offset, end_offset, schedule)
        LOOP
            EXECUTE format(
                'SELECT add_continuous_aggregate_policy(%L, start_offset => interval %L, '
                'end_offset => interval %L, schedule_interval => interval %L, '
                'if_not_exists => true)',
                policy.cagg, policy.start_offset, policy.end_offset, policy.schedule);
        END LOOP;
    END IF;
END
$$;
