-- The backend document's schema (backend-structure.md, section 3), plus what DESIGN.md
-- needs: run statuses and triggers, action details, compiled specs on declarations, the
-- compile cache, the inventory of owned guests and refresh tokens.
--
-- Differences from the backend document, on purpose:
--   * declarations.user_id is nullable: a declaration pushed straight to git has no
--     MycoPod user (its git author is kept in commit_author instead);
--   * reconciliation_runs.declaration_id and requested_by are nullable: a drift run may
--     start before any declaration compiled, and automatic triggers have no requester.

-- migrate:up

CREATE TABLE roles (
    id SERIAL PRIMARY KEY,
    name VARCHAR(50) UNIQUE NOT NULL
);
INSERT INTO roles (name) VALUES ('Admin'), ('User');

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(100) UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    role_id INTEGER NOT NULL REFERENCES roles(id),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX users_role_id_idx ON users (role_id);

CREATE TABLE declarations (
    id SERIAL PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    github_commit_sha VARCHAR(40) NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    source VARCHAR(10) NOT NULL DEFAULT 'git' CHECK (source IN ('git', 'api')),
    path TEXT,
    files JSONB NOT NULL DEFAULT '[]'::jsonb,
    spec JSONB,
    compile_status VARCHAR(10) NOT NULL DEFAULT 'ok' CHECK (compile_status IN ('ok', 'error')),
    compile_error TEXT,
    commit_author TEXT,
    commit_message TEXT,
    committed_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT declarations_error_has_text
        CHECK (compile_status = 'ok' OR compile_error IS NOT NULL)
);
CREATE UNIQUE INDEX declarations_commit_idx ON declarations (github_commit_sha);
CREATE INDEX declarations_user_id_idx ON declarations (user_id);
CREATE INDEX declarations_created_at_idx ON declarations (created_at DESC, id DESC);
CREATE INDEX declarations_source_idx ON declarations (source);

CREATE TABLE reconciliation_runs (
    id SERIAL PRIMARY KEY,
    declaration_id INTEGER REFERENCES declarations(id),
    requested_by INTEGER REFERENCES users(id),
    status VARCHAR(20) NOT NULL DEFAULT 'Pending' CHECK (status IN (
        'Pending', 'Planning', 'AwaitingApproval', 'InProgress',
        'Succeeded', 'Failed', 'Cancelled', 'Interrupted')),
    started_at TIMESTAMP WITH TIME ZONE,
    finished_at TIMESTAMP WITH TIME ZONE,
    trigger VARCHAR(20) NOT NULL CHECK (trigger IN ('commit', 'webhook', 'drift', 'manual')),
    cluster VARCHAR(63) NOT NULL DEFAULT 'default',
    commit_sha VARCHAR(40),
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    plan JSONB,
    summary JSONB,
    error TEXT,
    approved_by INTEGER REFERENCES users(id),
    approved_at TIMESTAMP WITH TIME ZONE,
    rejected_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX reconciliation_runs_status_idx ON reconciliation_runs (status);
CREATE INDEX reconciliation_runs_trigger_idx ON reconciliation_runs (trigger);
CREATE INDEX reconciliation_runs_created_idx ON reconciliation_runs (created_at DESC, id DESC);
CREATE INDEX reconciliation_runs_declaration_idx ON reconciliation_runs (declaration_id);
CREATE INDEX reconciliation_runs_requested_by_idx ON reconciliation_runs (requested_by);
CREATE INDEX reconciliation_runs_cluster_status_idx ON reconciliation_runs (cluster, status);

CREATE TABLE reconciliation_actions (
    id SERIAL PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES reconciliation_runs(id) ON DELETE CASCADE,
    action_description TEXT NOT NULL,
    result VARCHAR(20) NOT NULL DEFAULT 'Pending'
        CHECK (result IN ('Pending', 'Success', 'Error', 'Skipped')),
    message TEXT,
    executed_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    seq INTEGER NOT NULL DEFAULT 0,
    kind VARCHAR(20) NOT NULL CHECK (kind IN (
        'create', 'clone', 'configure', 'resize_disk', 'start', 'stop',
        'delete', 'migrate', 'tag_adopt')),
    target TEXT NOT NULL,
    vmid INTEGER,
    node TEXT,
    params JSONB NOT NULL DEFAULT '{}'::jsonb,
    destructive BOOLEAN NOT NULL DEFAULT FALSE,
    upid TEXT,
    started_at TIMESTAMP WITH TIME ZONE,
    finished_at TIMESTAMP WITH TIME ZONE,
    requested_by INTEGER REFERENCES users(id)
);
CREATE INDEX reconciliation_actions_run_idx ON reconciliation_actions (run_id, seq, id);
CREATE INDEX reconciliation_actions_target_idx ON reconciliation_actions (target);
CREATE INDEX reconciliation_actions_result_idx ON reconciliation_actions (result);

CREATE TABLE settings (
    key VARCHAR(100) PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_by INTEGER REFERENCES users(id)
);

CREATE TABLE compile_cache (
    content_sha256 CHAR(64) NOT NULL,
    compiler VARCHAR(20) NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    prompt_version TEXT NOT NULL DEFAULT '',
    spec JSONB,
    error TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (content_sha256, compiler, model, prompt_version),
    CONSTRAINT compile_cache_spec_or_error CHECK (spec IS NOT NULL OR error IS NOT NULL)
);

CREATE TABLE inventory (
    cluster VARCHAR(63) NOT NULL,
    vmid INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind VARCHAR(2) NOT NULL CHECK (kind IN ('vm', 'ct')),
    node TEXT,
    created_by_run INTEGER REFERENCES reconciliation_runs(id) ON DELETE SET NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    PRIMARY KEY (cluster, vmid)
);
CREATE INDEX inventory_name_idx ON inventory (cluster, name);

CREATE TABLE refresh_tokens (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID NOT NULL,
    token_hash CHAR(64) NOT NULL UNIQUE,
    issued_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    rotated_at TIMESTAMP WITH TIME ZONE,
    revoked_at TIMESTAMP WITH TIME ZONE
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- migrate:down

DROP TABLE refresh_tokens;
DROP TABLE inventory;
DROP TABLE compile_cache;
DROP TABLE settings;
DROP TABLE reconciliation_actions;
DROP TABLE reconciliation_runs;
DROP TABLE declarations;
DROP TABLE users;
DROP TABLE roles;
