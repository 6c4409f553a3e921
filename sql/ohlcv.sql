-- OHLCV bars of any width from the trades in `ticks`.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id  the run (uuid); empty: the most recently started run
--   symbol  one symbol; empty: every symbol
--   bucket  the bar width, an interval: '1 minute', '5 minutes', '1 day' ...
--           (bars start on multiples of the width from Monday 2000-01-03 00:00 UTC,
--           TimescaleDB's time_bucket origin; month widths need TimescaleDB)
--   start   first instant included (timestamptz); empty: the beginning
--   end     first instant excluded (timestamptz); empty: the end
--
--   psql "$DATABASE_URL" --csv -v run_id= -v symbol=BTCUSDT -v bucket='5 minutes' \
--        -v start='2026-01-01 00:00Z' -v end='2026-01-02 00:00Z' -f sql/ohlcv.sql
--
-- One row per symbol and bar with at least one trade, in symbol and time order: bucket
-- (the bar's start), open and close (the first and last trade by exact time, ts_ns,
-- then input order, seq), high, low, volume (sum of sizes), trades, and vwap (volume-
-- weighted average price, rounded to 12 decimals). The 1-minute and 1-hour bars of
-- whole runs are also kept in ohlcv_1m and ohlcv_1h (see migrations/).
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id,
           nullif(:'symbol', '')                                                    AS symbol,
           :'bucket'::interval                                                      AS bucket,
           coalesce(nullif(:'start', '')::timestamptz, '-infinity')                 AS start_ts,
           coalesce(nullif(:'end', '')::timestamptz, 'infinity')                    AS end_ts
)
SELECT t.symbol,
       time_bucket(p.bucket, t.ts)                                   AS bucket,
       (array_agg(t.price ORDER BY t.ts_ns, t.seq))[1]               AS open,
       max(t.price)                                                  AS high,
       min(t.price)                                                  AS low,
       (array_agg(t.price ORDER BY t.ts_ns DESC, t.seq DESC))[1]     AS close,
       sum(t.size)                                                   AS volume,
       count(*)                                                      AS trades,
       round(sum(t.price * t.size) / sum(t.size), 12)                AS vwap
FROM ticks t
JOIN params p ON t.run_id = p.run_id
WHERE t.kind = 'trade'
  AND (p.symbol IS NULL OR t.symbol = p.symbol)
  AND t.ts >= p.start_ts
  AND t.ts < p.end_ts
GROUP BY t.symbol, time_bucket(p.bucket, t.ts)
ORDER BY t.symbol, bucket;
