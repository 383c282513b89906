-- The patient's identity for filing (name, birth date, administrative sex, identifiers), as
-- the domain's JSON: optional, set by the patient, one row per patient at most.
CREATE TABLE patient_identity (
    patient_id BIGINT PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    identity TEXT NOT NULL
);
