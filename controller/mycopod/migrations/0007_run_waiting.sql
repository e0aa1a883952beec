-- Suspend and maintenance windows (issue 14): a run whose plan may not apply now rests
-- as 'Waiting' with the reason ("waiting for the window Sat 02:00 UTC") and when that may
-- change; an Admin's override (who, when) lets it apply at once.

-- migrate:up

ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_status_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_status_check
    CHECK (status IN ('Pending', 'Planning', 'AwaitingApproval', 'Waiting', 'InProgress',
                      'Succeeded', 'Failed', 'Cancelled', 'Interrupted'));
ALTER TABLE reconciliation_runs
    ADD COLUMN waiting_reason TEXT,
    ADD COLUMN wait_until TIMESTAMP WITH TIME ZONE,
    ADD COLUMN override_by INTEGER REFERENCES users(id),
    ADD COLUMN override_at TIMESTAMP WITH TIME ZONE;

-- migrate:down

UPDATE reconciliation_runs SET status = 'Cancelled', finished_at = NOW(),
    error = COALESCE(error, 'cancelled: MycoPod was downgraded while the run waited')
WHERE status = 'Waiting';
ALTER TABLE reconciliation_runs
    DROP COLUMN waiting_reason,
    DROP COLUMN wait_until,
    DROP COLUMN override_by,
    DROP COLUMN override_at;
ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_status_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_status_check
    CHECK (status IN ('Pending', 'Planning', 'AwaitingApproval', 'InProgress',
                      'Succeeded', 'Failed', 'Cancelled', 'Interrupted'));
