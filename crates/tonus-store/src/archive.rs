//! Whole-patient reads and writes: the consistent snapshot behind backups, archives and
//! exports; restoring snapshots; adding imported records in one transaction; and SQLite's
//! online backup (`VACUUM INTO`, never a file copy, so a backup taken while others write is
//! still a consistent database).

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, CheckIn, ClinicalEvent, DoseLog, Episode, ExerciseSession, Id, Patient, Regimen, Treatment,
};

use crate::connect::{on_pool, Backend, Store};
use crate::error::{Context, StoreError};
use crate::repo::{
    bind_checkin, bind_dose, bind_episode, bind_event, bind_exercise, INSERT_DOSE, INSERT_EPISODE, INSERT_EVENT,
    INSERT_EXERCISE, UPSERT_CHECKIN,
};
use crate::rows::{
    CheckInRow, DoseLogRow, EpisodeRow, EventRow, ExerciseRow, RegimenRow, CHECKIN_COLUMNS, DOSE_LOG_COLUMNS,
    EPISODE_COLUMNS, EVENT_COLUMNS, EXERCISE_COLUMNS,
};

/// Every record one patient owns, without database ids: what a backup keeps and a restore
/// or import writes. Doses sit under their regimen and regimens under their treatment, so
/// the structure itself carries the links that ids carry in the database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientRecords {
    pub treatments: Vec<TreatmentRecords>,
    pub episodes: Vec<Episode>,
    pub checkins: Vec<CheckIn>,
    pub exercise: Vec<ExerciseSession>,
    pub events: Vec<ClinicalEvent>,
}

impl PatientRecords {
    /// Number of records of every kind (treatments, regimens and doses included).
    pub fn len(&self) -> usize {
        let nested: usize = self
            .treatments
            .iter()
            .map(|t| 1 + t.regimens.iter().map(|r| 1 + r.doses.len()).sum::<usize>())
            .sum();
        nested + self.episodes.len() + self.checkins.len() + self.exercise.len() + self.events.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreatmentRecords {
    pub treatment: Treatment,
    pub regimens: Vec<RegimenRecords>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegimenRecords {
    pub regimen: Regimen,
    pub doses: Vec<DoseLog>,
}

/// One patient as a backup holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientSnapshot {
    pub handle: String,
    pub time_zone: Zone,
    #[serde(flatten)]
    pub records: PatientRecords,
}

/// A dose that names its regimen by treatment name and regimen start day, as a CSV row does
/// (a file has no database ids).
#[derive(Debug, Clone, PartialEq)]
pub struct DoseRef {
    pub treatment: String,
    pub regimen_start: Date,
    pub dose: DoseLog,
}

/// Key that finds a regimen from a [`DoseRef`]: treatment name (case folded) and start day.
fn regimen_key(name: &str, start: Date) -> (String, Date) {
    (name.trim().to_lowercase(), start)
}

/// Reads every record of patient `$pid` through the open transaction `$tx`.
macro_rules! read_records {
    ($tx:expr, $pid:expr) => {{
        let pid: Id = $pid;
        let mut records = PatientRecords::default();
        let treatments: Vec<(i64, String, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, category, notes FROM treatments WHERE patient_id = $1 ORDER BY id")
                .bind(pid)
                .fetch_all(&mut *$tx)
                .await
                .ctx("reading treatments")?;
        let regimens: Vec<RegimenRow> = sqlx::query_as(REGIMEN_SQL)
            .bind(pid)
            .fetch_all(&mut *$tx)
            .await
            .ctx("reading regimens")?;
        let doses: Vec<DoseLogRow> = sqlx::query_as(&format!(
            "SELECT {DOSE_LOG_COLUMNS} FROM dose_logs WHERE patient_id = $1 ORDER BY at_ms, id"
        ))
        .bind(pid)
        .fetch_all(&mut *$tx)
        .await
        .ctx("reading doses")?;
        let mut doses_by_regimen: BTreeMap<Id, Vec<DoseLog>> = BTreeMap::new();
        for row in doses {
            let (rid, d) = row.into_domain()?;
            doses_by_regimen.entry(rid).or_default().push(d.value);
        }
        let mut regimens_by_treatment: BTreeMap<Id, Vec<RegimenRecords>> = BTreeMap::new();
        for row in regimens {
            let regimen = row.regimen()?;
            regimens_by_treatment
                .entry(row.treatment_id)
                .or_default()
                .push(RegimenRecords {
                    regimen,
                    doses: doses_by_regimen.remove(&row.id).unwrap_or_default(),
                });
        }
        for (id, name, category, notes) in treatments {
            let treatment = Category::parse(&category)
                .and_then(|c| Treatment::new(&name, c, notes.as_deref()))
                .map_err(|source| StoreError::Corrupt {
                    table: "treatments",
                    id,
                    source,
                })?;
            records.treatments.push(TreatmentRecords {
                treatment,
                regimens: regimens_by_treatment.remove(&id).unwrap_or_default(),
            });
        }
        let rows: Vec<EpisodeRow> = sqlx::query_as(&format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = $1 ORDER BY started_at_ms, id"
        ))
        .bind(pid)
        .fetch_all(&mut *$tx)
        .await
        .ctx("reading episodes")?;
        for r in rows {
            records.episodes.push(r.into_domain()?.value);
        }
        let rows: Vec<CheckInRow> = sqlx::query_as(&format!(
            "SELECT {CHECKIN_COLUMNS} FROM checkins WHERE patient_id = $1 ORDER BY local_date"
        ))
        .bind(pid)
        .fetch_all(&mut *$tx)
        .await
        .ctx("reading check-ins")?;
        for r in rows {
            records.checkins.push(r.into_domain()?.value);
        }
        let rows: Vec<ExerciseRow> = sqlx::query_as(&format!(
            "SELECT {EXERCISE_COLUMNS} FROM exercise_sessions WHERE patient_id = $1 ORDER BY at_ms, id"
        ))
        .bind(pid)
        .fetch_all(&mut *$tx)
        .await
        .ctx("reading exercise")?;
        for r in rows {
            records.exercise.push(r.into_domain()?.value);
        }
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM clinical_events WHERE patient_id = $1 ORDER BY start_date, id"
        ))
        .bind(pid)
        .fetch_all(&mut *$tx)
        .await
        .ctx("reading clinical events")?;
        for r in rows {
            records.events.push(r.into_domain()?.value);
        }
        records
    }};
}

