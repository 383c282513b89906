-- A per-patient data version: bumped in the same transaction as every insert, update and
-- delete of a row that a dashboard or report reads (issue #15 point 3). The server keys its
-- cache of gathered dashboards by it, so any committed write makes the cached entries of that
-- patient unreachable, whichever code path wrote (web, API, import, CLI, restore, cascades).
-- Rows of deleted patients are kept (a few bytes each) so that a version never repeats.
--
-- PostgreSQL commits concurrently: one counter row per patient would serialise every write
-- of that patient on its row lock until commit. Each backend bumps its own shard
-- (pg_backend_pid() % 16) instead, and readers sum the shards; the sum only ever grows.
-- Statement-level triggers with transition tables bump once per statement and patient, so a
-- bulk COPY of a million rows costs one upsert, not a million. Rows are locked in patient
-- order, so two statements touching several patients cannot deadlock on them.
CREATE TABLE data_versions (
    patient_id BIGINT NOT NULL,
    shard INTEGER NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (patient_id, shard)
);

CREATE FUNCTION data_version_bump_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (patient_id, shard, version)
        SELECT DISTINCT patient_id, pg_backend_pid() % 16, 1 FROM new_rows ORDER BY 1
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = data_versions.version + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION data_version_bump_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (patient_id, shard, version)
        SELECT DISTINCT patient_id, pg_backend_pid() % 16, 1 FROM old_rows ORDER BY 1
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = data_versions.version + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION data_version_bump_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (patient_id, shard, version)
        SELECT patient_id, pg_backend_pid() % 16, 1 FROM old_rows
        UNION SELECT patient_id, pg_backend_pid() % 16, 1 FROM new_rows ORDER BY 1
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = data_versions.version + 1;
    RETURN NULL;
END $$;

-- The patient's own row (time zone, handle): rare writes, a row trigger.
CREATE FUNCTION data_version_bump_patient() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (patient_id, shard, version)
        VALUES (NEW.id, pg_backend_pid() % 16, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = data_versions.version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER episodes_version_insert AFTER INSERT ON episodes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER episodes_version_update AFTER UPDATE ON episodes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER episodes_version_delete AFTER DELETE ON episodes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER checkins_version_insert AFTER INSERT ON checkins REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER checkins_version_update AFTER UPDATE ON checkins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER checkins_version_delete AFTER DELETE ON checkins REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER treatments_version_insert AFTER INSERT ON treatments REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER treatments_version_update AFTER UPDATE ON treatments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER treatments_version_delete AFTER DELETE ON treatments REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER regimens_version_insert AFTER INSERT ON regimens REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER regimens_version_update AFTER UPDATE ON regimens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER regimens_version_delete AFTER DELETE ON regimens REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER dose_logs_version_insert AFTER INSERT ON dose_logs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER dose_logs_version_update AFTER UPDATE ON dose_logs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER dose_logs_version_delete AFTER DELETE ON dose_logs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER exercise_sessions_version_insert AFTER INSERT ON exercise_sessions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER exercise_sessions_version_update AFTER UPDATE ON exercise_sessions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER exercise_sessions_version_delete AFTER DELETE ON exercise_sessions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER clinical_events_version_insert AFTER INSERT ON clinical_events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER clinical_events_version_update AFTER UPDATE ON clinical_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER clinical_events_version_delete AFTER DELETE ON clinical_events REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER side_effects_version_insert AFTER INSERT ON side_effects REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER side_effects_version_update AFTER UPDATE ON side_effects REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER side_effects_version_delete AFTER DELETE ON side_effects REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER patient_identity_version_insert AFTER INSERT ON patient_identity REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER patient_identity_version_update AFTER UPDATE ON patient_identity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER patient_identity_version_delete AFTER DELETE ON patient_identity REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER trials_version_insert AFTER INSERT ON trials REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER trials_version_update AFTER UPDATE ON trials REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER trials_version_delete AFTER DELETE ON trials REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER trial_plans_version_insert AFTER INSERT ON trial_plans REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_new();
CREATE TRIGGER trial_plans_version_update AFTER UPDATE ON trial_plans REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_both();
CREATE TRIGGER trial_plans_version_delete AFTER DELETE ON trial_plans REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_old();

CREATE TRIGGER patients_version_update AFTER UPDATE ON patients
    FOR EACH ROW EXECUTE FUNCTION data_version_bump_patient();
