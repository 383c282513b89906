//! How the bulk writer (bulk.rs) sends its buffered rows: SQLite's multi-row `INSERT`s and
//! PostgreSQL's `COPY … FROM STDIN`.

use std::fmt::Write as _;

use sqlx::PgConnection;

use super::{BulkWriter, Tx, DOSE_COLUMNS, EPISODE_COLUMNS, EXERCISE_COLUMNS, SQLITE_ROWS};
use crate::error::{Context, StoreError};
use crate::repo::{bind_dose, bind_episode, bind_exercise};
use crate::rows::join_codes;

impl BulkWriter {
    pub(super) async fn flush_episodes(&mut self) -> Result<(), StoreError> {
        if self.episodes.is_empty() {
            return Ok(());
        }
        let pid = self.patient_id;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in self.episodes.chunks(SQLITE_ROWS) {
                    let sql = insert_values("episodes", EPISODE_COLUMNS, 14, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for (uid, e) in chunk {
                        q = bind_episode!(q.bind(pid), e).bind(uid.to_string());
                    }
                    q.execute(&mut **tx).await.ctx("saving episodes")?;
                }
            }
            Tx::Postgres(tx) => {
                let mut data = String::new();
                for (uid, e) in &self.episodes {
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
                            Cell::Text(&uid.to_string()),
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

    pub(super) async fn flush_exercise(&mut self) -> Result<(), StoreError> {
        if self.exercise.is_empty() {
            return Ok(());
        }
        let pid = self.patient_id;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in self.exercise.chunks(SQLITE_ROWS) {
                    let sql = insert_values("exercise_sessions", EXERCISE_COLUMNS, 9, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for (uid, s) in chunk {
                        q = bind_exercise!(q.bind(pid), s).bind(uid.to_string());
                    }
                    q.execute(&mut **tx).await.ctx("saving exercise sessions")?;
                }
            }
            Tx::Postgres(tx) => {
                let mut data = String::new();
                for (uid, s) in &self.exercise {
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
                            Cell::Text(&uid.to_string()),
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
    pub(super) async fn flush_doses(&mut self) -> Result<(), StoreError> {
        if self.doses.is_empty() {
            return Ok(());
        }
        let pid = self.patient_id;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                for chunk in self.doses.chunks(SQLITE_ROWS) {
                    let sql = insert_values("dose_logs", DOSE_COLUMNS, 8, chunk.len());
                    let mut q = sqlx::query(&sql);
                    for (regimen, uid, d) in chunk {
                        q = bind_dose!(q.bind(pid), *regimen, d).bind(uid.to_string());
                    }
                    q.execute(&mut **tx).await.ctx("saving doses")?;
                }
            }
            Tx::Postgres(tx) => {
                let mut data = String::new();
                for (regimen, uid, d) in &self.doses {
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
                            Cell::Text(&uid.to_string()),
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
pub(crate) fn insert_values(table: &str, columns: &str, width: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; width].join(", "));
    format!("INSERT INTO {table} ({columns}) VALUES {}", vec![one; rows].join(", "))
}

/// One value of a `COPY` row.
pub(crate) enum Cell<'a> {
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
pub(crate) fn copy_row(out: &mut String, cells: &[Cell]) {
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

pub(crate) async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    data: &str,
) -> Result<u64, sqlx::Error> {
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