/// Writes `$records` (and the loose `$doses`) for patient `$pid` through transaction `$tx`.
/// A treatment whose name exists already (ignoring case) is reused, and a regimen identical
/// to a stored one of the same treatment is reused, so importing a treatments file twice
/// does not double the history.
macro_rules! write_records {
    ($tx:expr, $pid:expr, $records:expr, $doses:expr) => {{
        let pid: Id = $pid;
        let records: &PatientRecords = $records;
        let loose: &[DoseRef] = $doses;
        let existing: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM treatments WHERE patient_id = $1")
            .bind(pid)
            .fetch_all(&mut *$tx)
            .await
            .ctx("reading treatments")?;
        let mut treatment_ids: BTreeMap<String, Id> =
            existing.into_iter().map(|(id, name)| (name.to_lowercase(), id)).collect();
        let stored: Vec<RegimenRow> = sqlx::query_as(REGIMEN_SQL)
            .bind(pid)
            .fetch_all(&mut *$tx)
            .await
            .ctx("reading regimens")?;
        // (treatment id, regimen) of every stored regimen, and the dose key of each.
        let mut regimens: Vec<(Id, Id, Regimen)> = Vec::new();
        let mut by_key: BTreeMap<(String, Date), Id> = BTreeMap::new();
        for row in stored {
            let r = row.regimen()?;
            by_key.entry(regimen_key(&row.treatment_name, r.start())).or_insert(row.id);
            regimens.push((row.id, row.treatment_id, r));
        }
        for t in &records.treatments {
            let key = t.treatment.name().to_lowercase();
            let tid = match treatment_ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO treatments (patient_id, name, category, notes) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(pid)
                    .bind(t.treatment.name())
                    .bind(t.treatment.category().code())
                    .bind(t.treatment.notes().map(str::to_string))
                    .fetch_one(&mut *$tx)
                    .await
                    .ctx("saving a treatment")?;
                    treatment_ids.insert(key, id);
                    id
                }
            };
            for r in &t.regimens {
                let same = regimens
                    .iter()
                    .find(|(_, t_id, stored)| *t_id == tid && *stored == r.regimen)
                    .map(|(id, _, _)| *id);
                let rid = match same {
                    Some(id) => id,
                    None => {
                        let reg = &r.regimen;
                        let id: i64 = sqlx::query_scalar("INSERT INTO regimens (patient_id, treatment_id, dose_amount, dose_unit, route, schedule, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                            .bind(pid).bind(tid)
                            .bind(reg.dose().map(|d| d.amount())).bind(reg.dose().map(|d| d.unit().code()))
                            .bind(reg.route().map(|r| r.code())).bind(reg.schedule().code())
                            .bind(reg.start().to_string()).bind(reg.end().map(|d| d.to_string()))
                            .fetch_one(&mut *$tx).await.ctx("saving a regimen")?;
                        regimens.push((id, tid, reg.clone()));
                        by_key.entry(regimen_key(t.treatment.name(), reg.start())).or_insert(id);
                        id
                    }
                };
                for d in &r.doses {
                    bind_dose!(sqlx::query(INSERT_DOSE).bind(pid), rid, d)
                        .execute(&mut *$tx)
                        .await
                        .ctx("saving a dose")?;
                }
            }
        }
        for d in loose {
            let rid = by_key.get(&regimen_key(&d.treatment, d.regimen_start)).ok_or_else(|| {
                StoreError::Conflict(format!(
                    "a dose names a regimen of {:?} starting {}, which does not exist",
                    d.treatment, d.regimen_start
                ))
            })?;
            bind_dose!(sqlx::query(INSERT_DOSE).bind(pid), *rid, &d.dose)
                .execute(&mut *$tx)
                .await
                .ctx("saving a dose")?;
        }
        for e in &records.episodes {
            bind_episode!(sqlx::query(INSERT_EPISODE).bind(pid), e)
                .execute(&mut *$tx)
                .await
                .ctx("saving an episode")?;
        }
        for c in &records.checkins {
            bind_checkin!(sqlx::query(UPSERT_CHECKIN).bind(pid), c)
                .execute(&mut *$tx)
                .await
                .ctx("saving a check-in")?;
        }
        for s in &records.exercise {
            bind_exercise!(sqlx::query(INSERT_EXERCISE).bind(pid), s)
                .execute(&mut *$tx)
                .await
                .ctx("saving an exercise session")?;
        }
        for e in &records.events {
            bind_event!(sqlx::query(INSERT_EVENT).bind(pid), e)
                .execute(&mut *$tx)
                .await
                .ctx("saving a clinical event")?;
        }
    }};
}

