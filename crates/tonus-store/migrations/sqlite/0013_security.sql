-- Security, second round (#12).
-- Token scopes: 'read' (GET only) or 'read-write' (the diary's writes too). Tokens made
-- before scopes existed could write, so they keep 'read-write'.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read-write' CHECK (scope IN ('read', 'read-write'));
-- TOTP: the last accepted 30-second step (a code is accepted once), and the secret the server
-- generated while the user sets up their app (never posted back by the client).
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
-- Set when an administrator reset the password: a clinician's patient access is suspended
-- until they set their own.
ALTER TABLE users ADD COLUMN password_reset_at_ms INTEGER;
-- A message for the user's next sign-in (e.g. "an administrator removed your second factor").
ALTER TABLE users ADD COLUMN notice TEXT;

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at_ms INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
