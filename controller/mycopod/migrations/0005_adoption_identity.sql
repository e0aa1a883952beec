-- Brownfield (issue 12): the adopt action, the identity of each managed guest, and
-- conflicts found by the executor's identity check.
--
--   * adopt: an existing guest becomes MycoPod's (ownership tag and inventory row);
--   * inventory: what identifies the guest beyond its vmid (a VM's SMBIOS UUID, vmgenid
--     and meta ctime; a container's rootfs volume), checked before destructive or power
--     actions so a recycled vmid or a guest replaced out of band is never touched;
--   * an action refused on an identity mismatch ends as Conflict.

-- migrate:up

ALTER TABLE reconciliation_actions DROP CONSTRAINT reconciliation_actions_kind_check;
ALTER TABLE reconciliation_actions ADD CONSTRAINT reconciliation_actions_kind_check
    CHECK (kind IN ('create', 'clone', 'configure', 'resize_disk', 'start', 'stop',
                    'delete', 'migrate', 'tag_adopt', 'remove_device', 'set_pool', 'adopt'));
ALTER TABLE reconciliation_actions DROP CONSTRAINT reconciliation_actions_result_check;
ALTER TABLE reconciliation_actions ADD CONSTRAINT reconciliation_actions_result_check
    CHECK (result IN ('Pending', 'Success', 'Error', 'Skipped', 'Conflict'));
ALTER TABLE inventory ADD COLUMN smbios_uuid TEXT;
ALTER TABLE inventory ADD COLUMN vmgenid TEXT;
ALTER TABLE inventory ADD COLUMN ctime BIGINT;
ALTER TABLE inventory ADD COLUMN rootfs TEXT;

-- migrate:down

ALTER TABLE inventory DROP COLUMN rootfs;
ALTER TABLE inventory DROP COLUMN ctime;
ALTER TABLE inventory DROP COLUMN vmgenid;
ALTER TABLE inventory DROP COLUMN smbios_uuid;
UPDATE reconciliation_actions SET result = 'Error' WHERE result = 'Conflict';
ALTER TABLE reconciliation_actions DROP CONSTRAINT reconciliation_actions_result_check;
ALTER TABLE reconciliation_actions ADD CONSTRAINT reconciliation_actions_result_check
    CHECK (result IN ('Pending', 'Success', 'Error', 'Skipped'));
DELETE FROM reconciliation_actions WHERE kind = 'adopt';
ALTER TABLE reconciliation_actions DROP CONSTRAINT reconciliation_actions_kind_check;
ALTER TABLE reconciliation_actions ADD CONSTRAINT reconciliation_actions_kind_check
    CHECK (kind IN ('create', 'clone', 'configure', 'resize_disk', 'start', 'stop',
                    'delete', 'migrate', 'tag_adopt', 'remove_device', 'set_pool'));
