//! The repository API. Every method takes the patient it acts for, and every statement is
//! scoped by that patient's id: another patient's row is simply not found.

use std::collections::BTreeSet;

use jiff::{civil::Date, Timestamp};
use serde::Serialize;
use tonus_domain::time::Zone;
use tonus_domain::{
    CheckIn, ClinicalEvent, DoseLog, Episode, ExerciseSession, Family, Id, Patient, Regimen, SpasmKind, Treatment,
};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};
use crate::rows::{
    parse_date, CheckInRow, EpisodeRow, EventRow, ExerciseRow, Stored, CHECKIN_COLUMNS, EPISODE_COLUMNS, EVENT_COLUMNS,
    EXERCISE_COLUMNS,
};

/// Inclusive date bounds as the text the `local_date` columns compare against.
pub(crate) fn bounds(from: Option<Date>, to: Option<Date>) -> (String, String) {
    (
        from.map_or_else(|| "0000-01-01".to_string(), |d| d.to_string()),
        to.map_or_else(|| "9999-12-31".to_string(), |d| d.to_string()),
    )
}

/// A treatment with its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTreatment {
    pub id: Id,
    pub patient_id: Id,
    #[serde(flatten)]
    pub value: Treatment,
}

/// A regimen with the treatment it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRegimen {
    pub id: Id,
    pub patient_id: Id,
    pub treatment_id: Id,
    pub treatment_name: String,
    #[serde(flatten)]
    pub value: Regimen,
}

/// Records written together in one transaction: all of them or none.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub episodes: Vec<Episode>,
    pub checkins: Vec<CheckIn>,
    pub exercise: Vec<ExerciseSession>,
    pub events: Vec<ClinicalEvent>,
    /// (regimen id, dose)
    pub doses: Vec<(Id, DoseLog)>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.episodes.len() + self.checkins.len() + self.exercise.len() + self.events.len() + self.doses.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub(crate) const INSERT_EPISODE: &str = "INSERT INTO episodes (patient_id, started_at_ms, time_zone, local_date, kind, family, regions, pain, duration_s, triggers, trigger_note, notes, recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
pub(crate) const UPSERT_CHECKIN: &str = "INSERT INTO checkins (patient_id, local_date, spasticity_nrs, pain_nrs, psfs_frequency, psfs_severity, night_wakings, log_complete, note, recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (patient_id, local_date) DO UPDATE SET spasticity_nrs = excluded.spasticity_nrs, pain_nrs = excluded.pain_nrs, psfs_frequency = excluded.psfs_frequency, psfs_severity = excluded.psfs_severity, night_wakings = excluded.night_wakings, log_complete = excluded.log_complete, note = excluded.note, recorded_at_ms = excluded.recorded_at_ms RETURNING id";
pub(crate) const INSERT_EXERCISE: &str = "INSERT INTO exercise_sessions (patient_id, at_ms, time_zone, local_date, exercise_type, minutes, exertion, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
pub(crate) const INSERT_EVENT: &str = "INSERT INTO clinical_events (patient_id, kind, start_date, end_date, detail, summary) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
pub(crate) const INSERT_DOSE: &str = "INSERT INTO dose_logs (patient_id, regimen_id, at_ms, time_zone, local_date, status, note) SELECT $1, id, $3, $4, $5, $6, $7 FROM regimens WHERE id = $2 AND patient_id = $1 RETURNING id";

/// Binds an episode's columns in the order of [`INSERT_EPISODE`] (after the patient id).
macro_rules! bind_episode {
    ($q:expr, $e:expr) => {{
        let e: &tonus_domain::Episode = $e;
        $q.bind(e.started_at().millis())
            .bind(e.started_at().zone.name().to_string())
            .bind(e.started_at().local_date().to_string())
            .bind(e.kind().code())
            .bind(e.family().code())
            .bind($crate::rows::join_codes(e.regions()))
            .bind(e.pain().map(|p| i64::from(p.value())))
            .bind(e.duration_s().map(i64::from))
            .bind($crate::rows::join_codes(e.triggers()))
            .bind(e.trigger_note().map(str::to_string))
            .bind(e.notes().map(str::to_string))
            .bind(e.recorded_at().as_millisecond())
    }};
}
pub(crate) use bind_episode;

