-- Every plan ever saved for a trial, kept when a planned trial is deleted: re-planning the
-- same dates (e.g. with other seeds until the order suits) stays visible in the trial's
-- report. trial_id is a plain number, not a reference, so the row outlives its trial.
CREATE TABLE trial_plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    trial_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    start_date TEXT NOT NULL,
    design TEXT NOT NULL,
    planned_at_ms INTEGER NOT NULL,
    deleted_at_ms INTEGER
);
CREATE INDEX trial_plans_by_patient ON trial_plans (patient_id, start_date);
INSERT INTO trial_plans (patient_id, trial_id, name, start_date, design, planned_at_ms)
    SELECT patient_id, id, name, start_date, design, created_at_ms FROM trials;
