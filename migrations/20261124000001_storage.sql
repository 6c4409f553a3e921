-- Storage: decide once whether the time-series tables are TimescaleDB hypertables or
-- plain PostgreSQL range-partitioned tables, and define what both paths share.
--
-- The decision is kept in bot4_meta ('storage' = 'timescaledb' or 'partitioned') so that
-- every later migration, and every re-run of this one, takes the same path even if
-- TimescaleDB is installed later (moving an existing database between the paths is a
-- data migration, not something a schema migration does silently).
--
-- Every statement here may run inside a transaction (sqlx runs each file in one).

CREATE TABLE IF NOT EXISTS bot4_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

DO $$
DECLARE
    available boolean;
    preloaded boolean;
    chosen    text;
BEGIN
    SELECT value INTO chosen FROM bot4_meta WHERE key = 'storage';
    IF chosen IS NULL THEN
        SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
          INTO available;
        -- CREATE EXTENSION timescaledb fails unless the library is preloaded.
        preloaded := coalesce(current_setting('shared_preload_libraries', true), '')
                     LIKE '%timescaledb%';
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
            chosen := 'timescaledb';
        ELSIF available AND preloaded THEN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
            chosen := 'timescaledb';
        ELSE
            IF available THEN
                RAISE WARNING 'bot4: the timescaledb extension is installed but not in '
                    'shared_preload_libraries; falling back to plain PostgreSQL'
                    USING HINT = 'add timescaledb to shared_preload_libraries, restart, '
                                 'and migrate an empty database to get hypertables';
            END IF;
            chosen := 'partitioned';
        END IF;
        INSERT INTO bot4_meta (key, value) VALUES ('storage', chosen);
    END IF;
    IF chosen = 'timescaledb' THEN
        RAISE NOTICE 'bot4 storage: TimescaleDB % (hypertables, compression, retention, continuous aggregates)',
            (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb');
    ELSE
        RAISE NOTICE 'bot4 storage: plain PostgreSQL % (daily range partitions with a default partition, materialized views, time_bucket through date_bin)',
            current_setting('server_version');
    END IF;
END
$$;

-- 'timescaledb' or 'partitioned'.
CREATE OR REPLACE FUNCTION bot4_storage() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT value FROM bot4_meta WHERE key = 'storage'
$$;

-- The timestamptz of a nanosecond Unix time, truncated to PostgreSQL's microsecond
-- (floor, so that ts <= the exact time always holds). Every time-series table keeps
-- the exact nanoseconds in ts_ns beside ts and checks ts = bot4_ts(ts_ns).
-- Written with immutable operators only (timestamp + interval, then AT TIME ZONE 'UTC';
-- timestamptz + interval is merely stable), so that PostgreSQL inlines it: as a
-- function call it costs a sixth of a COPY's throughput in every table's CHECK.
CREATE OR REPLACE FUNCTION bot4_ts(ns bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (timestamp '1970-01-01 00:00:00'
            + interval '1 microsecond' * ((ns - ((ns % 1000) + 1000) % 1000) / 1000))
           AT TIME ZONE 'UTC'
$$;

-- Without TimescaleDB, its two-argument time_bucket for timestamptz, through date_bin
-- with TimescaleDB's default origin (Monday 2000-01-03 00:00 UTC, for buckets without
-- months), so that the queries in sql/ are written once. date_bin takes no months or
-- years: such buckets need TimescaleDB.
DO $$
BEGIN
    IF bot4_storage() = 'partitioned' THEN
        CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz)
        RETURNS timestamptz
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $f$
            SELECT date_bin(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00')
        $f$;
    END IF;
END
$$;

-- The time-series tables and what their storage does with them. segment_by and
-- order_by are TimescaleDB's compression settings (every column of the table's unique
-- key is in one of them, as TimescaleDB requires); compress_after and drop_after are
-- its compression and retention policies (NULL: none). Edit a row and call
-- bot4_apply_policies() to change them.
CREATE TABLE IF NOT EXISTS bot4_series (
    table_name     text PRIMARY KEY,
    segment_by     text NOT NULL,
    order_by       text NOT NULL,
    compress_after interval,
    drop_after     interval
);

-- Create time-series table `p_table` with `p_columns` (a CREATE TABLE body that has ts
-- timestamptz NOT NULL and a unique key including ts) and register it in bot4_series:
-- a hypertable with one-day chunks under TimescaleDB, otherwise a table partitioned by
-- RANGE (ts) with a DEFAULT partition `p_table`_default, so that an insert never fails for
-- want of a partition (bot4_ensure_partitions creates the daily ones). Idempotent.
CREATE OR REPLACE FUNCTION bot4_create_series(
    p_table text,
    p_columns text,
    p_segment_by text,
    p_order_by text,
    p_compress_after interval DEFAULT interval '7 days',
    p_drop_after interval DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF bot4_storage() = 'timescaledb' THEN
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I (%s)', p_table, p_columns);
        EXECUTE format(
            'SELECT create_hypertable(%L, %L, chunk_time_interval => interval %L, '
            'if_not_exists => true, create_default_indexes => false)',
            p_table, 'ts', '1 day');
    ELSE
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I (%s) PARTITION BY RANGE (ts)',
                       p_table, p_columns);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I DEFAULT',
                       p_table || '_default', p_table);
    END IF;
    INSERT INTO bot4_series (table_name, segment_by, order_by, compress_after, drop_after)
    VALUES (p_table, p_segment_by, p_order_by, p_compress_after, p_drop_after)
    ON CONFLICT DO NOTHING;
END
$$;

-- Plain PostgreSQL: create the daily partitions [day, day + 1 day) (UTC) of every
-- time-series table for the days that [from_ts, to_ts) touches, moving any rows the
-- default partition holds for those days into them. Returns the number of partitions
-- created. A no-op under TimescaleDB, whose chunks appear by themselves. Safe to call
-- concurrently and repeatedly; call it before writing a day's rows: if another
-- transaction commits rows of a day into the default partition while this one creates
-- that day's partition, the ATTACH fails and the call must be retried.
CREATE OR REPLACE FUNCTION bot4_ensure_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    series  record;
    d       date;
    lo      timestamptz;
    hi      timestamptz;
    part    text;
    created integer := 0;
BEGIN
    IF bot4_storage() <> 'partitioned' OR from_ts >= to_ts THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('bot4_ensure_partitions'));
    FOR series IN SELECT table_name FROM bot4_series ORDER BY table_name LOOP
        FOR d IN
            SELECT generate_series((from_ts AT TIME ZONE 'UTC')::date,
                                   ((to_ts - interval '1 microsecond') AT TIME ZONE 'UTC')::date,
                                   interval '1 day')::date
        LOOP
            part := format('%s_p%s', series.table_name, to_char(d, 'YYYYMMDD'));
            CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
            lo := d::timestamp AT TIME ZONE 'UTC';
            hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           part, series.table_name);
            EXECUTE format(
                'WITH moved AS (DELETE FROM %I WHERE ts >= %L AND ts < %L RETURNING *) '
                'INSERT INTO %I SELECT * FROM moved',
                series.table_name || '_default', lo, hi, part);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           series.table_name, part, lo, hi);
            created := created + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;