macro_rules! bind_checkin {
    ($q:expr, $c:expr) => {
        bind_checkin!($q, $c, jiff::Timestamp::now().as_millisecond())
    };
    // `$recorded`: when the answers were given (ms), for a check-in sent later from a queue.
    ($q:expr, $c:expr, $recorded:expr) => {{
        let c: &tonus_domain::CheckIn = $c;
        let recorded: i64 = $recorded;
        $q.bind(c.date().to_string())
            .bind(c.spasticity_nrs().map(i64::from))
            .bind(c.pain_nrs().map(i64::from))
            .bind(c.psfs_frequency().map(|v| i64::from(v.value())))
            .bind(c.psfs_severity().map(|v| i64::from(v.value())))
            .bind(c.night_wakings().map(i64::from))
            .bind(c.log_complete())
            .bind(c.note().map(str::to_string))
            .bind(recorded)
    }};
}
pub(crate) use bind_checkin;

macro_rules! bind_exercise {
    ($q:expr, $s:expr) => {{
        let s: &tonus_domain::ExerciseSession = $s;
        $q.bind(s.at().millis())
            .bind(s.at().zone.name().to_string())
            .bind(s.at().local_date().to_string())
            .bind(s.exercise_type().code())
            .bind(i64::from(s.minutes()))
            .bind(i64::from(s.exertion()))
            .bind(s.note().map(str::to_string))
    }};
}
pub(crate) use bind_exercise;

macro_rules! bind_event {
    ($q:expr, $e:expr) => {{
        let e: &tonus_domain::ClinicalEvent = $e;
        $q.bind(e.kind().code())
            .bind(e.on().to_string())
            .bind(e.until().map(|d| d.to_string()))
            .bind($crate::rows::event_detail(e.kind()))
            .bind(e.summary().map(str::to_string))
    }};
}
pub(crate) use bind_event;

macro_rules! bind_dose {
    ($q:expr, $regimen:expr, $d:expr) => {{
        let d: &tonus_domain::DoseLog = $d;
        $q.bind($regimen)
            .bind(d.at().millis())
            .bind(d.at().zone.name().to_string())
            .bind(d.at().local_date().to_string())
            .bind(d.status().code())
            .bind(d.note().map(str::to_string))
    }};
}
pub(crate) use bind_dose;

impl Store {
    // ----- patients -----

