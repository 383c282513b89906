-- Accounts, sessions, consent, personal access tokens and the audit log of the web app.
-- Secrets (session tokens, invitation codes, API tokens) are stored only as SHA-256 hashes so a
-- copy of the database cannot be used to sign in. Instants are UTC milliseconds.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('patient', 'clinician', 'admin')),
    password_hash TEXT NOT NULL,
    -- A patient account owns exactly one patients row; other roles own none.
    patient_id INTEGER UNIQUE REFERENCES patients(id) ON DELETE CASCADE,
    totp_secret TEXT,
    created_at_ms INTEGER NOT NULL,
    disabled_at_ms INTEGER,
    CHECK ((role = 'patient' AND patient_id IS NOT NULL) OR (role <> 'patient' AND patient_id IS NULL))
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed'))
);
CREATE INDEX login_attempts_user ON login_attempts(username, at_ms);
CREATE INDEX login_attempts_address ON login_attempts(address, at_ms);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    redeemed_at_ms INTEGER,
    redeemed_by INTEGER REFERENCES users(id) ON DELETE SET NULL
);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    clinician_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    via TEXT NOT NULL,
    granted_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
-- At most one live grant per pair; revoked grants stay as history.
CREATE UNIQUE INDEX consents_live ON consents(patient_id, clinician_id) WHERE revoked_at_ms IS NULL;
CREATE INDEX consents_clinician ON consents(clinician_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    last_used_at_ms INTEGER,
    revoked_at_ms INTEGER
);

-- No foreign keys: the log must outlive the accounts and patients it names.
-- prev_hash is UNIQUE so two concurrent appends cannot fork the chain: the loser retries.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    patient_id INTEGER,
    action TEXT NOT NULL,
    address TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_patient ON audit_log(patient_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
