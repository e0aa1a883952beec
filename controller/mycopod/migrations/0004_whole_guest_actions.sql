-- Whole guests (issue 11): two more kinds of action.
--
--   * remove_device: a declared disk, NIC or mount point removed (destructive, approved
--     like a deletion);
--   * set_pool: the guest moves to the declared resource pool.

-- migrate:up

ALTER TABLE reconciliation_actions DROP CONSTRAINT reconciliation_actions_kind_check;
ALTER TABLE reconciliation_actions ADD CONSTRAINT reconciliation_actions_kind_check
    CHECK (kind IN ('create', 'clone', 'configure', 'resize_disk', 'start', 'stop',
                    'delete', 'migrate', 'tag_adopt', 'remove_device', 'set_pool'));

-- migrate:down

DELETE FROM reconciliation_actions WHERE kind IN ('remove_device', 'set_pool');
ALTER TABLE reconciliation_actions DROP CONSTRAINT reconciliation_actions_kind_check;
ALTER TABLE reconciliation_actions ADD CONSTRAINT reconciliation_actions_kind_check
    CHECK (kind IN ('create', 'clone', 'configure', 'resize_disk', 'start', 'stop',
                    'delete', 'migrate', 'tag_adopt'));