    pub async fn create_patient(&self, handle: &str, zone: &Zone) -> Result<Patient, StoreError> {
        let handle = tonus_domain::patient::validate_handle(handle).map_err(|e| StoreError::Conflict(e.to_string()))?;
        if self.patient_by_handle(&handle).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a patient named {handle:?} already exists"
            )));
        }
        let now = Timestamp::now().as_millisecond();
        let id: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("INSERT INTO patients (handle, time_zone, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                .bind(&handle).bind(zone.name()).bind(now)
                .fetch_one(pool).await.ctx("creating a patient")?
        });
        Ok(Patient {
            id,
            handle,
            zone: zone.clone(),
        })
    }

    pub async fn patient_by_handle(&self, handle: &str) -> Result<Option<Patient>, StoreError> {
        let row: Option<(i64, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, handle, time_zone FROM patients WHERE handle = $1")
                .bind(handle).fetch_optional(pool).await.ctx("finding a patient")?
        });
        row.map(patient_from_row).transpose()
    }

    pub async fn list_patients(&self) -> Result<Vec<Patient>, StoreError> {
        let rows: Vec<(i64, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, handle, time_zone FROM patients ORDER BY id")
                .fetch_all(pool).await.ctx("listing patients")?
        });
        rows.into_iter().map(patient_from_row).collect()
    }

    /// Deletes a patient and, by cascade, every record they own.
    pub async fn delete_patient(&self, patient: &Patient) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sqlx::query("DELETE FROM patients WHERE id = $1").bind(patient.id)
                .execute(pool).await.ctx("deleting a patient")?.rows_affected()
        });
        Ok(done > 0)
    }

    /// Changes the zone used for a patient's new entries; stored records keep their own.
    pub async fn set_patient_zone(&self, patient: &Patient, zone: &Zone) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE patients SET time_zone = $2 WHERE id = $1")
                .bind(patient.id).bind(zone.name())
                .execute(pool).await.ctx("changing a patient's time zone")?;
        });
        Ok(())
    }

    // ----- episodes -----

    /// Saves a new episode; returns once it is durable. On SQLite it joins the next group
    /// commit (see `group`). PostgreSQL already shares one WAL flush among the commits
    /// that reach it together, so each insert there commits on its own pooled connection.
    pub async fn insert_episode(&self, patient: &Patient, episode: &Episode) -> Result<Id, StoreError> {
        if let Some(group) = &self.group {
            return group.insert_episode(patient.id, episode).await;
        }
        let id: i64 = on_pool!(self, pool => {
            bind_episode!(sqlx::query_scalar(INSERT_EPISODE).bind(patient.id), episode)
                .fetch_one(pool).await.ctx("saving an episode")?
        });
        Ok(id)
    }

    pub async fn get_episode(&self, patient: &Patient, id: Id) -> Result<Option<Stored<Episode>>, StoreError> {
        let sql = format!("SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = $1 AND id = $2");
        let row: Option<EpisodeRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(id).fetch_optional(pool).await.ctx("reading an episode")?
        });
        row.map(EpisodeRow::into_domain).transpose()
    }

    pub async fn update_episode(&self, patient: &Patient, id: Id, episode: &Episode) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE episodes SET started_at_ms = $3, time_zone = $4, local_date = $5, kind = $6, family = $7, regions = $8, pain = $9, duration_s = $10, triggers = $11, trigger_note = $12, notes = $13, recorded_at_ms = $14 WHERE patient_id = $1 AND id = $2";
        let n = on_pool!(self, pool => {
            bind_episode!(sqlx::query(SQL).bind(patient.id).bind(id), episode)
                .execute(pool).await.ctx("updating an episode")?.rows_affected()
        });
        Ok(n > 0)
    }

    pub async fn delete_episode(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        self.delete_by_id("episodes", patient, id).await
    }

    /// Episodes whose local day lies in `from..=to`, oldest first; optionally one kind or family.
    pub async fn list_episodes(
        &self,
        patient: &Patient,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<Stored<Episode>>, StoreError> {
        let (lo, hi) = bounds(from, to);
        let sql = format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = $1 AND local_date >= $2 AND local_date <= $3 ORDER BY started_at_ms, id"
        );
        let rows: Vec<EpisodeRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("listing episodes")?
        });
        rows.into_iter().map(EpisodeRow::into_domain).collect()
    }

    /// (local day, family) of each episode in range: the input of daily counts.
    pub async fn episode_days(
        &self,
        patient: &Patient,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, Family)>, StoreError> {
        let (lo, hi) = bounds(Some(from), Some(to));
        let rows: Vec<(String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT local_date, kind FROM episodes WHERE patient_id = $1 AND local_date >= $2 AND local_date <= $3")
                .bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("counting episodes")?
        });
        rows.into_iter()
            .map(|(d, k)| {
                let bad = |e| StoreError::Corrupt {
                    table: "episodes",
                    id: 0,
                    source: e,
                };
                Ok((
                    parse_date("local_date", &d).map_err(bad)?,
                    SpasmKind::parse(&k).map_err(bad)?.family(),
                ))
            })
            .collect()
    }

    // ----- check-ins -----

    /// Saves the day's check-in, replacing an earlier one for the same day.
    pub async fn upsert_checkin(&self, patient: &Patient, checkin: &CheckIn) -> Result<Id, StoreError> {
        let id: i64 = on_pool!(self, pool => {
            bind_checkin!(sqlx::query_scalar(UPSERT_CHECKIN).bind(patient.id), checkin)
                .fetch_one(pool).await.ctx("saving a check-in")?
        });
        Ok(id)
    }

    pub async fn list_checkins(
        &self,
        patient: &Patient,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<Stored<CheckIn>>, StoreError> {
        let (lo, hi) = bounds(from, to);
        let sql = format!("SELECT {CHECKIN_COLUMNS} FROM checkins WHERE patient_id = $1 AND local_date >= $2 AND local_date <= $3 ORDER BY local_date");
        let rows: Vec<CheckInRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("listing check-ins")?
        });
        rows.into_iter().map(CheckInRow::into_domain).collect()
    }

    /// Days whose episode log the patient confirmed complete.
    pub async fn confirmed_days(&self, patient: &Patient, from: Date, to: Date) -> Result<BTreeSet<Date>, StoreError> {
        Ok(self
            .list_checkins(patient, Some(from), Some(to))
            .await?
            .into_iter()
            .filter(|c| c.value.log_complete())
            .map(|c| c.value.date())
            .collect())
    }

    pub async fn delete_checkin(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        self.delete_by_id("checkins", patient, id).await
    }

    // ----- exercise -----

    pub async fn insert_exercise(&self, patient: &Patient, session: &ExerciseSession) -> Result<Id, StoreError> {
        let id: i64 = on_pool!(self, pool => {
            bind_exercise!(sqlx::query_scalar(INSERT_EXERCISE).bind(patient.id), session)
                .fetch_one(pool).await.ctx("saving an exercise session")?
        });
        Ok(id)
    }

    pub async fn update_exercise(
        &self,
        patient: &Patient,
        id: Id,
        session: &ExerciseSession,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE exercise_sessions SET at_ms = $3, time_zone = $4, local_date = $5, exercise_type = $6, minutes = $7, exertion = $8, note = $9 WHERE patient_id = $1 AND id = $2";
        let n = on_pool!(self, pool => {
            bind_exercise!(sqlx::query(SQL).bind(patient.id).bind(id), session)
                .execute(pool).await.ctx("updating an exercise session")?.rows_affected()
        });
        Ok(n > 0)
    }

    pub async fn list_exercise(
        &self,
        patient: &Patient,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<Stored<ExerciseSession>>, StoreError> {
        let (lo, hi) = bounds(from, to);
        let sql = format!("SELECT {EXERCISE_COLUMNS} FROM exercise_sessions WHERE patient_id = $1 AND local_date >= $2 AND local_date <= $3 ORDER BY at_ms, id");
        let rows: Vec<ExerciseRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("listing exercise")?
        });
        rows.into_iter().map(ExerciseRow::into_domain).collect()
    }

    pub async fn get_exercise(&self, patient: &Patient, id: Id) -> Result<Option<Stored<ExerciseSession>>, StoreError> {
        let sql = format!("SELECT {EXERCISE_COLUMNS} FROM exercise_sessions WHERE patient_id = $1 AND id = $2");
        let row: Option<ExerciseRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(id).fetch_optional(pool).await.ctx("reading an exercise session")?
        });
        row.map(ExerciseRow::into_domain).transpose()
    }

    pub async fn delete_exercise(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        self.delete_by_id("exercise_sessions", patient, id).await
    }

    // ----- clinical events -----

    pub async fn insert_event(&self, patient: &Patient, event: &ClinicalEvent) -> Result<Id, StoreError> {
        let id: i64 = on_pool!(self, pool => {
            bind_event!(sqlx::query_scalar(INSERT_EVENT).bind(patient.id), event)
                .fetch_one(pool).await.ctx("saving a clinical event")?
        });
        Ok(id)
    }

    pub async fn list_events(
        &self,
        patient: &Patient,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<Stored<ClinicalEvent>>, StoreError> {
        let (lo, hi) = bounds(from, to);
        let sql = format!("SELECT {EVENT_COLUMNS} FROM clinical_events WHERE patient_id = $1 AND start_date >= $2 AND start_date <= $3 ORDER BY start_date, id");
        let rows: Vec<EventRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("listing clinical events")?
        });
        rows.into_iter().map(EventRow::into_domain).collect()
    }

    pub async fn get_event(&self, patient: &Patient, id: Id) -> Result<Option<Stored<ClinicalEvent>>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM clinical_events WHERE patient_id = $1 AND id = $2");
        let row: Option<EventRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(id).fetch_optional(pool).await.ctx("reading a clinical event")?
        });
        row.map(EventRow::into_domain).transpose()
    }

    /// Replaces a stored event; `false` when the patient has none with this id.
    pub async fn update_event(&self, patient: &Patient, id: Id, event: &ClinicalEvent) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE clinical_events SET kind = $3, start_date = $4, end_date = $5, detail = $6, summary = $7 WHERE patient_id = $1 AND id = $2";
        let n = on_pool!(self, pool => {
            bind_event!(sqlx::query(SQL).bind(patient.id).bind(id), event)
                .execute(pool).await.ctx("updating a clinical event")?.rows_affected()
        });
        Ok(n > 0)
    }

    pub async fn delete_event(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        self.delete_by_id("clinical_events", patient, id).await
    }

    // ----- batches -----

    /// Writes every record of `batch` in one transaction: on any error nothing is stored.
    pub async fn insert_batch(&self, patient: &Patient, batch: &Batch) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.ctx("starting a transaction")?;
            for e in &batch.episodes {
                bind_episode!(sqlx::query(INSERT_EPISODE).bind(patient.id), e)
                    .execute(&mut *tx).await.ctx("saving an episode")?;
            }
            for c in &batch.checkins {
                bind_checkin!(sqlx::query(UPSERT_CHECKIN).bind(patient.id), c)
                    .execute(&mut *tx).await.ctx("saving a check-in")?;
            }
            for s in &batch.exercise {
                bind_exercise!(sqlx::query(INSERT_EXERCISE).bind(patient.id), s)
                    .execute(&mut *tx).await.ctx("saving an exercise session")?;
            }
            for e in &batch.events {
                bind_event!(sqlx::query(INSERT_EVENT).bind(patient.id), e)
                    .execute(&mut *tx).await.ctx("saving a clinical event")?;
            }
            for (regimen, d) in &batch.doses {
                let r = bind_dose!(sqlx::query(INSERT_DOSE).bind(patient.id), *regimen, d)
                    .execute(&mut *tx).await.ctx("saving a dose")?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::Conflict(format!("regimen {regimen} does not exist")));
                }
            }
            tx.commit().await.ctx("committing")?;
        });
        Ok(())
    }

    pub(crate) async fn delete_by_id(
        &self,
        table: &'static str,
        patient: &Patient,
        id: Id,
    ) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM {table} WHERE patient_id = $1 AND id = $2");
        let n = on_pool!(self, pool => {
            sqlx::query(&sql).bind(patient.id).bind(id).execute(pool).await.ctx("deleting a record")?.rows_affected()
        });
        Ok(n > 0)
    }
}

pub(crate) fn patient_from_row((id, handle, zone): (i64, String, String)) -> Result<Patient, StoreError> {
    let zone = Zone::parse(&zone).map_err(|source| StoreError::Corrupt {
        table: "patients",
        id,
        source,
    })?;
    Ok(Patient { id, handle, zone })
}
