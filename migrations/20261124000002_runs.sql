-- Runs, the ledger that makes the sink's writes idempotent, and the audit log.
-- Plain tables on both storage paths: they are small, and the audit log's hash chain
-- needs one global order.

-- One row per replay or live session. Every time-series row carries its run_id (no
-- foreign key there: a per-row check would cost the sink's COPY throughput).
CREATE TABLE IF NOT EXISTS runs (
    run_id   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    started  timestamptz NOT NULL DEFAULT now(),
    finished timestamptz,
    config   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    input    text,
    workers  integer     CHECK (workers > 0),
    status   text        NOT NULL DEFAULT 'running'
             CHECK (status IN ('running', 'finished', 'failed', 'aborted')),
    summary  jsonb,
    CHECK (finished IS NULL OR finished >= started)
);

CREATE INDEX IF NOT EXISTS runs_started ON runs (started DESC);

-- The sink's ledger: one row per batch it has committed, written in the same
-- transaction as the batch's rows. A batch is the rows of one table that one worker
-- (`part`, its index in the job) received in epochs first_epoch..=last_epoch; the sink
-- inserts its ledger row first and skips the batch whole when the row exists, so a
-- batch re-sent after a lost acknowledgement is never written twice. `rows` is what the
-- batch held, for reconciliation.
CREATE TABLE IF NOT EXISTS run_epochs (
    run_id      uuid        NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    table_name  text        NOT NULL REFERENCES bot4_series (table_name),
    part        integer     NOT NULL CHECK (part >= 0),
    first_epoch bigint      NOT NULL CHECK (first_epoch >= 0),
    last_epoch  bigint      NOT NULL CHECK (last_epoch >= first_epoch),
    rows        bigint      NOT NULL CHECK (rows >= 0),
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, table_name, part, first_epoch)
);

-- The instruments a run traded, with the exchange filters it applied: what a replay
-- from the database needs besides the ticks.
CREATE TABLE IF NOT EXISTS run_instruments (
    run_id       uuid           NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    symbol       text           NOT NULL,
    tick_size    numeric(38,12) NOT NULL CHECK (tick_size > 0),
    lot_size     numeric(38,12) NOT NULL CHECK (lot_size > 0),
    min_notional numeric(38,12) NOT NULL CHECK (min_notional >= 0),
    PRIMARY KEY (run_id, symbol)
);

-- Append-only, hash-chained record of what the system did and why (control commands,
-- configuration changes, operator actions). A trigger fills prev_hash and hash:
--   hash = sha256(prev_hash || convert_to(seq || '|' || ts_ns || '|' || kind || '|' || payload::text, 'UTF8'))
-- with prev_hash the previous row's hash (32 zero bytes before the first row), so any
-- edit of a past row breaks every later hash. seq starts at 1 and has no gaps; a row
-- re-sent with an existing seq gets that row's hashes (so INSERT ... ON CONFLICT DO
-- NOTHING makes it a no-op). Updates and deletes are refused.
CREATE TABLE IF NOT EXISTS audit_log (
    seq       bigint      PRIMARY KEY CHECK (seq > 0),
    ts        timestamptz NOT NULL,
    ts_ns     bigint      NOT NULL,
    run_id    uuid,
    kind      text        NOT NULL,
    payload   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    prev_hash bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash      bytea       NOT NULL UNIQUE CHECK (length(hash) = 32),
    CHECK (ts = bot4_ts(ts_ns))
);

CREATE OR REPLACE FUNCTION bot4_audit_hash(prev_hash bytea, seq bigint, ts_ns bigint,
                                           kind text, payload jsonb)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT sha256(prev_hash || convert_to(seq || '|' || ts_ns || '|' || kind || '|'
                                          || payload::text, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION bot4_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last     audit_log%ROWTYPE;
    existing audit_log%ROWTYPE;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
    END IF;
    -- One writer at a time, so that two inserts cannot chain onto the same row.
    PERFORM pg_advisory_xact_lock(hashtext('bot4_audit_log'));
    SELECT * INTO existing FROM audit_log WHERE seq = NEW.seq;
    IF FOUND THEN
        NEW.prev_hash := existing.prev_hash;
        NEW.hash := existing.hash;
        RETURN NEW;
    END IF;
    SELECT * INTO last FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.seq <> coalesce(last.seq, 0) + 1 THEN
        RAISE EXCEPTION 'audit_log seq % does not follow %', NEW.seq, coalesce(last.seq, 0);
    END IF;
    NEW.prev_hash := coalesce(last.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    NEW.hash := bot4_audit_hash(NEW.prev_hash, NEW.seq, NEW.ts_ns, NEW.kind, NEW.payload);
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS audit_log_chain ON audit_log;
CREATE TRIGGER audit_log_chain
    BEFORE INSERT OR UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION bot4_audit_chain();

DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION bot4_audit_chain();
