//! Bulk writes for imports and restores: one transaction, with the many-row record types
//! (episodes, exercise sessions, doses) buffered and sent a batch at a time: multi-row
//! `INSERT`s on SQLite, `COPY … FROM STDIN` on PostgreSQL. One statement per row made an
//! import of 200,000 episodes seven times slower than the `sqlite3` shell and a round trip
//! per row on PostgreSQL (issue #15). Buffers are bounded, so a caller that streams its
//! input keeps memory flat however long the file is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use jiff::Timestamp;
use sqlx::{PgConnection, Postgres, Sqlite, Transaction};
use tonus_domain::{CheckIn, ClinicalEvent, DoseLog, Episode, ExerciseSession, Id, Patient, Regimen, SideEffect};

use crate::archive::{DoseRef, PatientRecords, PatientSnapshot, TreatmentRecords, REGIMEN_SQL};
use crate::connect::{Backend, Store};
use crate::error::{Context, StoreError};
use crate::repo::{bind_checkin, bind_dose, bind_episode, bind_event, bind_exercise, INSERT_EVENT, UPSERT_CHECKIN};
use crate::rows::{join_codes, RegimenRow};
use crate::side_effects::{bind_side_effect, INSERT as INSERT_SIDE_EFFECT};

/// Rows per multi-row `INSERT` on SQLite: 256 × 13 episode columns stays far below SQLite's
/// 32,766 bound parameters, and beyond a few hundred rows the statement no longer gets
/// cheaper per row.
const SQLITE_ROWS: usize = 256;
/// Rows per `COPY` on PostgreSQL: each `COPY` is one round trip, so this only bounds memory.
const POSTGRES_ROWS: usize = 8192;

