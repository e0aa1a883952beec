-- Several clusters in one deployment (issue 17): the rows that belong to one cluster say
-- which. reconciliation_runs and inventory had a ``cluster`` column from the start;
-- actions belong to a run. Existing rows are the cluster ``default`` (the single
-- [proxmox] of before).
--
--   * declarations: one row per commit *and cluster* (two clusters owning two folders of
--     one repository each record the same commit, with their own files and spec);
--   * settings: the policy switches an Admin changes (suspended, windows, prune, ...) are
--     per cluster.
--
-- A guest name is unique within its cluster only: nothing keys on a name across
-- clusters (the inventory's key is (cluster, vmid)).

-- migrate:up

ALTER TABLE declarations ADD COLUMN cluster VARCHAR(63) NOT NULL DEFAULT 'default';
DROP INDEX declarations_commit_idx;
CREATE UNIQUE INDEX declarations_cluster_commit_idx ON declarations (cluster, github_commit_sha);
CREATE INDEX declarations_cluster_created_idx
    ON declarations (cluster, created_at DESC, id DESC);

ALTER TABLE settings ADD COLUMN cluster VARCHAR(63) NOT NULL DEFAULT 'default';
ALTER TABLE settings DROP CONSTRAINT settings_pkey;
ALTER TABLE settings ADD PRIMARY KEY (cluster, key);

-- migrate:down

DELETE FROM settings WHERE cluster <> 'default';
ALTER TABLE settings DROP CONSTRAINT settings_pkey;
ALTER TABLE settings DROP COLUMN cluster;
ALTER TABLE settings ADD PRIMARY KEY (key);

UPDATE reconciliation_runs SET declaration_id = NULL WHERE declaration_id IN (
    SELECT id FROM declarations WHERE cluster <> 'default');
DELETE FROM declarations WHERE cluster <> 'default';
DROP INDEX declarations_cluster_created_idx;
DROP INDEX declarations_cluster_commit_idx;
ALTER TABLE declarations DROP COLUMN cluster;
CREATE UNIQUE INDEX declarations_commit_idx ON declarations (github_commit_sha);
