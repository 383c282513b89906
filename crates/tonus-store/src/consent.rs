//! Consent between a patient and a clinician: one-time invitation codes and grants by name,
//! revocation, and the check every clinician read goes through.

use serde::Serialize;
use tonus_domain::Id;

use crate::accounts::is_unique_violation;
use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// A clinician's access to a patient, live or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub id: Id,
    pub patient_id: Id,
    pub patient_handle: String,
    pub clinician_id: Id,
    pub clinician_username: String,
    pub via: String,
    pub granted_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

type ConsentRow = (i64, i64, String, i64, String, String, i64, Option<i64>);
const CONSENT_SELECT: &str = "SELECT c.id, c.patient_id, p.handle, c.clinician_id, u.username, c.via, c.granted_at_ms, c.revoked_at_ms FROM consents c JOIN patients p ON p.id = c.patient_id JOIN users u ON u.id = c.clinician_id";

fn consent_from_row(r: ConsentRow) -> Consent {
    Consent {
        id: r.0,
        patient_id: r.1,
        patient_handle: r.2,
        clinician_id: r.3,
        clinician_username: r.4,
        via: r.5,
        granted_at_ms: r.6,
        revoked_at_ms: r.7,
    }
}

/// What redeeming an invitation code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// A new grant for this patient.
    Granted { consent_id: Id, patient_id: Id },
    /// The clinician already had live access; the code is spent all the same.
    AlreadyGranted { patient_id: Id },
    /// Unknown, used or expired: indistinguishable on purpose.
    Invalid,
}

impl Store {
    pub async fn create_invitation(
        &self,
        patient_id: Id,
        code_hash: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<Id, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO invitations (patient_id, code_hash, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(patient_id).bind(code_hash).bind(now_ms).bind(expires_at_ms)
                .fetch_one(pool).await.ctx("creating an invitation")?
        }))
    }

    /// Spends an unexpired, unused invitation and grants its patient's data to the clinician,
    /// in one transaction: the conditional UPDATE is what makes a code single-use.
    pub async fn redeem_invitation(
        &self,
        code_hash: &str,
        clinician_id: Id,
        now_ms: i64,
    ) -> Result<Redeemed, StoreError> {
        // Across processes too: on PostgreSQL a second UPDATE of the same code waits for the
        // first to commit and then finds it redeemed; SQLite takes the write lock up front.
        let begin = self.write_tx_statement();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let patient: Option<i64> = sqlx::query_scalar("UPDATE invitations SET redeemed_at_ms = $3, redeemed_by = $2 WHERE code_hash = $1 AND redeemed_at_ms IS NULL AND expires_at_ms > $3 RETURNING patient_id")
                .bind(code_hash).bind(clinician_id).bind(now_ms)
                .fetch_optional(&mut *tx).await.ctx("redeeming an invitation")?;
            let outcome = match patient {
                None => Redeemed::Invalid,
                Some(patient_id) => {
                    let live: Option<i64> = sqlx::query_scalar("SELECT id FROM consents WHERE patient_id = $1 AND clinician_id = $2 AND revoked_at_ms IS NULL")
                        .bind(patient_id).bind(clinician_id).fetch_optional(&mut *tx).await.ctx("reading consent")?;
                    match live {
                        Some(_) => Redeemed::AlreadyGranted { patient_id },
                        None => {
                            let consent_id: i64 = sqlx::query_scalar("INSERT INTO consents (patient_id, clinician_id, via, granted_at_ms) VALUES ($1, $2, 'invitation', $3) RETURNING id")
                                .bind(patient_id).bind(clinician_id).bind(now_ms)
                                .fetch_one(&mut *tx).await.ctx("granting consent")?;
                            Redeemed::Granted { consent_id, patient_id }
                        }
                    }
                }
            };
            tx.commit().await.ctx("committing")?;
            outcome
        }))
    }

    /// Grants directly (the patient typed the clinician's handle). `None` when already live.
    pub async fn grant_consent(
        &self,
        patient_id: Id,
        clinician_id: Id,
        via: &str,
        now_ms: i64,
    ) -> Result<Option<Id>, StoreError> {
        if self.has_consent(clinician_id, patient_id).await? {
            return Ok(None);
        }
        let inserted: Result<i64, StoreError> = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO consents (patient_id, clinician_id, via, granted_at_ms) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(patient_id).bind(clinician_id).bind(via).bind(now_ms)
                .fetch_one(pool).await.ctx("granting consent")
        });
        match inserted {
            Ok(id) => Ok(Some(id)),
            // A concurrent grant of the same pair won (consents_live is unique): already live.
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every grant of a patient, live first, then by date.
    pub async fn consents_of_patient(&self, patient_id: Id) -> Result<Vec<Consent>, StoreError> {
        let sql = format!("{CONSENT_SELECT} WHERE c.patient_id = $1 ORDER BY c.revoked_at_ms IS NOT NULL, c.granted_at_ms DESC, c.id DESC");
        let rows: Vec<ConsentRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient_id).fetch_all(pool).await.ctx("listing consent")?
        });
        Ok(rows.into_iter().map(consent_from_row).collect())
    }

    /// Live grants a clinician holds.
    pub async fn consents_of_clinician(&self, clinician_id: Id) -> Result<Vec<Consent>, StoreError> {
        let sql = format!("{CONSENT_SELECT} WHERE c.clinician_id = $1 AND c.revoked_at_ms IS NULL ORDER BY p.handle");
        let rows: Vec<ConsentRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(clinician_id).fetch_all(pool).await.ctx("listing consent")?
        });
        Ok(rows.into_iter().map(consent_from_row).collect())
    }

    /// Revokes one of the patient's live grants; returns the clinician it named.
    pub async fn revoke_consent(&self, patient_id: Id, consent_id: Id, now_ms: i64) -> Result<Option<Id>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("UPDATE consents SET revoked_at_ms = $3 WHERE id = $2 AND patient_id = $1 AND revoked_at_ms IS NULL RETURNING clinician_id")
                .bind(patient_id).bind(consent_id).bind(now_ms)
                .fetch_optional(pool).await.ctx("revoking consent")?
        }))
    }

    /// Whether the clinician holds live access to the patient. Asked on every request.
    pub async fn has_consent(&self, clinician_id: Id, patient_id: Id) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM consents WHERE clinician_id = $1 AND patient_id = $2 AND revoked_at_ms IS NULL")
                .bind(clinician_id).bind(patient_id).fetch_one(pool).await.ctx("checking consent")?
        });
        Ok(n > 0)
    }
}