const EPISODE_COLUMNS: &str = "patient_id, started_at_ms, time_zone, local_date, kind, family, regions, pain, duration_s, triggers, trigger_note, notes, recorded_at_ms";
const EXERCISE_COLUMNS: &str = "patient_id, at_ms, time_zone, local_date, exercise_type, minutes, exertion, note";
const DOSE_COLUMNS: &str = "patient_id, regimen_id, at_ms, time_zone, local_date, status, note";

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
    episodes: Vec<Episode>,
    exercise: Vec<ExerciseSession>,
    doses: Vec<(Id, DoseLog)>,
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
            episodes: Vec::with_capacity(rows),
            exercise: Vec::new(),
            doses: Vec::new(),
        })
    }

    /// Adds `records` and the loose `doses` to `patient` in one transaction: all or nothing.
    /// Check-ins replace an existing one for the same day, as everywhere else.
    pub async fn add_records(
        &self,
        patient: &Patient,
        records: &PatientRecords,
        doses: &[DoseRef],
    ) -> Result<(), StoreError> {
        let mut w = self.bulk_writer(patient).await?;
        w.records(records, doses).await?;
        w.commit().await
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
        let (existing, stored): (Vec<(i64, String)>, Vec<RegimenRow>) = on_tx!(self.tx, tx => {
            let existing = sqlx::query_as("SELECT id, name FROM treatments WHERE patient_id = $1")
                .bind(patient_id).fetch_all(&mut **tx).await.ctx("reading treatments")?;
            let stored = sqlx::query_as(REGIMEN_SQL)
                .bind(patient_id).fetch_all(&mut **tx).await.ctx("reading regimens")?;
            (existing, stored)
        });
        self.treatment_ids = existing
            .into_iter()
            .map(|(id, name)| (name.to_lowercase(), id))
            .collect();
        self.regimens.clear();
        self.by_key.clear();
        for row in stored {
            let r = row.regimen()?;
            self.by_key
                .entry(regimen_key(&row.treatment_name, r.start()))
                .or_insert(row.id);
            self.regimens.push((row.id, row.treatment_id, r));
        }
        Ok(())
    }

    /// Writes every record of `records` and the loose `doses`.
    pub(crate) async fn records(&mut self, records: &PatientRecords, doses: &[DoseRef]) -> Result<(), StoreError> {
        self.treatments(&records.treatments).await?;
        for d in doses {
            self.dose(d.clone()).await?;
        }
        for e in &records.episodes {
            self.episode(e.clone()).await?;
        }
        for c in &records.checkins {
            self.checkin(c).await?;
        }
        for s in &records.exercise {
            self.exercise(s.clone()).await?;
        }
        for e in &records.events {
            self.event(e).await?;
        }
        for s in &records.side_effects {
            self.side_effect(s).await?;
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

    /// Writes treatments with their regimens and doses. A treatment whose name exists already
    /// (ignoring case) is reused, and a regimen identical to a stored one of the same
    /// treatment is reused, so importing a treatments file twice does not double the history.
    pub async fn treatments(&mut self, treatments: &[TreatmentRecords]) -> Result<(), StoreError> {
        let pid = self.patient_id;
        for t in treatments {
            let key = t.treatment.name().to_lowercase();
            let tid = match self.treatment_ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id: i64 = on_tx!(self.tx, tx => {
                        sqlx::query_scalar("INSERT INTO treatments (patient_id, name, category, notes) VALUES ($1, $2, $3, $4) RETURNING id")
                            .bind(pid).bind(t.treatment.name()).bind(t.treatment.category().code())
                            .bind(t.treatment.notes().map(str::to_string))
                            .fetch_one(&mut **tx).await.ctx("saving a treatment")?
                    });
                    self.treatment_ids.insert(key, id);
                    id
                }
            };
            for r in &t.regimens {
                let same = self
                    .regimens
                    .iter()
                    .find(|(_, t_id, stored)| *t_id == tid && *stored == r.regimen)
                    .map(|(id, _, _)| *id);
                let rid = match same {
                    Some(id) => id,
                    None => {
                        let reg = &r.regimen;
                        let id: i64 = on_tx!(self.tx, tx => {
                            sqlx::query_scalar("INSERT INTO regimens (patient_id, treatment_id, dose_amount, dose_unit, route, schedule, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                                .bind(pid).bind(tid)
                                .bind(reg.dose().map(|d| d.amount())).bind(reg.dose().map(|d| d.unit().code()))
                                .bind(reg.route().map(|r| r.code())).bind(reg.schedule().code())
                                .bind(reg.start().to_string()).bind(reg.end().map(|d| d.to_string()))
                                .fetch_one(&mut **tx).await.ctx("saving a regimen")?
                        });
                        self.regimens.push((id, tid, reg.clone()));
                        self.by_key
                            .entry(regimen_key(t.treatment.name(), reg.start()))
                            .or_insert(id);
                        id
                    }
                };
                for d in &r.doses {
                    self.push_dose(rid, d.clone()).await?;
                }
            }
        }
        Ok(())
    }

    pub async fn episode(&mut self, episode: Episode) -> Result<(), StoreError> {
        self.episodes.push(episode);
        if self.episodes.len() >= self.rows {
            self.flush_episodes().await?;
        }
        Ok(())
    }

    pub async fn exercise(&mut self, session: ExerciseSession) -> Result<(), StoreError> {
        self.exercise.push(session);
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
        self.push_dose(rid, dose.dose).await
    }

    async fn push_dose(&mut self, regimen: Id, dose: DoseLog) -> Result<(), StoreError> {
        self.doses.push((regimen, dose));
        if self.doses.len() >= self.rows {
            self.flush_doses().await?;
        }
        Ok(())
    }

    /// Check-ins (one a day) and clinical events are few, so they go one statement each; a
    /// check-in replaces a stored one for the same day.
    pub async fn checkin(&mut self, checkin: &CheckIn) -> Result<(), StoreError> {
        let pid = self.patient_id;
        on_tx!(self.tx, tx => {
            bind_checkin!(sqlx::query(UPSERT_CHECKIN).bind(pid), checkin)
                .execute(&mut **tx).await.ctx("saving a check-in")?;
        });
        Ok(())
    }

    pub async fn event(&mut self, event: &ClinicalEvent) -> Result<(), StoreError> {
        let pid = self.patient_id;
        on_tx!(self.tx, tx => {
            bind_event!(sqlx::query(INSERT_EVENT).bind(pid), event)
                .execute(&mut **tx).await.ctx("saving a clinical event")?;
        });
        Ok(())
    }

    /// Side effects are few, like events; the suspected treatment must be one of the
    /// patient's, stored or written through this writer.
    pub async fn side_effect(&mut self, effect: &SideEffect) -> Result<(), StoreError> {
        let pid = self.patient_id;
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
                .bind(now)
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

    async fn flush_episodes(&mut self) -> Result<(), StoreError> {
        if self.episodes.is_empty() {
            return Ok(());
        }
        let pid = self.patient_id;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in self.episodes.chunks(SQLITE_ROWS) {
                    let sql = insert_values("episodes", EPISODE_COLUMNS, 13, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for e in chunk {
                        q = bind_episode!(q.bind(pid), e);
                    }
                    q.execute(&mut **tx).await.ctx("saving episodes")?;
                }
            }
            Tx::Postgres(tx) => {
                let mut data = String::new();
                for e in &self.episodes {
                    let at = e.started_at();
                    copy_row(
                        &mut data,
                        &[
                            Cell::Int(pid),
                            Cell::Int(at.millis()),
                            Cell::Text(at.zone.name()),
                            Cell::Text(&at.local_date().to_string()),
                            Cell::Text(e.kind().code()),
                            Cell::Text(e.family().code()),
                            Cell::Text(&join_codes(e.regions())),
                            Cell::from(e.pain().map(|p| i64::from(p.value()))),
                            Cell::from(e.duration_s().map(i64::from)),
                            Cell::Text(&join_codes(e.triggers())),
                            Cell::from(e.trigger_note()),
                            Cell::from(e.notes()),
                            Cell::Int(e.recorded_at().as_millisecond()),
                        ],
                    );
                }
                copy_in(tx, "episodes", EPISODE_COLUMNS, &data)
                    .await
                    .ctx("saving episodes")?;
            }
        }
        self.episodes.clear();
        Ok(())
    }

    async fn flush_exercise(&mut self) -> Result<(), StoreError> {
        if self.exercise.is_empty() {
            return Ok(());
        }
        let pid = self.patient_id;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in self.exercise.chunks(SQLITE_ROWS) {
                    let sql = insert_values("exercise_sessions", EXERCISE_COLUMNS, 8, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for s in chunk {
                        q = bind_exercise!(q.bind(pid), s);
                    }
                    q.execute(&mut **tx).await.ctx("saving exercise sessions")?;
                }
            }
            Tx::Postgres(tx) => {
                let mut data = String::new();
                for s in &self.exercise {
                    let at = s.at();
                    copy_row(
                        &mut data,
                        &[
                            Cell::Int(pid),
                            Cell::Int(at.millis()),
                            Cell::Text(at.zone.name()),
                            Cell::Text(&at.local_date().to_string()),
                            Cell::Text(s.exercise_type().code()),
                            Cell::Int(i64::from(s.minutes())),
                            Cell::Int(i64::from(s.exertion())),
                            Cell::from(s.note()),
                        ],
                    );
                }
                copy_in(tx, "exercise_sessions", EXERCISE_COLUMNS, &data)
                    .await
                    .ctx("saving exercise sessions")?;
            }
        }
        self.exercise.clear();
        Ok(())
    }

    /// Regimen ids here come only from this patient's own regimens (`by_key`, `regimens`),
    /// so the rows need not be checked against the patient as `INSERT_DOSE` does.
    async fn flush_doses(&mut self) -> Result<(), StoreError> {
        if self.doses.is_empty() {
            return Ok(());
        }
        let pid = self.patient_id;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in self.doses.chunks(SQLITE_ROWS) {
                    let sql = insert_values("dose_logs", DOSE_COLUMNS, 7, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for (regimen, d) in chunk {
                        q = bind_dose!(q.bind(pid), *regimen, d);
                    }
                    q.execute(&mut **tx).await.ctx("saving doses")?;
                }
            }
            Tx::Postgres(tx) => {
                let mut data = String::new();
                for (regimen, d) in &self.doses {
                    let at = d.at();
                    copy_row(
                        &mut data,
                        &[
                            Cell::Int(pid),
                            Cell::Int(*regimen),
                            Cell::Int(at.millis()),
                            Cell::Text(at.zone.name()),
                            Cell::Text(&at.local_date().to_string()),
                            Cell::Text(d.status().code()),
                            Cell::from(d.note()),
                        ],
                    );
                }
                copy_in(tx, "dose_logs", DOSE_COLUMNS, &data)
                    .await
                    .ctx("saving doses")?;
            }
        }
        self.doses.clear();
        Ok(())
    }
}

/// `INSERT INTO table (columns) VALUES (?, …), …` for `rows` rows of `width` values.
fn insert_values(table: &str, columns: &str, width: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; width].join(", "));
    format!("INSERT INTO {table} ({columns}) VALUES {}", vec![one; rows].join(", "))
}

/// One value of a `COPY` row.
enum Cell<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

impl From<Option<i64>> for Cell<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Cell::Null, Cell::Int)
    }
}

impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Cell::Null, Cell::Text)
    }
}

/// Appends one row in `COPY`'s text format: tab-separated, `\N` for NULL, and backslash,
/// tab, newline and carriage return escaped so free text cannot end a field or a row.
fn copy_row(out: &mut String, cells: &[Cell]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match cell {
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Null => out.push_str("\\N"),
            Cell::Text(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('\n');
}

async fn copy_in(conn: &mut PgConnection, table: &str, columns: &str, data: &str) -> Result<u64, sqlx::Error> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN"))
        .await?;
    if let Err(e) = copy.send(data.as_bytes()).await {
        // Ends the COPY on the server so the connection is usable for the rollback.
        let _ = copy.abort(e.to_string()).await;
        return Err(e);
    }
    copy.finish().await
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
