-- Profit and loss and fees per symbol: what the fills traded, and the position they
-- left, as of a time.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id  the run (uuid); empty: the most recently started run
--   end     the as-of time: fills and position snapshots before it (timestamptz);
--           empty: the whole run
--
--   psql "$DATABASE_URL" --csv -v run_id= -v end= -f sql/pnl_by_symbol.sql
--
-- One row per symbol with a fill or a position, in symbol order:
--   fills, maker_fills          number of fills, and of those that added liquidity
--   bought, sold                quantities bought and sold
--   notional                    sum of price * qty over the fills
--   fees                        sum of the fills' fees
--   position, avg_price, mark   the last position snapshot: signed quantity, average
--                               entry price, last mark price
--   realized_pnl                realised PnL before fees
--   unrealized_pnl              qty * (mark - avg_price)
--   total_pnl                   cash + qty * mark: everything, after fees
--                               (= realized_pnl + unrealized_pnl - fees)
-- The fills' fees and the snapshot's agree when the snapshot is as recent as the last
-- fill; a symbol without snapshots has empty position columns.
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id,
           coalesce(nullif(:'end', '')::timestamptz, 'infinity')                    AS end_ts
),
traded AS (
    SELECT f.symbol,
           count(*)                                               AS fills,
           count(*) FILTER (WHERE f.liquidity = 'maker')          AS maker_fills,
           coalesce(sum(f.qty) FILTER (WHERE f.side = 'buy'), 0)  AS bought,
           coalesce(sum(f.qty) FILTER (WHERE f.side = 'sell'), 0) AS sold,
           sum(f.price * f.qty)                                   AS notional,
           sum(f.fee)                                             AS fees
    FROM fills f
    JOIN params p ON f.run_id = p.run_id
    WHERE f.ts < p.end_ts
    GROUP BY f.symbol
),
latest AS (
    SELECT DISTINCT ON (s.symbol) s.*
    FROM positions s
    JOIN params p ON s.run_id = p.run_id
    WHERE s.ts < p.end_ts
    ORDER BY s.symbol, s.epoch DESC, s.ts_ns DESC
)
SELECT coalesce(t.symbol, l.symbol)    AS symbol,
       coalesce(t.fills, 0)            AS fills,
       coalesce(t.maker_fills, 0)      AS maker_fills,
       coalesce(t.bought, 0)           AS bought,
       coalesce(t.sold, 0)             AS sold,
       coalesce(t.notional, 0)         AS notional,
       coalesce(t.fees, 0)             AS fees,
       l.qty                           AS position,
       l.avg_price,
       l.mark,
       l.realized_pnl,
       l.unrealized_pnl,
       l.cash + l.qty * l.mark         AS total_pnl
FROM traded t
FULL JOIN latest l ON l.symbol = t.symbol
ORDER BY 1;
