-- The audit trail of each run: every control event, mode change and parameter change,
-- hash-chained as the run wrote it (operators/src/audit.rs):
--   hash = sha256(prev_hash || convert_to(seq || '|' || ts_ns || '|' || kind || '|' || payload, 'UTF8'))
-- with prev_hash the previous entry's hash (32 zero bytes before seq 1), the formula of
-- bot4_audit_hash. Unlike audit_log, the run computes the hashes and the table stores
-- them; payload is text, not jsonb, so that the stored bytes are the hashed bytes, and
-- the hashes are 64 lowercase hex digits, as in the run's Parquet (and as export writes
-- them). `bot4 audit verify --database-url URL --run RUN` checks a run's chain.
--
-- Append-only: updates, deletes and truncation are refused, and the table is never
-- compressed or dropped by retention (bot4_series.append_only). The unique key must
-- include ts (partitioned tables and hypertables require it): one seq at two times would
-- pass the key, not the verifier.

SELECT bot4_create_series('audit', $cols$
    run_id    uuid        NOT NULL,
    ts        timestamptz NOT NULL,
    ts_ns     bigint      NOT NULL,
    seq       bigint      NOT NULL CHECK (seq > 0),
    kind      text        NOT NULL CHECK (kind IN ('control', 'mode_change', 'parameter_change')),
    payload   text        NOT NULL,
    prev_hash text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash      text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    CHECK (ts = bot4_ts(ts_ns)),
    CONSTRAINT audit_key UNIQUE (run_id, seq, ts)
$cols$, 'run_id', 'seq, ts', p_compress_after => NULL, p_drop_after => NULL);

-- Tables whose rows are a record that must stay whole: no compression (which rewrites
-- chunks), no retention (which drops them).
ALTER TABLE bot4_series ADD COLUMN IF NOT EXISTS append_only boolean NOT NULL DEFAULT false;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'bot4_series_append_only_kept') THEN
        ALTER TABLE bot4_series ADD CONSTRAINT bot4_series_append_only_kept
            CHECK (NOT append_only OR (compress_after IS NULL AND drop_after IS NULL));
    END IF;
END
$$;

UPDATE bot4_series SET append_only = true, compress_after = NULL, drop_after = NULL
 WHERE table_name = 'audit';

-- An entry's hash as the run computes it, in hex, to check the chain in SQL:
--   SELECT seq FROM audit a WHERE run_id = … AND hash <> bot4_audit_entry_hash(
--       prev_hash, seq, ts_ns, kind, payload) ORDER BY seq LIMIT 1;
CREATE OR REPLACE FUNCTION bot4_audit_entry_hash(prev_hash text, seq bigint, ts_ns bigint,
                                                 kind text, payload text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT encode(sha256(decode(prev_hash, 'hex')
                         || convert_to(seq || '|' || ts_ns || '|' || kind || '|' || payload,
                                       'UTF8')), 'hex')
$$;

-- Refuses every change but an insert. The one exception is bot4_ensure_partitions
-- moving a day's rows out of the default partition into the day's new partition (a
-- DELETE and an INSERT of the same rows), which it announces with bot4.moving_rows for
-- the move's duration. That setting is no lock against someone who means to tamper:
-- the hash chain is what shows tampering. The argument names the table in messages
-- (the trigger fires on its partitions or chunks).
CREATE OR REPLACE FUNCTION bot4_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW'
       AND current_setting('bot4.moving_rows', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only (% refused)', TG_ARGV[0], TG_OP;
END
$$;

DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only
    BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION bot4_append_only('audit');

DROP TRIGGER IF EXISTS audit_no_truncate ON audit;
CREATE TRIGGER audit_no_truncate
    BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION bot4_append_only('audit');

-- As in 20261124000001_storage.sql, but announcing the move of rows out of the default
-- partition (see bot4_append_only).
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
            PERFORM set_config('bot4.moving_rows', 'on', true);
            EXECUTE format(
                'WITH moved AS (DELETE FROM %I WHERE ts >= %L AND ts < %L RETURNING *) '
                'INSERT INTO %I SELECT * FROM moved',
                series.table_name || '_default', lo, hi, part);
            PERFORM set_config('bot4.moving_rows', 'off', true);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           series.table_name, part, lo, hi);
            created := created + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

-- As in 20261124000005_policies.sql, but an append-only table gets neither compression
-- nor retention (and loses any policy it had).
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
        EXECUTE format('SELECT remove_compression_policy(%L, if_exists => true)', s.table_name);
        EXECUTE format('SELECT remove_retention_policy(%L, if_exists => true)', s.table_name);
        CONTINUE WHEN s.append_only;
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
        -- Removed above and added again, so that a changed interval takes effect.
        IF s.compress_after IS NOT NULL THEN
            EXECUTE format('SELECT add_compression_policy(%L, compress_after => interval %L)',
                           s.table_name, s.compress_after);
        END IF;
        IF s.drop_after IS NOT NULL THEN
            EXECUTE format('SELECT add_retention_policy(%L, drop_after => interval %L)',
                           s.table_name, s.drop_after);
        END IF;
    END LOOP;
END
$$;

SELECT bot4_apply_policies();
