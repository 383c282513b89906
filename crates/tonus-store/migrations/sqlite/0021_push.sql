-- Web Push reminders (issue #11 point 3).
-- The server's VAPID key pair (RFC 8292): made on first start, one row, kept so that
-- browsers' subscriptions (bound to its public key) survive restarts.
CREATE TABLE push_vapid (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
-- One row per device (browser push subscription). `kinds` holds the device's choices as
-- bits (1 check-in, 2 doses, 4 trial changes); times are minutes after local midnight.
CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    label TEXT NOT NULL,
    kinds INTEGER NOT NULL,
    checkin_min INTEGER NOT NULL,
    quiet_start_min INTEGER,
    quiet_end_min INTEGER,
    created_at_ms INTEGER NOT NULL,
    last_success_ms INTEGER
);
CREATE INDEX push_subscriptions_patient ON push_subscriptions(patient_id);
-- A reminder is claimed here before it is sent, so a restart never sends it twice.
CREATE TABLE push_sent (
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    reminder_key TEXT NOT NULL,
    due_at_ms INTEGER NOT NULL,
    claimed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, reminder_key)
);
CREATE INDEX push_sent_due ON push_sent(due_at_ms);
