-- Signal hit rate: how often a signal's direction matched the sign of the mid price
-- move over the following horizon.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id   the run (uuid); empty: the most recently started run
--   horizon  how far ahead to look, an interval: '1 minute', '5 minutes', ...
--   symbol   one symbol; empty: every symbol
--   start    first signal time included (timestamptz); empty: the beginning
--   end      first signal time excluded (timestamptz); empty: the end
--
--   psql "$DATABASE_URL" --csv -v run_id= -v horizon='5 minutes' -v symbol= \
--        -v start= -v end= -f sql/signal_hit_rate.sql
--
-- A signal with direction +1 or -1 (0 predicts nothing and is left out) starts from
-- the mid of the quote it saw, (bid + ask) / 2, and ends at the mid of the latest
-- quote of its symbol at or before signal time + horizon (exact nanoseconds, LATERAL
-- look-up). It is evaluated only when the run has a tick of the symbol at or after
-- that end time, so a horizon running past the data does not count. A hit is a move
-- of the signal's sign; a flat (no move) is evaluated and not a hit.
-- One row per symbol, in symbol order, then a total row with an empty symbol:
--   signals       signals with a direction
--   evaluated     of those, signals whose horizon the data covers
--   hits, flats   evaluated signals whose move had their sign, and that had no move
--   hit_rate      hits / evaluated, rounded to 6 decimals; empty when none evaluated
--   avg_move_bps  mean of direction * move / start mid, in basis points (6 decimals)
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id,
           :'horizon'::interval                                                     AS horizon,
           (extract(epoch FROM :'horizon'::interval) * 1000000000)::bigint         AS horizon_ns,
           nullif(:'symbol', '')                                                    AS symbol,
           coalesce(nullif(:'start', '')::timestamptz, '-infinity')                 AS start_ts,
           coalesce(nullif(:'end', '')::timestamptz, 'infinity')                    AS end_ts
),
moves AS (
    SELECT s.symbol,
           s.direction,
           (s.bid + s.ask) / 2 AS mid_start,
           q.mid               AS mid_end,
           EXISTS (
               SELECT 1
               FROM ticks c
               WHERE c.run_id = s.run_id
                 AND c.symbol = s.symbol
                 AND c.ts >= s.ts + p.horizon
                 AND c.ts_ns >= s.ts_ns + p.horizon_ns
           ) AS covered
    FROM signals s
    JOIN params p ON s.run_id = p.run_id
    LEFT JOIN LATERAL (
        SELECT (t.bid_price + t.ask_price) / 2 AS mid
        FROM ticks t
        WHERE t.run_id = s.run_id
          AND t.symbol = s.symbol
          AND t.kind = 'quote'
          AND t.ts <= s.ts + p.horizon
          AND t.ts_ns <= s.ts_ns + p.horizon_ns
        ORDER BY t.ts DESC, t.ts_ns DESC, t.seq DESC
        LIMIT 1
    ) q ON true
    WHERE s.direction <> 0
      AND (p.symbol IS NULL OR s.symbol = p.symbol)
      AND s.ts >= p.start_ts
      AND s.ts < p.end_ts
),
evaluated AS (
    SELECT m.*,
           m.covered AND m.mid_end IS NOT NULL AS counted
    FROM moves m
)
SELECT e.symbol,
       count(*)                                                              AS signals,
       count(*) FILTER (WHERE e.counted)                                     AS evaluated,
       count(*) FILTER (WHERE e.counted AND sign(e.mid_end - e.mid_start) = e.direction)
                                                                             AS hits,
       count(*) FILTER (WHERE e.counted AND e.mid_end = e.mid_start)         AS flats,
       round(count(*) FILTER (WHERE e.counted AND sign(e.mid_end - e.mid_start) = e.direction)
             / nullif(count(*) FILTER (WHERE e.counted), 0)::numeric, 6)     AS hit_rate,
       round(avg(e.direction * (e.mid_end - e.mid_start) / e.mid_start * 10000)
                 FILTER (WHERE e.counted), 6)                                AS avg_move_bps
FROM evaluated e
GROUP BY GROUPING SETS ((e.symbol), ())
ORDER BY GROUPING(e.symbol), e.symbol;
