-- Rate limits shared by every replica (issue 17): adding a replica behind a load balancer
-- must not multiply a password guesser's budget or a client's request budget. Each replica
-- still limits in memory first (api/ratelimit.py); these rows are the shared budget,
-- changed only by single-row upserts (store/ratelimits.py), so concurrent replicas
-- serialise on the row.

-- migrate:up

CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    taken BOOLEAN NOT NULL DEFAULT TRUE,
    stamp TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE login_failures (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (scope, key, window_start)
);

-- migrate:down

DROP TABLE login_failures;
DROP TABLE rate_buckets;