const REGIMEN_SQL: &str = "SELECT r.id, r.patient_id, r.treatment_id, t.name AS treatment_name, t.category, r.dose_amount, r.dose_unit, r.route, r.schedule, r.start_date, r.end_date FROM regimens r JOIN treatments t ON t.id = r.treatment_id WHERE r.patient_id = $1 ORDER BY r.treatment_id, r.start_date, r.id";

impl Store {
    /// The statement that opens a read transaction seeing one consistent state: PostgreSQL
    /// needs REPEATABLE READ for that (its default READ COMMITTED gives each statement a new
    /// snapshot); an SQLite read transaction in WAL mode keeps its snapshot already.
    fn read_tx_statement(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "BEGIN",
            Backend::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }

    /// SQLite write transactions take the write lock at once (IMMEDIATE), so a concurrent
    /// writer makes us wait (busy timeout) instead of failing half-way.
    pub(crate) fn write_tx_statement(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "BEGIN IMMEDIATE",
            Backend::Postgres(_) => "BEGIN",
        }
    }

    /// Every record of every patient (or only `only`), read in one transaction so the copy is
    /// consistent even while others write.
    pub async fn snapshot(&self, only: Option<&Patient>) -> Result<Vec<PatientSnapshot>, StoreError> {
        let begin = self.read_tx_statement();
        let out = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a read transaction")?;
            let patients: Vec<(i64, String, String)> = match only {
                Some(p) => sqlx::query_as("SELECT id, handle, time_zone FROM patients WHERE id = $1 ORDER BY id")
                    .bind(p.id).fetch_all(&mut *tx).await.ctx("reading patients")?,
                None => sqlx::query_as("SELECT id, handle, time_zone FROM patients ORDER BY id")
                    .fetch_all(&mut *tx).await.ctx("reading patients")?,
            };
            let mut out = Vec::with_capacity(patients.len());
            for (id, handle, zone) in patients {
                let time_zone = Zone::parse(&zone).map_err(|source| StoreError::Corrupt { table: "patients", id, source })?;
                let records = read_records!(tx, id);
                out.push(PatientSnapshot { handle, time_zone, records });
            }
            tx.commit().await.ctx("ending a read transaction")?;
            out
        });
        Ok(out)
    }

    /// Every record of one patient, read consistently.
    pub async fn patient_records(&self, patient: &Patient) -> Result<PatientRecords, StoreError> {
        Ok(self
            .snapshot(Some(patient))
            .await?
            .into_iter()
            .next()
            .map(|s| s.records)
            .unwrap_or_default())
    }

    /// Adds `records` and the loose `doses` to `patient` in one transaction: all or nothing.
    /// Check-ins replace an existing one for the same day, as everywhere else.
    pub async fn add_records(
        &self,
        patient: &Patient,
        records: &PatientRecords,
        doses: &[DoseRef],
    ) -> Result<(), StoreError> {
        let begin = self.write_tx_statement();
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            write_records!(tx, patient.id, records, doses);
            tx.commit().await.ctx("committing")?;
        });
        Ok(())
    }

    /// Restores patients from a backup in one transaction. A patient whose handle exists
    /// already is an error (nothing is written) unless `replace`, which deletes the existing
    /// patient and all their records first.
    pub async fn restore(&self, snapshots: &[PatientSnapshot], replace: bool) -> Result<Vec<Patient>, StoreError> {
        let begin = self.write_tx_statement();
        let now = Timestamp::now().as_millisecond();
        let mut restored = Vec::with_capacity(snapshots.len());
        for s in snapshots {
            tonus_domain::patient::validate_handle(&s.handle).map_err(|e| StoreError::Conflict(e.to_string()))?;
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            for s in snapshots {
                let old: Option<i64> = sqlx::query_scalar("SELECT id FROM patients WHERE handle = $1")
                    .bind(&s.handle).fetch_optional(&mut *tx).await.ctx("finding a patient")?;
                if let Some(old) = old {
                    if !replace {
                        return Err(StoreError::Conflict(format!(
                            "patient {:?} already exists; restore with --replace to overwrite their records",
                            s.handle
                        )));
                    }
                    sqlx::query("DELETE FROM patients WHERE id = $1").bind(old)
                        .execute(&mut *tx).await.ctx("deleting a patient")?;
                }
                let id: i64 = sqlx::query_scalar("INSERT INTO patients (handle, time_zone, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                    .bind(&s.handle).bind(s.time_zone.name()).bind(now)
                    .fetch_one(&mut *tx).await.ctx("creating a patient")?;
                write_records!(tx, id, &s.records, &[]);
                restored.push(Patient { id, handle: s.handle.clone(), zone: s.time_zone.clone() });
            }
            tx.commit().await.ctx("committing")?;
        });
        Ok(restored)
    }

    /// Writes a consistent copy of the whole SQLite database to `dest` with `VACUUM INTO`,
    /// which works while others read and write (a plain file copy of a WAL database can
    /// miss committed pages or catch a half-written one). `dest` must not exist yet.
    pub async fn backup_sqlite_into(&self, dest: &Path) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &self.backend else {
            return Err(StoreError::Conflict(
                "an SQLite file backup needs an SQLite database; use the JSON archive format for PostgreSQL".into(),
            ));
        };
        if dest.exists() {
            return Err(StoreError::Conflict(format!(
                "{} exists already; choose a new file name (backups never overwrite)",
                dest.display()
            )));
        }
        let target = dest
            .to_str()
            .ok_or_else(|| StoreError::Conflict(format!("backup path {} is not valid UTF-8", dest.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(pool)
            .await
            .ctx("writing the backup with VACUUM INTO")?;
        Ok(())
    }
}
