//! Bulk writes for imports and restores: one transaction, with the many-row record types
//! (episodes, exercise sessions, doses) buffered and sent a batch at a time: multi-row
//! `INSERT`s on SQLite, `COPY … FROM STDIN` on PostgreSQL. One statement per row made an
//! import of 200,000 episodes seven times slower than the `sqlite3` shell and a round trip
//! per row on PostgreSQL (issue #15). Buffers are bounded, so a caller that streams its
//! input keeps memory flat however long the file is.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use jiff::Timestamp;
use sqlx::{Postgres, Sqlite, Transaction};
use tonus_domain::{
    CheckIn, ClinicalEvent, DoseLog, Episode, ExerciseSession, Id, Patient, RecordUid, Regimen, SideEffect,
};

use crate::archive::{DoseRef, PatientRecords, PatientSnapshot, TreatmentRecords, REGIMEN_SQL};
use crate::connect::{Backend, Store};
use crate::error::{Context, StoreError};
use crate::repo::{bind_checkin, bind_event};
use crate::rows::RegimenRow;
use crate::side_effects::bind_side_effect;

/// Rows per multi-row `INSERT` on SQLite: 256 × 13 episode columns stays far below SQLite's
/// 32,766 bound parameters, and beyond a few hundred rows the statement no longer gets
/// cheaper per row.
pub(crate) const SQLITE_ROWS: usize = 256;
/// Rows per `COPY` on PostgreSQL: each `COPY` is one round trip, so this only bounds memory.
const POSTGRES_ROWS: usize = 8192;

// Every row the bulk writer sends carries its uid (issue #13), the last column.
pub(crate) const EPISODE_COLUMNS: &str = "patient_id, started_at_ms, time_zone, local_date, kind, family, regions, pain, duration_s, triggers, trigger_note, notes, recorded_at_ms, uid";
pub(crate) const EXERCISE_COLUMNS: &str =
    "patient_id, at_ms, time_zone, local_date, exercise_type, minutes, exertion, note, uid";
