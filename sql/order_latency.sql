-- Order latency: from the moment an order was decided to its first acknowledgement
-- and to its first fill.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id  the run (uuid); empty: the most recently started run
--   symbol  one symbol; empty: every symbol
--   start   first order time included (timestamptz); empty: the beginning
--   end     first order time excluded (timestamptz); empty: the end
--
--   psql "$DATABASE_URL" --csv -v run_id= -v symbol= -v start= -v end= \
--        -f sql/order_latency.sql
--
-- The acknowledgement is the order's first report other than `submitted` (which the
-- risk gate writes at the order's own time): accepted, filled, rejected, ... Latencies
-- are exact, from the nanosecond times, in microseconds (3 decimals); empty when the
-- order has no such report or fill. Aggregate them as needed, e.g. wrap the query in
-- SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ack_us) FROM (...) q.
-- One row per `new` order, in time order:
--   ts, symbol, client_id, side, kind, qty   the order
--   ack_status, ack_ts, ack_us               its first acknowledgement and its latency
--   fill_ts, fill_us                         its first fill and its latency
--   filled_qty                               quantity filled in all
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id,
           nullif(:'symbol', '')                                                    AS symbol,
           coalesce(nullif(:'start', '')::timestamptz, '-infinity')                 AS start_ts,
           coalesce(nullif(:'end', '')::timestamptz, 'infinity')                    AS end_ts
)
SELECT o.ts,
       o.symbol,
       o.client_id,
       o.side,
       o.kind,
       o.qty,
       a.status                                      AS ack_status,
       a.ts                                          AS ack_ts,
       round((a.ts_ns - o.ts_ns) / 1000.0, 3)        AS ack_us,
       fl.first_ts                                   AS fill_ts,
       round((fl.first_ns - o.ts_ns) / 1000.0, 3)    AS fill_us,
       coalesce(fl.qty, 0)                           AS filled_qty
FROM orders o
JOIN params p ON o.run_id = p.run_id
LEFT JOIN LATERAL (
    SELECT r.status, r.ts, r.ts_ns
    FROM reports r
    WHERE r.run_id = o.run_id
      AND r.client_id = o.client_id
      AND r.status <> 'submitted'
    ORDER BY r.ts_ns, r.event
    LIMIT 1
) a ON true
LEFT JOIN LATERAL (
    SELECT min(f.ts) AS first_ts, min(f.ts_ns) AS first_ns, sum(f.qty) AS qty
    FROM fills f
    WHERE f.run_id = o.run_id
      AND f.client_id = o.client_id
) fl ON true
WHERE o.action = 'new'
  AND (p.symbol IS NULL OR o.symbol = p.symbol)
  AND o.ts >= p.start_ts
  AND o.ts < p.end_ts
ORDER BY o.ts_ns, o.client_id;
