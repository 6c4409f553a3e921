-- Fill quality: the slippage of each fill against the mid price when its order was
-- decided.
--
-- Parameters (psql -v NAME=VALUE; each must be given, empty for its default):
--   run_id  the run (uuid); empty: the most recently started run
--   symbol  one symbol; empty: every symbol
--   start   first fill time included (timestamptz); empty: the beginning
--   end     first fill time excluded (timestamptz); empty: the end
--
--   psql "$DATABASE_URL" --csv -v run_id= -v symbol= -v start= -v end= \
--        -f sql/fill_quality.sql
--
-- The arrival mid is that of the latest quote of the symbol at or before the order's
-- `new` message (by exact time, ts_ns, then input order, seq), found with a LATERAL
-- look-up. Slippage is signed so that positive is a cost: (price - mid) for a buy,
-- (mid - price) for a sell. One row per fill, in time order:
--   ts, symbol, client_id, side, price, qty, liquidity   the fill
--   order_ts                      when the order was decided
--   quote_ts, mid                 the arrival quote and its mid; empty when the order
--                                 came before any quote of its symbol
--   slippage                      per unit of quantity, in price
--   slippage_bps                  slippage / mid, in basis points, rounded to 6 decimals
--   cost                          slippage * qty, in quote currency
WITH params AS (
    SELECT coalesce(nullif(:'run_id', '')::uuid,
                    (SELECT run_id FROM runs ORDER BY started DESC, run_id LIMIT 1)) AS run_id,
           nullif(:'symbol', '')                                                    AS symbol,
           coalesce(nullif(:'start', '')::timestamptz, '-infinity')                 AS start_ts,
           coalesce(nullif(:'end', '')::timestamptz, 'infinity')                    AS end_ts
)
SELECT f.ts,
       f.symbol,
       f.client_id,
       f.side,
       f.price,
       f.qty,
       f.liquidity,
       o.ts                                                          AS order_ts,
       q.ts                                                          AS quote_ts,
       q.mid,
       s.sign * (f.price - q.mid)                                    AS slippage,
       round(s.sign * (f.price - q.mid) / q.mid * 10000, 6)          AS slippage_bps,
       s.sign * (f.price - q.mid) * f.qty                            AS cost
FROM fills f
JOIN params p ON f.run_id = p.run_id
JOIN orders o
  ON o.run_id = f.run_id AND o.client_id = f.client_id AND o.action = 'new'
CROSS JOIN LATERAL (SELECT CASE f.side WHEN 'buy' THEN 1 ELSE -1 END AS sign) s
LEFT JOIN LATERAL (
    SELECT t.ts, (t.bid_price + t.ask_price) / 2 AS mid
    FROM ticks t
    WHERE t.run_id = o.run_id
      AND t.symbol = o.symbol
      AND t.kind = 'quote'
      AND t.ts <= o.ts
      AND t.ts_ns <= o.ts_ns
    ORDER BY t.ts DESC, t.ts_ns DESC, t.seq DESC
    LIMIT 1
) q ON true
WHERE (p.symbol IS NULL OR f.symbol = p.symbol)
  AND f.ts >= p.start_ts
  AND f.ts < p.end_ts
ORDER BY f.ts_ns, f.client_id, f.event;