pub(crate) const DOSE_COLUMNS: &str = "patient_id, regimen_id, at_ms, time_zone, local_date, status, note, uid";
/// As `repo::UPSERT_CHECKIN`, with the uid; a check-in replacing the day's stored one keeps
/// the stored one's uid (the day's check-in is one record, whatever its answers).
const UPSERT_CHECKIN: &str = "INSERT INTO checkins (patient_id, local_date, spasticity_nrs, pain_nrs, psfs_frequency, psfs_severity, night_wakings, log_complete, note, recorded_at_ms, uid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (patient_id, local_date) DO UPDATE SET spasticity_nrs = excluded.spasticity_nrs, pain_nrs = excluded.pain_nrs, psfs_frequency = excluded.psfs_frequency, psfs_severity = excluded.psfs_severity, night_wakings = excluded.night_wakings, log_complete = excluded.log_complete, note = excluded.note, recorded_at_ms = excluded.recorded_at_ms";
const INSERT_EVENT: &str = "INSERT INTO clinical_events (patient_id, kind, start_date, end_date, detail, summary, uid) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const INSERT_SIDE_EFFECT: &str = "INSERT INTO side_effects (patient_id, at_ms, time_zone, local_date, effect, description, severity, treatment_id, note, recorded_at_ms, uid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
/// Every uid the patient has, whatever the table: an import skips the records they name.
pub(crate) const PATIENT_UIDS: &str = "SELECT uid FROM episodes WHERE patient_id = $1 UNION ALL SELECT uid FROM checkins WHERE patient_id = $1 UNION ALL SELECT uid FROM exercise_sessions WHERE patient_id = $1 UNION ALL SELECT uid FROM clinical_events WHERE patient_id = $1 UNION ALL SELECT uid FROM side_effects WHERE patient_id = $1 UNION ALL SELECT uid FROM dose_logs WHERE patient_id = $1 UNION ALL SELECT uid FROM regimens WHERE patient_id = $1 UNION ALL SELECT uid FROM treatments WHERE patient_id = $1";

pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$tx` bound to whichever open transaction the writer holds.
macro_rules! on_tx {
    ($tx_field:expr, $tx:ident => $body:expr) => {
        match &mut $tx_field {
            Tx::Sqlite($tx) => $body,
            Tx::Postgres($tx) => $body,
        }
    };
}
pub(crate) use on_tx;

/// Key that finds a regimen from a [`DoseRef`]: treatment name (case folded) and start day.
fn regimen_key(name: &str, start: Date) -> (String, Date) {
    (name.trim().to_lowercase(), start)
}

/// An open write transaction for one patient's records: all of them are stored by
/// [`BulkWriter::commit`], none if it is never called (dropping the writer, or
/// [`BulkWriter::rollback`], undoes everything sent so far).
pub struct BulkWriter {
    pub(crate) tx: Tx,
    patient_id: Id,
    rows: usize,
    treatment_ids: BTreeMap<String, Id>,
    /// (regimen id, treatment id, regimen) of every regimen the patient has.
    regimens: Vec<(Id, Id, Regimen)>,
    by_key: BTreeMap<(String, Date), Id>,
    /// Every uid the patient has (stored, or written through this writer): a record bringing
    /// one of them is already here, and is skipped, so importing the same data twice stores
    /// it once (issue #13).
    known: HashSet<RecordUid>,
    /// The patient's treatments and regimens by uid: found first by uid, then by name or value.
    treatment_uids: HashMap<RecordUid, Id>,
    regimen_uids: HashMap<RecordUid, Id>,
    /// Records skipped because their uid was known, since the writer opened.
    skipped: usize,
    /// Treatments and regimens the patient had already, reused rather than written again.
    reused: usize,
    episodes: Vec<(RecordUid, Episode)>,
    exercise: Vec<(RecordUid, ExerciseSession)>,
    doses: Vec<(Id, RecordUid, DoseLog)>,
}

impl Store {
    /// Opens a bulk write for `patient` (SQLite: taking the write lock at once).
    pub async fn bulk_writer(&self, patient: &Patient) -> Result<BulkWriter, StoreError> {
        let mut w = self.begin_bulk().await?;
        w.switch_patient(patient.id).await?;
        Ok(w)
    }

    pub(crate) async fn begin_bulk(&self) -> Result<BulkWriter, StoreError> {
        let begin = self.write_tx_statement();
        let (tx, rows) = match &self.backend {
            Backend::Sqlite(pool) => (
                Tx::Sqlite(pool.begin_with(begin).await.ctx("starting a transaction")?),
                SQLITE_ROWS,
            ),
            Backend::Postgres(pool) => (
                Tx::Postgres(pool.begin_with(begin).await.ctx("starting a transaction")?),
                POSTGRES_ROWS,
            ),
        };
        Ok(BulkWriter {
            tx,
            patient_id: 0,
            rows,
            treatment_ids: BTreeMap::new(),
            regimens: Vec::new(),
            by_key: BTreeMap::new(),
            known: HashSet::new(),
            treatment_uids: HashMap::new(),
            regimen_uids: HashMap::new(),
            skipped: 0,
            reused: 0,
            episodes: Vec::with_capacity(rows),
            exercise: Vec::new(),
            doses: Vec::new(),
        })
    }

    /// Adds `records` and the loose `doses` to `patient` in one transaction: all or nothing.
    /// Check-ins replace an existing one for the same day, as everywhere else. Records whose
    /// uid the patient has already are skipped; returns how many were.
    pub async fn add_records(
        &self,
        patient: &Patient,
        records: &PatientRecords,
        doses: &[DoseRef],
    ) -> Result<usize, StoreError> {
        let mut w = self.bulk_writer(patient).await?;
        w.records(records, doses).await?;
        let skipped = w.skipped();
        w.commit().await?;
        Ok(skipped)
    }

    /// Every uid `patient`'s records have (issue #13): what an import into them would skip.
    pub async fn record_uids(&self, patient: &Patient) -> Result<HashSet<RecordUid>, StoreError> {
        let rows: Vec<String> = crate::connect::on_pool!(self, pool => {
            sqlx::query_scalar(PATIENT_UIDS).bind(patient.id).fetch_all(pool).await.ctx("reading record uids")?
        });
        parse_uids(rows)
    }

    /// Restores patients from a backup in one transaction. A patient whose handle exists
    /// already is an error (nothing is written) unless `replace`, which deletes the existing
    /// patient and all their records first.
    pub async fn restore(&self, snapshots: &[PatientSnapshot], replace: bool) -> Result<Vec<Patient>, StoreError> {
        let now = Timestamp::now().as_millisecond();
        for s in snapshots {
            tonus_domain::patient::validate_handle(&s.handle).map_err(|e| StoreError::Conflict(e.to_string()))?;
        }
        let mut w = self.begin_bulk().await?;
        let mut restored = Vec::with_capacity(snapshots.len());
        for s in snapshots {
            // The previous patient's buffered rows go first: a backup naming one handle twice
            // deletes that patient again below.
            w.flush().await?;
            let id: i64 = on_tx!(w.tx, tx => {
                let old: Option<i64> = sqlx::query_scalar("SELECT id FROM patients WHERE handle = $1")
                    .bind(&s.handle).fetch_optional(&mut **tx).await.ctx("finding a patient")?;
                if let Some(old) = old {
                    if !replace {
                        return Err(StoreError::Conflict(format!(
                            "patient {:?} already exists; restore with --replace to overwrite their records",
                            s.handle
                        )));
                    }
                    sqlx::query("DELETE FROM patients WHERE id = $1").bind(old)
                        .execute(&mut **tx).await.ctx("deleting a patient")?;
                }
                sqlx::query_scalar("INSERT INTO patients (handle, time_zone, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                    .bind(&s.handle).bind(s.time_zone.name()).bind(now)
                    .fetch_one(&mut **tx).await.ctx("creating a patient")?
            });
            w.switch_patient(id).await?;
            w.records(&s.records, &[]).await?;
            restored.push(Patient {
                id,
                handle: s.handle.clone(),
                zone: s.time_zone.clone(),
            });
        }
        w.commit().await?;
        Ok(restored)
    }
}

impl BulkWriter {
    /// Sends what is buffered for the current patient, then writes for `patient_id` from now
    /// on, knowing that patient's stored treatments and regimens.
    pub(crate) async fn switch_patient(&mut self, patient_id: Id) -> Result<(), StoreError> {
        self.flush().await?;
        self.patient_id = patient_id;
        // (id, name, uid) of each stored treatment.
        type Treatments = Vec<(i64, String, String)>;
        let (existing, stored, uids): (Treatments, Vec<RegimenRow>, Vec<String>) = on_tx!(self.tx, tx => {
            let existing = sqlx::query_as("SELECT id, name, uid FROM treatments WHERE patient_id = $1")
                .bind(patient_id).fetch_all(&mut **tx).await.ctx("reading treatments")?;
            let stored = sqlx::query_as(REGIMEN_SQL)
                .bind(patient_id).fetch_all(&mut **tx).await.ctx("reading regimens")?;
            let uids = sqlx::query_scalar(PATIENT_UIDS)
                .bind(patient_id).fetch_all(&mut **tx).await.ctx("reading record uids")?;
            (existing, stored, uids)
        });
        self.known = parse_uids(uids)?;
        self.treatment_ids.clear();
        self.treatment_uids.clear();
        for (id, name, uid) in existing {
            self.treatment_ids.insert(name.to_lowercase(), id);
            self.treatment_uids
                .insert(crate::rows::row_uid("treatments", id, Some(&uid))?, id);
        }
        self.regimens.clear();
        self.by_key.clear();
        self.regimen_uids.clear();
        for row in stored {
            self.regimen_uids.insert(row.uid()?, row.id);
            let r = row.regimen()?;
            self.by_key
                .entry(regimen_key(&row.treatment_name, r.start()))
                .or_insert(row.id);
            self.regimens.push((row.id, row.treatment_id, r));
        }
        Ok(())
    }

    /// Records skipped so far because the patient had their uid already.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Records not written so far because the patient had them: those skipped by uid, and
    /// the treatments and regimens reused (by uid, name or value).
    pub fn unchanged(&self) -> usize {
        self.skipped + self.reused
    }

    /// The uid to store a record under: `None` when the patient has `uid` already (the
    /// record is then skipped and counted), else `uid`, or a new one for a record without.
    fn claim(&mut self, uid: Option<RecordUid>) -> Option<RecordUid> {
        let uid = uid.unwrap_or_else(RecordUid::new);
        if self.known.insert(uid) {
            Some(uid)
        } else {
            self.skipped += 1;
            None
        }
    }

    /// The uid for a new treatment or regimen: `uid` unless another record of the patient has
    /// it (a treatment is matched by name and a regimen by value, never skipped).
    fn fresh(&mut self, uid: Option<RecordUid>) -> RecordUid {
        let uid = uid.filter(|u| !self.known.contains(u)).unwrap_or_else(RecordUid::new);
        self.known.insert(uid);
        uid
    }

    /// Writes every record of `records` and the loose `doses`.
    pub(crate) async fn records(&mut self, records: &PatientRecords, doses: &[DoseRef]) -> Result<(), StoreError> {
        let uids = &records.uids;
        self.treatments(&records.treatments).await?;
        for d in doses {
            self.dose(d.clone()).await?;
        }
        for (i, e) in records.episodes.iter().enumerate() {
            self.episode(uids.episodes.get(i).copied(), e.clone()).await?;
        }
        for (i, c) in records.checkins.iter().enumerate() {
            self.checkin(uids.checkins.get(i).copied(), c).await?;
        }
        for (i, s) in records.exercise.iter().enumerate() {
            self.exercise(uids.exercise.get(i).copied(), s.clone()).await?;
        }
        for (i, e) in records.events.iter().enumerate() {
            self.event(uids.events.get(i).copied(), e).await?;
        }
        for (i, s) in records.side_effects.iter().enumerate() {
            self.side_effect(uids.side_effects.get(i).copied(), s).await?;
        }
        if let Some(identity) = records.identity.as_ref().filter(|i| !i.is_empty()) {
            let pid = self.patient_id;
            let text = crate::identity::encode(identity)?;
            on_tx!(self.tx, tx => {
                sqlx::query(crate::identity::INSERT_IF_NONE).bind(pid).bind(&text)
                    .execute(&mut **tx).await.ctx("saving the patient's identity")?;
            });
        }
        Ok(())
    }

    /// Writes treatments with their regimens and doses. A treatment the patient has (by
    /// uid, else by name ignoring case) is reused, and so is a regimen (by uid, else one
    /// identical to a stored one of the same treatment), so importing a treatments file
    /// twice does not double the history.
    pub async fn treatments(&mut self, treatments: &[TreatmentRecords]) -> Result<(), StoreError> {
        let pid = self.patient_id;
        for t in treatments {
            let key = t.treatment.name().to_lowercase();
            let found = t
                .uid
                .and_then(|u| self.treatment_uids.get(&u))
                .or_else(|| self.treatment_ids.get(&key))
                .copied();
            let tid = match found {
                Some(id) => {
                    self.reused += 1;
                    id
                }
                None => {
                    let uid = self.fresh(t.uid);
                    let id: i64 = on_tx!(self.tx, tx => {
                        sqlx::query_scalar("INSERT INTO treatments (patient_id, name, category, notes, uid) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                            .bind(pid).bind(t.treatment.name()).bind(t.treatment.category().code())
                            .bind(t.treatment.notes().map(str::to_string)).bind(uid.to_string())
                            .fetch_one(&mut **tx).await.ctx("saving a treatment")?
                    });
                    self.treatment_ids.insert(key, id);
                    self.treatment_uids.insert(uid, id);
                    id
                }
            };
            for r in &t.regimens {
                let same = r.uid.and_then(|u| self.regimen_uids.get(&u).copied()).or_else(|| {
                    self.regimens
                        .iter()
                        .find(|(_, t_id, stored)| *t_id == tid && *stored == r.regimen)
                        .map(|(id, _, _)| *id)
                });
                let rid = match same {
                    Some(id) => {
                        self.reused += 1;
                        id
                    }
                    None => {
                        let reg = &r.regimen;
                        let uid = self.fresh(r.uid);
                        let id: i64 = on_tx!(self.tx, tx => {
                            sqlx::query_scalar("INSERT INTO regimens (patient_id, treatment_id, dose_amount, dose_unit, route, schedule, start_date, end_date, uid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                                .bind(pid).bind(tid)
                                .bind(reg.dose().map(|d| d.amount())).bind(reg.dose().map(|d| d.unit().code()))
                                .bind(reg.route().map(|r| r.code())).bind(reg.schedule().code())
                                .bind(reg.start().to_string()).bind(reg.end().map(|d| d.to_string()))
                                .bind(uid.to_string())
                                .fetch_one(&mut **tx).await.ctx("saving a regimen")?
                        });
                        self.regimens.push((id, tid, reg.clone()));
                        self.regimen_uids.insert(uid, id);
                        self.by_key
                            .entry(regimen_key(t.treatment.name(), reg.start()))
                            .or_insert(id);
                        id
                    }
                };
                for (k, d) in r.doses.iter().enumerate() {
                    self.push_dose(rid, r.dose_uids.get(k).copied(), d.clone()).await?;
                }
            }
        }
        Ok(())
    }

    /// An episode, under `uid` (a new one when `None`); skipped if the patient has `uid`.
    pub async fn episode(&mut self, uid: Option<RecordUid>, episode: Episode) -> Result<(), StoreError> {
        let Some(uid) = self.claim(uid) else {
            return Ok(());
        };
        self.episodes.push((uid, episode));
        if self.episodes.len() >= self.rows {
            self.flush_episodes().await?;
        }
        Ok(())
    }

    pub async fn exercise(&mut self, uid: Option<RecordUid>, session: ExerciseSession) -> Result<(), StoreError> {
        let Some(uid) = self.claim(uid) else {
            return Ok(());
        };
        self.exercise.push((uid, session));
        if self.exercise.len() >= self.rows {
            self.flush_exercise().await?;
        }
        Ok(())
    }

    /// A dose naming its regimen by treatment and start day, among the stored regimens and
    /// those written through this writer.
    pub async fn dose(&mut self, dose: DoseRef) -> Result<(), StoreError> {
        let rid = *self
            .by_key
            .get(&regimen_key(&dose.treatment, dose.regimen_start))
            .ok_or_else(|| {
                StoreError::Conflict(format!(
                    "a dose names a regimen of {:?} starting {}, which does not exist",
                    dose.treatment, dose.regimen_start
                ))
            })?;
        self.push_dose(rid, dose.uid, dose.dose).await
    }

    async fn push_dose(&mut self, regimen: Id, uid: Option<RecordUid>, dose: DoseLog) -> Result<(), StoreError> {
        let Some(uid) = self.claim(uid) else {
            return Ok(());
        };
        self.doses.push((regimen, uid, dose));
        if self.doses.len() >= self.rows {
            self.flush_doses().await?;
        }
        Ok(())
    }

    /// Check-ins (one a day) and clinical events are few, so they go one statement each; a
    /// check-in replaces a stored one for the same day.
    pub async fn checkin(&mut self, uid: Option<RecordUid>, checkin: &CheckIn) -> Result<(), StoreError> {
        let pid = self.patient_id;
        let Some(uid) = self.claim(uid) else {
            return Ok(());
        };
        on_tx!(self.tx, tx => {
            bind_checkin!(sqlx::query(UPSERT_CHECKIN).bind(pid), checkin).bind(uid.to_string())
                .execute(&mut **tx).await.ctx("saving a check-in")?;
        });
        Ok(())
    }

    pub async fn event(&mut self, uid: Option<RecordUid>, event: &ClinicalEvent) -> Result<(), StoreError> {
        let pid = self.patient_id;
        let Some(uid) = self.claim(uid) else {
            return Ok(());
        };
        on_tx!(self.tx, tx => {
            bind_event!(sqlx::query(INSERT_EVENT).bind(pid), event).bind(uid.to_string())
                .execute(&mut **tx).await.ctx("saving a clinical event")?;
        });
        Ok(())
    }

    /// Side effects are few, like events; the suspected treatment must be one of the
    /// patient's, stored or written through this writer.
    pub async fn side_effect(&mut self, uid: Option<RecordUid>, effect: &SideEffect) -> Result<(), StoreError> {
        let pid = self.patient_id;
        let Some(uid) = self.claim(uid) else {
            return Ok(());
        };
        let treatment = match effect.suspected_treatment() {
            Some(name) => Some(*self.treatment_ids.get(&name.trim().to_lowercase()).ok_or_else(|| {
                StoreError::Invalid(tonus_domain::ValidationError::new(
                    "suspected_treatment",
                    "the name of a treatment of the patient",
                    format!("{name:?}"),
                ))
            })?),
            None => None,
        };
        let now = Timestamp::now().as_millisecond();
        on_tx!(self.tx, tx => {
            bind_side_effect!(sqlx::query(INSERT_SIDE_EFFECT).bind(pid), effect, treatment)
                .bind(now).bind(uid.to_string())
                .execute(&mut **tx).await.ctx("saving a side effect")?;
        });
        Ok(())
    }

    /// Sends every buffered row and commits: from here on, everything is stored.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.flush().await?;
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await.ctx("committing")?,
            Tx::Postgres(tx) => tx.commit().await.ctx("committing")?,
        }
        Ok(())
    }

    /// Undoes everything written through this writer now, releasing the write lock at once
    /// instead of when the connection is next used.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.rollback().await.ctx("rolling back")?,
            Tx::Postgres(tx) => tx.rollback().await.ctx("rolling back")?,
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        self.flush_episodes().await?;
        self.flush_exercise().await?;
        self.flush_doses().await
    }
}

/// Uids as stored, read back: a malformed one is a corrupt row.
fn parse_uids(rows: Vec<String>) -> Result<HashSet<RecordUid>, StoreError> {
    rows.iter()
        .map(|t| crate::rows::row_uid("a record table", 0, Some(t)))
        .collect()
}

#[path = "bulk_copy.rs"]
mod copy;

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
