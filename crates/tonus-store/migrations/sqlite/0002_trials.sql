-- A personal trial: its design (arms, periods, washout, seed, primary outcome, threshold) is
-- stored as JSON exactly as planned, so the randomised order can be re-derived and audited.
CREATE TABLE trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    start_date TEXT NOT NULL,
    design TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (patient_id, name)
);
