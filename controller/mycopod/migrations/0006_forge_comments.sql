-- Pull-request plans (issue 14): the one comment MycoPod keeps on each pull request, so
-- a new push to the pull request updates it in place (PATCH) instead of adding another,
-- across restarts and replicas.

-- migrate:up

CREATE TABLE forge_comments (
    repository TEXT NOT NULL,
    pr_number INTEGER NOT NULL CHECK (pr_number > 0),
    comment_id BIGINT NOT NULL,
    head_sha VARCHAR(40) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (repository, pr_number)
);

-- migrate:down

DROP TABLE forge_comments;
