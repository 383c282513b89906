-- Record identity (issue #13): every patient record gets a uid, a random version-4 UUID as
-- lower-case hyphenated text, assigned when it is created and kept through export, import,
-- backup and restore. FHIR ids come from it, and imports skip the uids a patient has.
-- Unique per patient (an import into another patient keeps the uids it brings).
--
-- SQLite cannot add a NOT NULL column whose default is random, so: existing rows are
-- back-filled here, a row inserted without a uid gets one from the AFTER INSERT trigger, and
-- setting a uid to NULL is refused. The UUID is built from randomblob(): 122 random bits,
-- version nibble 4, variant bits 10.

ALTER TABLE episodes ADD COLUMN uid TEXT;
UPDATE episodes SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX episodes_uid ON episodes(patient_id, uid);
CREATE TRIGGER episodes_uid_fill AFTER INSERT ON episodes FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE episodes SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER episodes_uid_required BEFORE UPDATE OF uid ON episodes FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'episodes.uid must not be NULL');
END;

ALTER TABLE checkins ADD COLUMN uid TEXT;
UPDATE checkins SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX checkins_uid ON checkins(patient_id, uid);
CREATE TRIGGER checkins_uid_fill AFTER INSERT ON checkins FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE checkins SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER checkins_uid_required BEFORE UPDATE OF uid ON checkins FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'checkins.uid must not be NULL');
END;

ALTER TABLE treatments ADD COLUMN uid TEXT;
UPDATE treatments SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX treatments_uid ON treatments(patient_id, uid);
CREATE TRIGGER treatments_uid_fill AFTER INSERT ON treatments FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE treatments SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER treatments_uid_required BEFORE UPDATE OF uid ON treatments FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'treatments.uid must not be NULL');
END;

ALTER TABLE regimens ADD COLUMN uid TEXT;
UPDATE regimens SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX regimens_uid ON regimens(patient_id, uid);
CREATE TRIGGER regimens_uid_fill AFTER INSERT ON regimens FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE regimens SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER regimens_uid_required BEFORE UPDATE OF uid ON regimens FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'regimens.uid must not be NULL');
END;

ALTER TABLE dose_logs ADD COLUMN uid TEXT;
UPDATE dose_logs SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX dose_logs_uid ON dose_logs(patient_id, uid);
CREATE TRIGGER dose_logs_uid_fill AFTER INSERT ON dose_logs FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE dose_logs SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER dose_logs_uid_required BEFORE UPDATE OF uid ON dose_logs FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'dose_logs.uid must not be NULL');
END;

ALTER TABLE exercise_sessions ADD COLUMN uid TEXT;
UPDATE exercise_sessions SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX exercise_sessions_uid ON exercise_sessions(patient_id, uid);
CREATE TRIGGER exercise_sessions_uid_fill AFTER INSERT ON exercise_sessions FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE exercise_sessions SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER exercise_sessions_uid_required BEFORE UPDATE OF uid ON exercise_sessions FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'exercise_sessions.uid must not be NULL');
END;

ALTER TABLE clinical_events ADD COLUMN uid TEXT;
UPDATE clinical_events SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX clinical_events_uid ON clinical_events(patient_id, uid);
CREATE TRIGGER clinical_events_uid_fill AFTER INSERT ON clinical_events FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE clinical_events SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER clinical_events_uid_required BEFORE UPDATE OF uid ON clinical_events FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'clinical_events.uid must not be NULL');
END;

ALTER TABLE side_effects ADD COLUMN uid TEXT;
UPDATE side_effects SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX side_effects_uid ON side_effects(patient_id, uid);
CREATE TRIGGER side_effects_uid_fill AFTER INSERT ON side_effects FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    UPDATE side_effects SET uid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE id = NEW.id;
END;
CREATE TRIGGER side_effects_uid_required BEFORE UPDATE OF uid ON side_effects FOR EACH ROW WHEN NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'side_effects.uid must not be NULL');
END;
