-- Idempotency keys of the API's write routes used by the offline queue: a client-generated
-- key per request, kept per patient with the route, a hash of the body and the answer given.
-- The row is written in the same transaction as the record it created, so a retry finds
-- either both (and gets the same answer) or neither (and writes both).
-- status and body are filled before that transaction commits; 0 and '' are never seen outside it.
CREATE TABLE idempotency_keys (
    patient_id BIGINT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    idem_key TEXT NOT NULL,
    route TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status BIGINT NOT NULL DEFAULT 0,
    body TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (patient_id, idem_key)
);
