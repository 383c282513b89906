-- Sign-up attempts per client address, for the sign-up rate limit (#12): open registration
-- must not let one address create accounts, or probe names, without limit.
CREATE TABLE signup_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX signup_attempts_address ON signup_attempts(address, at_ms);
