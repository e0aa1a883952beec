-- Replica heartbeats (issue 17): every replica that competes for cluster leadership keeps
-- one row here, refreshed every few seconds by its lock connection
-- (reconcile/fairshare.py, store/replicas.py). A replica is live while its row was seen
-- within the heartbeat timeout and the session that holds its locks is still open; the
-- number of live replicas sets each one's fair share of the clusters.

-- migrate:up

CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    backend_pid INTEGER NOT NULL,
    leads INTEGER NOT NULL DEFAULT 0 CHECK (leads >= 0),
    started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_seen TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX replicas_last_seen ON replicas (last_seen);

-- migrate:down

DROP TABLE replicas;
