-- L2 depth updates in the ticks.
--
-- ticks: kind adds 'depth', one level of the order book behind the best bid or ask:
--   price is the level, size the size now displayed there (0 when the level is gone) and
--   side the book side ('buy' for a bid level, 'sell' for an ask level). The best level
--   of each side stays in the quotes.
DO $$
DECLARE
    old_check text;
BEGIN
    -- The kind CHECK from the table's creation, whatever PostgreSQL named it.
    FOR old_check IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'ticks'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%kind%trade%quote%'
          AND pg_get_constraintdef(oid) NOT LIKE '%IS NOT NULL%'
          AND conname <> 'ticks_kind_known'
    LOOP
        EXECUTE format('ALTER TABLE ticks DROP CONSTRAINT %I', old_check);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ticks_kind_known') THEN
        ALTER TABLE ticks ADD CONSTRAINT ticks_kind_known CHECK (kind IN
            ('trade', 'quote', 'depth'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ticks_depth_level') THEN
        ALTER TABLE ticks ADD CONSTRAINT ticks_depth_level CHECK (kind <> 'depth' OR
            (price IS NOT NULL AND size IS NOT NULL AND size >= 0 AND side IS NOT NULL));
    END IF;
END
$$;
