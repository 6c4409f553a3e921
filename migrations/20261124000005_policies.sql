-- Compression and retention, from bot4_series (defaults set by bot4_create_series in
-- 20261124000003_series.sql):
--
-- * compression: every time-series table, segment_by its bot4_series.segment_by
--   ('run_id, symbol', or 'run_id' for equity and control), order_by its order_by, of
--   chunks older than 7 days;
-- * retention: ticks after 90 days; bar_features and signals after 365 days; orders,
--   reports, fills, positions, equity and control are kept (they are the record of
--   what was traded).
--
-- Both policies compare a chunk's *event* times with the wall clock: a replay of
-- history older than drop_after is dropped by the next retention run. For a database of
-- backtests, set drop_after to NULL and re-apply:
--     UPDATE bot4_series SET drop_after = NULL;  SELECT bot4_apply_policies();
-- Inserting into compressed chunks needs TimescaleDB 2.11 or later (earlier versions
-- refuse it when the table has a unique key).
--
-- Plain PostgreSQL has neither: bot4_apply_policies() says so and does nothing (drop an
-- old daily partition with DROP TABLE ticks_pYYYYMMDD).

CREATE OR REPLACE FUNCTION bot4_apply_policies() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    IF bot4_storage() <> 'timescaledb' THEN
        RAISE NOTICE 'bot4: compression and retention policies need TimescaleDB; none applied';
        RETURN;
    END IF;
    FOR s IN SELECT * FROM bot4_series ORDER BY table_name LOOP
        -- The settings cannot change once chunks are compressed: they are set once.
        IF NOT (SELECT h.compression_enabled
                  FROM timescaledb_information.hypertables h
                 WHERE h.hypertable_name = s.table_name
                   AND h.hypertable_schema = current_schema()) THEN
            EXECUTE format(
                'ALTER TABLE %I SET (timescaledb.compress, '
                'timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)',
                s.table_name, s.segment_by, s.order_by);
        END IF;
        -- Removed and added again, so that a changed interval takes effect.
        EXECUTE format('SELECT remove_compression_policy(%L, if_exists => true)', s.table_name);
        IF s.compress_after IS NOT NULL THEN
            EXECUTE format('SELECT add_compression_policy(%L, compress_after => interval %L)',
                           s.table_name, s.compress_after);
        END IF;
        EXECUTE format('SELECT remove_retention_policy(%L, if_exists => true)', s.table_name);
        IF s.drop_after IS NOT NULL THEN
            EXECUTE format('SELECT add_retention_policy(%L, drop_after => interval %L)',
                           s.table_name, s.drop_after);
        END IF;
    END LOOP;
END
$$;

SELECT bot4_apply_policies();
