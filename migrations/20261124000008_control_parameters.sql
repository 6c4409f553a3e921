-- Parameter changes travel on the control stream: mode `set`, with the parameter's
-- name and its new value (they take effect after the run's cooldown). Every other
-- event has neither.
ALTER TABLE control ADD COLUMN IF NOT EXISTS parameter text;
ALTER TABLE control ADD COLUMN IF NOT EXISTS value text;

DO $$
DECLARE
    old_check text;
BEGIN
    -- The mode's CHECK from the table's creation, whatever PostgreSQL named it.
    FOR old_check IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'control'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%mode%emergency%'
          AND conname <> 'control_mode_known'
    LOOP
        EXECUTE format('ALTER TABLE control DROP CONSTRAINT %I', old_check);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'control_mode_known') THEN
        ALTER TABLE control ADD CONSTRAINT control_mode_known CHECK (mode IN
            ('normal', 'pause', 'reduce', 'emergency', 'reset', 'set'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'control_parameter_with_set') THEN
        ALTER TABLE control ADD CONSTRAINT control_parameter_with_set CHECK (
            (mode = 'set') = (parameter IS NOT NULL) AND (parameter IS NULL) = (value IS NULL));
    END IF;
END
$$;
