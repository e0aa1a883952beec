-- Several clusters in one deployment (issue 17): the rows that belong to one cluster say
-- which. reconciliation_runs and inventory had a ``cluster`` column from the start;
-- actions belong to a run. Existing rows are the one cluster's of before (the single
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

-- Before this migration a deployment had one cluster, named by [proxmox] cluster
-- ("default" unless set). Its runs carry that name: when they all carry one name, the
-- existing declarations and settings are that cluster's too (a cluster named "prod"
-- keeps its spec in force and, say, its suspension across the upgrade).
UPDATE declarations SET cluster = single.cluster
FROM (SELECT min(cluster) AS cluster FROM reconciliation_runs
      HAVING count(DISTINCT cluster) = 1) AS single;
UPDATE settings SET cluster = single.cluster
FROM (SELECT min(cluster) AS cluster FROM reconciliation_runs
      HAVING count(DISTINCT cluster) = 1) AS single;

-- migrate:down

-- back to one cluster: the rows of the cluster with the most runs stay
DELETE FROM settings WHERE cluster <> (
    SELECT COALESCE((SELECT cluster FROM reconciliation_runs GROUP BY cluster
                     ORDER BY count(*) DESC, cluster LIMIT 1), 'default'));
ALTER TABLE settings DROP CONSTRAINT settings_pkey;
ALTER TABLE settings DROP COLUMN cluster;
ALTER TABLE settings ADD PRIMARY KEY (key);

UPDATE reconciliation_runs SET declaration_id = NULL WHERE declaration_id IN (
    SELECT id FROM declarations WHERE cluster <> (
        SELECT COALESCE((SELECT cluster FROM reconciliation_runs GROUP BY cluster
                         ORDER BY count(*) DESC, cluster LIMIT 1), 'default')));
DELETE FROM declarations WHERE cluster <> (
    SELECT COALESCE((SELECT cluster FROM reconciliation_runs GROUP BY cluster
                     ORDER BY count(*) DESC, cluster LIMIT 1), 'default'));
DROP INDEX declarations_cluster_created_idx;
DROP INDEX declarations_cluster_commit_idx;
ALTER TABLE declarations DROP COLUMN cluster;
CREATE UNIQUE INDEX declarations_commit_idx ON declarations (github_commit_sha);
