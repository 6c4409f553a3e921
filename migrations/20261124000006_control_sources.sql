-- Where each control event came from: a person's lever (file, admin, kill_file, signal,
-- kill_switch) or an automatic trigger (drawdown, circuit_breaker, stale_data,
-- clock_skew). Rows written before this column existed came from control files.
ALTER TABLE control ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'file';

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'control_source_known') THEN
        ALTER TABLE control ADD CONSTRAINT control_source_known CHECK (source IN
            ('file', 'admin', 'kill_file', 'signal', 'kill_switch', 'drawdown',
             'circuit_breaker', 'stale_data', 'clock_skew'));
    END IF;
END
$$;
