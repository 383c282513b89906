-- Side effects the patient felt. The suspected treatment is a reference, not a copy of its
-- name, so it follows the treatment; deleting the treatment keeps the side effect and only
-- forgets the suspicion.
CREATE TABLE side_effects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    local_date TEXT NOT NULL,
    effect TEXT NOT NULL,
    description TEXT,
    severity TEXT NOT NULL CHECK (severity IN ('mild', 'moderate', 'severe')),
    treatment_id INTEGER REFERENCES treatments(id) ON DELETE SET NULL,
    note TEXT,
    recorded_at_ms INTEGER NOT NULL
);
CREATE INDEX side_effects_patient ON side_effects(patient_id, local_date);
