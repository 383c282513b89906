//! Idempotency keys: a write sent again with the same client-generated key is stored once.
//!
//! The offline queue on a phone retries until it hears an answer, so the same entry may reach
//! the server several times (the answer was lost, two tabs synced at once, the server
//! restarted mid-request). Each keyed write runs in one transaction that first claims the key
//! (`INSERT … ON CONFLICT DO NOTHING`), then stores the record, then stores the answer with
//! the key, and commits: the key and the record are durable together or not at all. A second
//! request with the key finds the claimed row: on PostgreSQL its claim waits on the unique
//! index until the first transaction ends; on SQLite both run under the database's one write
//! lock. It then gets the stored answer and writes nothing, or a 422 naming `Idempotency-Key`
//! when the route or body differ.
//!
//! New episodes on SQLite go through the group-commit writer (`group`), which runs the same
//! steps inside its batch transaction ([`claim_and_write`] is shared).

use std::sync::Arc;

use jiff::Timestamp;
use tonus_domain::{CheckIn, DoseLog, Episode, Id, Patient, SideEffect, ValidationError};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};
use crate::repo::{bind_checkin, bind_dose, bind_episode, INSERT_DOSE, INSERT_EPISODE, UPSERT_CHECKIN};
use crate::side_effects::{bind_side_effect, suspected_id, INSERT as INSERT_SIDE_EFFECT};

/// The key a request came with, the route it was sent to and a hash of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub route: String,
    pub body_hash: String,
}

/// The answer stored with a key: the status and JSON body the first request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedAnswer {
    pub status: u16,
    pub body: String,
    /// True when this is a retry answered from the stored key (nothing was written).
    pub replayed: bool,
}

/// Renders the answer to store from the new record's id, inside the write transaction (the
/// id is known only there); `None` when nothing was written because a newer version was
/// already stored (a check-in answered later on another device). An error rolls back.
pub type RenderAnswer = Arc<dyn Fn(Option<Id>) -> Result<(u16, String), String> + Send + Sync>;

/// The record a keyed request writes.
#[derive(Debug, Clone)]
pub enum KeyedWrite {
    Episode(Episode),
    /// The day's check-in as answered at `answered_at_ms` (the original time, not the sync
    /// time). It replaces the stored one only if that was answered no later: the answer
    /// given last wins, whichever device sent it first (docs/architecture.md).
    CheckIn {
        checkin: CheckIn,
        answered_at_ms: i64,
    },
    /// The day's check-in with its log confirmed complete: saved whatever its time, since it
    /// carries the day's stored answers with only the confirmation added.
    ConfirmDay(CheckIn),
    /// (regimen id, dose)
    Dose(Id, DoseLog),
    SideEffect(SideEffect),
}

pub(crate) const CLAIM_SQL: &str = "INSERT INTO idempotency_keys (patient_id, idem_key, route, body_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (patient_id, idem_key) DO NOTHING RETURNING patient_id";
pub(crate) const STORED_SQL: &str =
    "SELECT route, body_hash, status, body FROM idempotency_keys WHERE patient_id = $1 AND idem_key = $2";
pub(crate) const ANSWER_SQL: &str =
    "UPDATE idempotency_keys SET status = $3, body = $4 WHERE patient_id = $1 AND idem_key = $2";

/// The check-in upsert that leaves a check-in answered later in place (no row returned).
const UPSERT_CHECKIN_IF_NEWER: &str = "INSERT INTO checkins (patient_id, local_date, spasticity_nrs, pain_nrs, psfs_frequency, psfs_severity, night_wakings, log_complete, note, recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (patient_id, local_date) DO UPDATE SET spasticity_nrs = excluded.spasticity_nrs, pain_nrs = excluded.pain_nrs, psfs_frequency = excluded.psfs_frequency, psfs_severity = excluded.psfs_severity, night_wakings = excluded.night_wakings, log_complete = excluded.log_complete, note = excluded.note, recorded_at_ms = excluded.recorded_at_ms WHERE checkins.recorded_at_ms <= excluded.recorded_at_ms RETURNING id";

/// The same key with another route or body: refused, naming the header.
fn reused(key: &IdempotencyKey) -> StoreError {
    StoreError::Invalid(ValidationError::new(
        "Idempotency-Key",
        "sent again only with the same request (same route and body)",
        key.key.clone(),
    ))
}

pub(crate) fn stored_answer(
    key: &IdempotencyKey,
    stored: (String, String, i64, String),
) -> Result<KeyedAnswer, StoreError> {
    let (route, hash, status, body) = stored;
    if route != key.route || hash != key.body_hash {
        return Err(reused(key));
    }
    Ok(KeyedAnswer {
        status: u16::try_from(status).map_err(|_| StoreError::Conflict(format!("stored answer status {status}")))?,
        body,
        replayed: true,
    })
}

