-- The equity curve and its drawdown, optionally in time buckets.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id  the run (uuid); empty: the most recently started run
--   bucket  an interval ('1 minute', '1 hour', ...); empty: every equity point
--   start   first instant included (timestamptz); empty: the beginning
--   end     first instant excluded (timestamptz); empty: the end
--
--   psql "$DATABASE_URL" --csv -v run_id= -v bucket='1 hour' -v start= -v end= \
--        -f sql/equity_drawdown.sql
--
-- The peak is recomputed here as the graph defines it: the highest equity so far, and
-- never below the starting capital (which the first point's stored peak carries).
-- Drawdown is (peak - equity) / peak, exact, rounded to 12 decimals. Points before
-- `start` count towards the peak. One row per bucket (or point), in time order:
--   ts                 the bucket's start (or the point's time)
--   points             equity points in it
--   equity             the last equity in it
--   peak               the peak at that last point
--   drawdown           the drawdown at that last point
--   max_drawdown       the largest drawdown at any point in it
--   max_drawdown_so_far the largest drawdown from `start` to the end of the bucket
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id,
           nullif(:'bucket', '')::interval                                          AS bucket,
           coalesce(nullif(:'start', '')::timestamptz, '-infinity')                 AS start_ts,
           coalesce(nullif(:'end', '')::timestamptz, 'infinity')                    AS end_ts
),
curve AS (
    SELECT e.ts,
           e.ts_ns,
           e.equity,
           greatest(max(e.equity) OVER run, first_value(e.peak) OVER run) AS peak
    FROM equity e
    JOIN params p ON e.run_id = p.run_id
    WHERE e.ts < p.end_ts
    WINDOW run AS (ORDER BY e.ts_ns ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
drawdowns AS (
    SELECT c.*,
           CASE WHEN c.peak > 0 THEN round((c.peak - c.equity) / c.peak, 12) ELSE 0 END
               AS drawdown
    FROM curve c
),
buckets AS (
    SELECT coalesce(time_bucket(p.bucket, d.ts), d.ts)            AS ts,
           count(*)                                              AS points,
           (array_agg(d.equity ORDER BY d.ts_ns DESC))[1]        AS equity,
           (array_agg(d.peak ORDER BY d.ts_ns DESC))[1]          AS peak,
           (array_agg(d.drawdown ORDER BY d.ts_ns DESC))[1]      AS drawdown,
           max(d.drawdown)                                       AS max_drawdown
    FROM drawdowns d
    CROSS JOIN params p
    WHERE d.ts >= p.start_ts
    GROUP BY 1
)
SELECT b.*,
       max(b.max_drawdown) OVER (ORDER BY b.ts) AS max_drawdown_so_far
FROM buckets b
ORDER BY b.ts;
