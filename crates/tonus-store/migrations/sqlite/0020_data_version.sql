-- A per-patient data version: bumped in the same transaction as every insert, update and
-- delete of a row that a dashboard or report reads (issue #15 point 3). The server keys its
-- cache of gathered dashboards by it, so any committed write makes the cached entries of that
-- patient unreachable, whichever code path wrote (web, API, import, CLI, restore, cascades).
-- Rows of deleted patients are kept (a few bytes each) so that a version never repeats.
--
-- SQLite has one writer at a time, so one row per patient (shard 0) is enough. Triggers fire
-- for rows that foreign-key cascades delete or change as well.
CREATE TABLE data_versions (
    patient_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (patient_id, shard)
) WITHOUT ROWID;

CREATE TRIGGER episodes_version_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER episodes_version_update AFTER UPDATE ON episodes BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER episodes_version_delete AFTER DELETE ON episodes BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER checkins_version_insert AFTER INSERT ON checkins BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER checkins_version_update AFTER UPDATE ON checkins BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER checkins_version_delete AFTER DELETE ON checkins BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER treatments_version_insert AFTER INSERT ON treatments BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER treatments_version_update AFTER UPDATE ON treatments BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER treatments_version_delete AFTER DELETE ON treatments BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER regimens_version_insert AFTER INSERT ON regimens BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER regimens_version_update AFTER UPDATE ON regimens BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER regimens_version_delete AFTER DELETE ON regimens BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER dose_logs_version_insert AFTER INSERT ON dose_logs BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER dose_logs_version_update AFTER UPDATE ON dose_logs BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER dose_logs_version_delete AFTER DELETE ON dose_logs BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER exercise_sessions_version_insert AFTER INSERT ON exercise_sessions BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER exercise_sessions_version_update AFTER UPDATE ON exercise_sessions BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER exercise_sessions_version_delete AFTER DELETE ON exercise_sessions BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER clinical_events_version_insert AFTER INSERT ON clinical_events BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER clinical_events_version_update AFTER UPDATE ON clinical_events BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER clinical_events_version_delete AFTER DELETE ON clinical_events BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER side_effects_version_insert AFTER INSERT ON side_effects BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER side_effects_version_update AFTER UPDATE ON side_effects BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER side_effects_version_delete AFTER DELETE ON side_effects BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER patient_identity_version_insert AFTER INSERT ON patient_identity BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER patient_identity_version_update AFTER UPDATE ON patient_identity BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER patient_identity_version_delete AFTER DELETE ON patient_identity BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER trials_version_insert AFTER INSERT ON trials BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER trials_version_update AFTER UPDATE ON trials BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER trials_version_delete AFTER DELETE ON trials BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER trial_plans_version_insert AFTER INSERT ON trial_plans BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER trial_plans_version_update AFTER UPDATE ON trial_plans BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER trial_plans_version_delete AFTER DELETE ON trial_plans BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (OLD.patient_id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;

-- The patient's own row: time zone and handle change what a dashboard shows.
CREATE TRIGGER patients_version_update AFTER UPDATE ON patients BEGIN
    INSERT INTO data_versions (patient_id, shard, version) VALUES (NEW.id, 0, 1)
        ON CONFLICT (patient_id, shard) DO UPDATE SET version = version + 1;
END;