/// Claims the key, runs `$write` (an expression giving `Result<Id, StoreError>`), renders and
/// stores the answer, all on `$c` (a connection inside an open transaction). Evaluates to
/// `Result<KeyedAnswer, StoreError>`; on an error the caller rolls back.
macro_rules! claim_and_write {
    ($c:ident, $patient_id:expr, $key:expr, $render:expr, $write:expr) => {{
        let key: &$crate::idempotency::IdempotencyKey = $key;
        let patient_id: i64 = $patient_id;
        let claimed: Option<i64> = sqlx::query_scalar($crate::idempotency::CLAIM_SQL)
            .bind(patient_id)
            .bind(&key.key)
            .bind(&key.route)
            .bind(&key.body_hash)
            .bind(jiff::Timestamp::now().as_millisecond())
            .fetch_optional(&mut *$c)
            .await
            .ctx("claiming an idempotency key")?;
        if claimed.is_none() {
            let stored: (String, String, i64, String) = sqlx::query_as($crate::idempotency::STORED_SQL)
                .bind(patient_id)
                .bind(&key.key)
                .fetch_one(&mut *$c)
                .await
                .ctx("reading an idempotency key")?;
            $crate::idempotency::stored_answer(key, stored)
        } else {
            let id: Option<i64> = $write?;
            let (status, body) = ($render)(id).map_err(|e| {
                $crate::error::StoreError::Conflict(format!("could not render the answer to keep: {e}"))
            })?;
            sqlx::query($crate::idempotency::ANSWER_SQL)
                .bind(patient_id)
                .bind(&key.key)
                .bind(i64::from(status))
                .bind(&body)
                .execute(&mut *$c)
                .await
                .ctx("keeping the answer of an idempotency key")?;
            Ok($crate::idempotency::KeyedAnswer {
                status,
                body,
                replayed: false,
            })
        }
    }};
}
pub(crate) use claim_and_write;

impl Store {
    /// Writes `write` once per `key` (see the module notes): the first request stores the
    /// record and the answer `render` gives for its id; a retry with the same route and body
    /// gets that answer back (`replayed`) and stores nothing; another route or body is refused.
    pub async fn write_once(
        &self,
        patient: &Patient,
        key: &IdempotencyKey,
        write: KeyedWrite,
        render: RenderAnswer,
    ) -> Result<KeyedAnswer, StoreError> {
        if let (Some(group), KeyedWrite::Episode(episode)) = (&self.group, &write) {
            return group.keyed_episode(patient.id, episode, key, render).await;
        }
        let begin = self.write_tx_statement();
        let recorded = Timestamp::now().as_millisecond();
        let answer = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let answer = claim_and_write!(tx, patient.id, key, render, async {
                match &write {
                    KeyedWrite::Episode(e) => bind_episode!(sqlx::query_scalar(INSERT_EPISODE).bind(patient.id), e)
                        .fetch_one(&mut *tx).await.ctx("saving an episode").map(Some),
                    KeyedWrite::CheckIn { checkin, answered_at_ms } =>
                        bind_checkin!(sqlx::query_scalar(UPSERT_CHECKIN_IF_NEWER).bind(patient.id), checkin, *answered_at_ms)
                            .fetch_optional(&mut *tx).await.ctx("saving a check-in"),
                    KeyedWrite::ConfirmDay(c) => bind_checkin!(sqlx::query_scalar(UPSERT_CHECKIN).bind(patient.id), c)
                        .fetch_one(&mut *tx).await.ctx("saving a check-in").map(Some),
                    KeyedWrite::Dose(regimen_id, d) => {
                        let id: Option<i64> = bind_dose!(sqlx::query_scalar(INSERT_DOSE).bind(patient.id), *regimen_id, d)
                            .fetch_optional(&mut *tx).await.ctx("saving a dose")?;
                        id.map(Some).ok_or_else(|| StoreError::Conflict(format!("regimen {regimen_id} does not exist")))
                    }
                    KeyedWrite::SideEffect(s) => {
                        let treatment = suspected_id!(tx, patient, s);
                        bind_side_effect!(sqlx::query_scalar(INSERT_SIDE_EFFECT).bind(patient.id), s, treatment)
                            .bind(recorded)
                            .fetch_one(&mut *tx).await.ctx("saving a side effect").map(Some)
                    }
                }
            }.await);
            match answer {
                Ok(a) => {
                    // A retry wrote nothing: end its transaction without a commit's fsync.
                    if a.replayed {
                        tx.rollback().await.ctx("ending a transaction")?;
                    } else {
                        tx.commit().await.ctx("committing")?;
                    }
                    Ok::<KeyedAnswer, StoreError>(a)
                }
                Err(e) => Err(e),
            }
        })?;
        Ok(answer)
    }

    /// How many idempotency keys are kept, all patients together (tests and metrics).
    pub async fn count_idempotency_keys(&self) -> Result<i64, StoreError> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
                .fetch_one(pool).await.ctx("counting idempotency keys")?
        });
        Ok(n)
    }
}
