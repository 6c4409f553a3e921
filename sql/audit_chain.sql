-- Audit chain: the first entry of a run's audit log that breaks its hash chain, checked
-- in SQL as `bot4 audit verify --database-url URL --run RUN_ID` checks it in Rust.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id  the run (uuid); empty: the most recently started run
--
--   psql "$DATABASE_URL" --csv -v run_id= -f sql/audit_chain.sql
--
-- Entries are taken by seq (then ts_ns); entry n must have seq n, prev_hash the previous
-- entry's hash (64 zeros for the first), and hash = bot4_audit_entry_hash(prev_hash, seq,
-- ts_ns, kind, payload). The run's recorded head (runs.summary->'audit': entries and
-- head) shows a removed tail, which the chain alone cannot.
-- No row when the chain is intact; otherwise one:
--   entry, seq, reason        the first broken entry (entry from 1) and what is wrong
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id
),
entries AS (
    SELECT row_number() OVER w AS entry,
           a.seq,
           a.prev_hash,
           a.hash,
           coalesce(lag(a.hash) OVER w, repeat('0', 64)) AS expected_prev,
           bot4_audit_entry_hash(a.prev_hash, a.seq, a.ts_ns, a.kind, a.payload) AS recomputed
      FROM audit a, params p
     WHERE a.run_id = p.run_id
    WINDOW w AS (ORDER BY a.seq, a.ts_ns)
)
SELECT entry,
       seq,
       CASE
           WHEN seq <> entry THEN 'seq ' || seq || ' where ' || entry || ' belongs'
           WHEN prev_hash <> expected_prev THEN 'prev_hash is not the previous entry''s hash'
           ELSE 'hash does not match its contents'
       END AS reason
  FROM entries
 WHERE seq <> entry OR prev_hash <> expected_prev OR hash <> recomputed
 ORDER BY entry
 LIMIT 1;
