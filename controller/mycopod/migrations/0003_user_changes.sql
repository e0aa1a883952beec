-- Changes submitted by a User through POST /declarations wait for an Admin's approval
-- (issue 18, item 3), and runs say when the API queued them.
--
--   * declarations.path_sha256: the sha256 of the file an API submission wrote (its
--     ``path``), so any later commit still carrying that exact file is recognised;
--   * declarations.needs_approval: set on a User's submission that changed its file;
--     approved_by/approved_at say who let it apply (approved_by is null when the
--     policy users_can_reconcile or the CLI's --approve did);
--   * reconciliation_runs.trigger gains 'api': the run of a commit made by the API, with
--     requested_by = the submitting user.

-- migrate:up

ALTER TABLE declarations
    ADD COLUMN path_sha256 VARCHAR(64),
    ADD COLUMN needs_approval BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN approved_by INTEGER REFERENCES users(id),
    ADD COLUMN approved_at TIMESTAMP WITH TIME ZONE,
    ADD CONSTRAINT declarations_approval_names_a_file
        CHECK (NOT needs_approval OR (source = 'api' AND path IS NOT NULL
                                      AND path_sha256 IS NOT NULL));
CREATE INDEX declarations_awaiting_approval_idx ON declarations (id)
    WHERE needs_approval AND approved_at IS NULL;

ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_trigger_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_trigger_check
    CHECK (trigger IN ('commit', 'webhook', 'drift', 'manual', 'api'));

-- migrate:down

UPDATE reconciliation_runs SET trigger = 'commit' WHERE trigger = 'api';
ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_trigger_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_trigger_check
    CHECK (trigger IN ('commit', 'webhook', 'drift', 'manual'));

DROP INDEX declarations_awaiting_approval_idx;
ALTER TABLE declarations
    DROP CONSTRAINT declarations_approval_names_a_file,
    DROP COLUMN approved_at,
    DROP COLUMN approved_by,
    DROP COLUMN needs_approval,
    DROP COLUMN path_sha256;
