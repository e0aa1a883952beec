-- Sessions that can be ended: a per-user token version (issue 18, item 8).
--
-- users.token_version is carried by every access token (claim "ver") and by every
-- refresh token row. Changing a password or a role, disabling a user, or "log out
-- everywhere" adds one to it, in the same transaction that revokes the user's refresh
-- token families: every token issued before stops working at its next use, including a
-- refresh token rotated concurrently with the change.

-- migrate:up

ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;

-- migrate:down

ALTER TABLE refresh_tokens DROP COLUMN token_version;
ALTER TABLE users DROP COLUMN token_version;
