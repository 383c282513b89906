//! Whole-patient reads: the consistent snapshot behind backups, archives and exports (the
//! writes, restoring snapshots and adding imported records, are in bulk.rs); and SQLite's
//! online backup (`VACUUM INTO`, never a file copy, so a backup taken while others write is
//! still a consistent database).

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, CheckIn, ClinicalEvent, DoseLog, Episode, ExerciseSession, Id, Patient, PatientIdentity, RecordUid,
    Regimen, SideEffect, Treatment,
};

use crate::connect::{on_pool, Backend, Store};
use crate::error::{Context, StoreError};
use crate::rows::{
    CheckInRow, DoseLogRow, EpisodeRow, EventRow, ExerciseRow, RegimenRow, SideEffectRow, CHECKIN_COLUMNS,
    DOSE_LOG_COLUMNS, EPISODE_COLUMNS, EVENT_COLUMNS, EXERCISE_COLUMNS, SIDE_EFFECT_COLUMNS,
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
    /// Absent from backups made before side effects were recorded.
    #[serde(default)]
    pub side_effects: Vec<SideEffect>,
    /// Name, birth date, sex and identifiers, when the patient gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<PatientIdentity>,
    /// The records' uids (issue #13). Absent from backups made before records had uids: their
    /// records get new ones when restored.
    #[serde(default, skip_serializing_if = "RecordUids::is_empty")]
    pub uids: RecordUids,
}

/// The uids of a [`PatientRecords`]' flat lists, position for position: `episodes[i]` is the
/// uid of `episodes[i]`. A list may be shorter than its records (a file without uids, a
/// record another system sent): the records past its end have none yet and get a new one
/// when stored. Kept beside the lists rather than in them so the domain values stay free of
/// storage identity and older archives load unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordUids {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub episodes: Vec<RecordUid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkins: Vec<RecordUid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exercise: Vec<RecordUid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<RecordUid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub side_effects: Vec<RecordUid>,
}

impl RecordUids {
    pub fn is_empty(&self) -> bool {
        self.episodes.is_empty()
            && self.checkins.is_empty()
            && self.exercise.is_empty()
            && self.events.is_empty()
            && self.side_effects.is_empty()
    }
}

/// Appends `value` to `list` and its `uid` at the same position of `uids`, first giving a new
/// uid to any earlier record that has none, so the two lists cannot drift apart.
pub fn push_with_uid<T>(list: &mut Vec<T>, uids: &mut Vec<RecordUid>, value: T, uid: RecordUid) {
    uids.resize_with(list.len(), RecordUid::new);
    list.push(value);
    uids.push(uid);
}

impl PatientRecords {
    /// Number of records of every kind (treatments, regimens and doses included).
    pub fn len(&self) -> usize {
        let nested: usize = self
            .treatments
            .iter()
            .map(|t| 1 + t.regimens.iter().map(|r| 1 + r.doses.len()).sum::<usize>())
            .sum();
        nested
            + self.episodes.len()
            + self.checkins.len()
            + self.exercise.len()
            + self.events.len()
            + self.side_effects.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same records without any uid: for comparing contents whatever the identities.
    pub fn without_uids(mut self) -> Self {
        self.uids = RecordUids::default();
        for t in &mut self.treatments {
            t.uid = None;
            for r in &mut t.regimens {
                r.uid = None;
                r.dose_uids.clear();
            }
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreatmentRecords {
    /// Absent from older archives and from files that carry no uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<RecordUid>,
    pub treatment: Treatment,
    pub regimens: Vec<RegimenRecords>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegimenRecords {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<RecordUid>,
    pub regimen: Regimen,
    pub doses: Vec<DoseLog>,
    /// The doses' uids, position for position, as [`RecordUids`] for the flat lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dose_uids: Vec<RecordUid>,
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
    /// The dose's uid, when the file gave one.
    pub uid: Option<RecordUid>,
}

/// Reads every record of patient `$pid` through the open transaction `$tx`.
macro_rules! read_records {
    ($tx:expr, $pid:expr) => {{
        let pid: Id = $pid;
        let mut records = PatientRecords::default();
        let treatments: Vec<(i64, String, String, Option<String>, String)> =
            sqlx::query_as("SELECT id, name, category, notes, uid FROM treatments WHERE patient_id = $1 ORDER BY id")
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
        let mut doses_by_regimen: BTreeMap<Id, (Vec<DoseLog>, Vec<RecordUid>)> = BTreeMap::new();
        for row in doses {
            let uid = row.uid()?;
            let (rid, d) = row.into_domain()?;
            let (list, uids) = doses_by_regimen.entry(rid).or_default();
            list.push(d.value);
            uids.push(uid);
        }
        let mut regimens_by_treatment: BTreeMap<Id, Vec<RegimenRecords>> = BTreeMap::new();
        for row in regimens {
            let regimen = row.regimen()?;
            let (doses, dose_uids) = doses_by_regimen.remove(&row.id).unwrap_or_default();
            regimens_by_treatment
                .entry(row.treatment_id)
                .or_default()
                .push(RegimenRecords {
                    uid: Some(row.uid()?),
                    regimen,
                    doses,
                    dose_uids,
                });
        }
        for (id, name, category, notes, uid) in treatments {
            let treatment = Category::parse(&category)
                .and_then(|c| Treatment::new(&name, c, notes.as_deref()))
                .map_err(|source| StoreError::Corrupt {
                    table: "treatments",
                    id,
                    source,
                })?;
            records.treatments.push(TreatmentRecords {
                uid: Some(crate::rows::row_uid("treatments", id, Some(&uid))?),
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
            records.uids.episodes.push(r.uid()?);
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
            records.uids.checkins.push(r.uid()?);
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
            records.uids.exercise.push(r.uid()?);
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
            records.uids.events.push(r.uid()?);
            records.events.push(r.into_domain()?.value);
        }
        let rows: Vec<SideEffectRow> = sqlx::query_as(&format!(
            "SELECT {SIDE_EFFECT_COLUMNS} FROM side_effects s LEFT JOIN treatments t ON t.id = s.treatment_id WHERE s.patient_id = $1 ORDER BY s.at_ms, s.id"
        ))
        .bind(pid)
        .fetch_all(&mut *$tx)
        .await
        .ctx("reading side effects")?;
        for r in rows {
            records.uids.side_effects.push(r.uid()?);
            records.side_effects.push(r.into_domain()?.value);
        }
        let identity: Option<String> = sqlx::query_scalar("SELECT identity FROM patient_identity WHERE patient_id = $1")
            .bind(pid)
            .fetch_optional(&mut *$tx)
            .await
            .ctx("reading the patient's identity")?;
        records.identity = identity.map(|t| crate::identity::decode(pid, &t)).transpose()?;
        records
    }};
}

pub(crate) const REGIMEN_SQL: &str = "SELECT r.id, r.patient_id, r.treatment_id, t.name AS treatment_name, t.category, r.dose_amount, r.dose_unit, r.route, r.schedule, r.start_date, r.end_date, r.uid FROM regimens r JOIN treatments t ON t.id = r.treatment_id WHERE r.patient_id = $1 ORDER BY r.treatment_id, r.start_date, r.id";

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
