-- Record identity (issue #13): every patient record gets a uid, a random version-4 UUID as
-- lower-case hyphenated text (text, as on SQLite, so both backends read it the same way),
-- assigned when it is created and kept through export, import, backup and restore. FHIR ids
-- come from it, and imports skip the uids a patient has. Unique per patient (an import into
-- another patient keeps the uids it brings). A volatile default gives each existing row its
-- own value (PostgreSQL rewrites the table), and gen_random_uuid() is built in since 13.

ALTER TABLE episodes ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX episodes_uid ON episodes(patient_id, uid);

ALTER TABLE checkins ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX checkins_uid ON checkins(patient_id, uid);

ALTER TABLE treatments ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX treatments_uid ON treatments(patient_id, uid);

ALTER TABLE regimens ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX regimens_uid ON regimens(patient_id, uid);

ALTER TABLE dose_logs ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX dose_logs_uid ON dose_logs(patient_id, uid);

ALTER TABLE exercise_sessions ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX exercise_sessions_uid ON exercise_sessions(patient_id, uid);

ALTER TABLE clinical_events ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX clinical_events_uid ON clinical_events(patient_id, uid);

ALTER TABLE side_effects ADD COLUMN uid TEXT NOT NULL DEFAULT gen_random_uuid()::text;
CREATE UNIQUE INDEX side_effects_uid ON side_effects(patient_id, uid);
