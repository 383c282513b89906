//! The patient's identity for filing, stored as the domain's JSON and checked again on read.

use tonus_domain::{Patient, PatientIdentity};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// For imports and restores: an identity the patient already has is never overwritten by a
/// file's (a bundle of another person must not relabel this patient).
pub(crate) const INSERT_IF_NONE: &str =
    "INSERT INTO patient_identity (patient_id, identity) VALUES ($1, $2) ON CONFLICT (patient_id) DO NOTHING";
pub(crate) const UPSERT: &str = "INSERT INTO patient_identity (patient_id, identity) VALUES ($1, $2) ON CONFLICT (patient_id) DO UPDATE SET identity = excluded.identity";

pub(crate) fn encode(identity: &PatientIdentity) -> Result<String, StoreError> {
    serde_json::to_string(identity).map_err(|e| StoreError::Conflict(format!("could not encode the identity: {e}")))
}

pub(crate) fn decode(patient_id: i64, text: &str) -> Result<PatientIdentity, StoreError> {
    let corrupt = |rule: String| StoreError::Corrupt {
        table: "patient_identity",
        id: patient_id,
        source: tonus_domain::ValidationError::new("identity", "valid identity JSON", rule),
    };
    let raw: PatientIdentity = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    raw.revalidated().map_err(|source| StoreError::Corrupt {
        table: "patient_identity",
        id: patient_id,
        source,
    })
}

impl Store {
    /// The patient's identity, if they gave one.
    pub async fn patient_identity(&self, patient: &Patient) -> Result<Option<PatientIdentity>, StoreError> {
        let row: Option<String> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT identity FROM patient_identity WHERE patient_id = $1")
                .bind(patient.id).fetch_optional(pool).await.ctx("reading the patient's identity")?
        });
        row.map(|t| decode(patient.id, &t)).transpose()
    }

    /// Sets the patient's identity; an empty one removes it.
    pub async fn set_patient_identity(&self, patient: &Patient, identity: &PatientIdentity) -> Result<(), StoreError> {
        if identity.is_empty() {
            on_pool!(self, pool => {
                sqlx::query("DELETE FROM patient_identity WHERE patient_id = $1")
                    .bind(patient.id).execute(pool).await.ctx("clearing the patient's identity")?;
            });
            return Ok(());
        }
        let text = encode(identity)?;
        on_pool!(self, pool => {
            sqlx::query(UPSERT).bind(patient.id).bind(&text).execute(pool).await.ctx("saving the patient's identity")?;
        });
        Ok(())
    }
}
