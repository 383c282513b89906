-- Instants are UTC milliseconds plus the IANA zone they were lived in; local_date is derived
-- from both at write time so daily bucketing is an index scan.
CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handle TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE episodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    started_at_ms INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    local_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    family TEXT NOT NULL,
    regions TEXT NOT NULL,
    pain INTEGER CHECK (pain BETWEEN 0 AND 10),
    duration_s INTEGER CHECK (duration_s BETWEEN 0 AND 86400),
    triggers TEXT NOT NULL,
    trigger_note TEXT,
    notes TEXT,
    recorded_at_ms INTEGER NOT NULL
);
CREATE INDEX episodes_patient_time ON episodes(patient_id, started_at_ms);
CREATE INDEX episodes_patient_day ON episodes(patient_id, local_date);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    local_date TEXT NOT NULL,
    spasticity_nrs INTEGER CHECK (spasticity_nrs BETWEEN 0 AND 10),
    pain_nrs INTEGER CHECK (pain_nrs BETWEEN 0 AND 10),
    psfs_frequency INTEGER CHECK (psfs_frequency BETWEEN 0 AND 4),
    psfs_severity INTEGER CHECK (psfs_severity BETWEEN 1 AND 3),
    night_wakings INTEGER CHECK (night_wakings >= 0),
    log_complete INTEGER NOT NULL,
    note TEXT,
    recorded_at_ms INTEGER NOT NULL,
    UNIQUE (patient_id, local_date)
);

CREATE TABLE treatments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    notes TEXT,
    UNIQUE (patient_id, name)
);

CREATE TABLE regimens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    treatment_id INTEGER NOT NULL REFERENCES treatments(id) ON DELETE CASCADE,
    dose_amount REAL,
    dose_unit TEXT,
    route TEXT,
    schedule TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT
);
CREATE INDEX regimens_patient ON regimens(patient_id, start_date);

CREATE TABLE dose_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    regimen_id INTEGER NOT NULL REFERENCES regimens(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    local_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT
);
CREATE INDEX dose_logs_patient ON dose_logs(patient_id, at_ms);

CREATE TABLE exercise_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    local_date TEXT NOT NULL,
    exercise_type TEXT NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 600),
    exertion INTEGER NOT NULL CHECK (exertion BETWEEN 0 AND 10),
    note TEXT
);
CREATE INDEX exercise_patient ON exercise_sessions(patient_id, at_ms);

CREATE TABLE clinical_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    detail TEXT NOT NULL,
    summary TEXT
);
CREATE INDEX events_patient ON clinical_events(patient_id, start_date);
