//! Imports that decide their own targets (a FHIR bundle of several patients): finding a
//! patient by an identifier, and writing every patient's records, creating the new ones,
//! in one transaction, so a failed import leaves no half-created patient behind.

use jiff::Timestamp;
use tonus_domain::time::Zone;
use tonus_domain::{Patient, PatientIdentity};

use crate::archive::PatientRecords;
use crate::bulk::{on_tx, Tx};
use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// Where one patient's imported records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    Existing(Patient),
    /// A patient created by the import, with this handle and zone.
    New {
        handle: String,
        zone: Zone,
    },
}

/// What an import wrote (or, dry, would write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The patients written to, in the order of the items.
    pub patients: Vec<Patient>,
    /// Records new to their patient (treatments, regimens and doses counted one each).
    pub written: usize,
    /// Records their patient had already: the same uid, or a treatment or regimen reused.
    pub unchanged: usize,
}

impl Store {
    /// Every patient with the identity they gave (for matching an import's identifiers).
    pub async fn patient_identities(&self) -> Result<Vec<(Patient, PatientIdentity)>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT p.id, p.handle, p.time_zone, i.identity FROM patients p JOIN patient_identity i ON i.patient_id = p.id ORDER BY p.id")
                .fetch_all(pool).await.ctx("reading patient identities")?
        });
        rows.into_iter()
            .map(|(id, handle, zone, identity)| {
                let p = crate::repo::patient_from_row((id, handle, zone))?;
                let i = crate::identity::decode(id, &identity)?;
                Ok((p, i))
            })
            .collect()
    }

    /// Writes each target's records in one transaction, creating the new patients first;
    /// returns the patients written to, in order, and how many records were new. A new
    /// handle that exists is an error (nothing is written): the caller chose it believing it
    /// free. A `dry_run` does all of it and rolls back, so what it reports is what an import
    /// would do, not an estimate.
    pub async fn import_records(
        &self,
        items: &[(ImportTarget, &PatientRecords)],
        dry_run: bool,
    ) -> Result<ImportOutcome, StoreError> {
        for (t, _) in items {
            if let ImportTarget::New { handle, .. } = t {
                tonus_domain::patient::validate_handle(handle).map_err(|e| StoreError::Conflict(e.to_string()))?;
            }
        }
        let now = Timestamp::now().as_millisecond();
        let mut w = self.begin_bulk().await?;
        let mut written = Vec::with_capacity(items.len());
        for (target, records) in items {
            let patient = match target {
                ImportTarget::Existing(p) => p.clone(),
                ImportTarget::New { handle, zone } => {
                    // The previous patient's buffered rows are sent by switch_patient below,
                    // still under that patient's id.
                    let id: i64 = on_tx!(w.tx, tx => {
                        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM patients WHERE handle = $1")
                            .bind(handle).fetch_optional(&mut **tx).await.ctx("finding a patient")?;
                        if taken.is_some() {
                            return Err(StoreError::Conflict(format!("a patient named {handle:?} already exists")));
                        }
                        sqlx::query_scalar("INSERT INTO patients (handle, time_zone, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                            .bind(handle).bind(zone.name()).bind(now)
                            .fetch_one(&mut **tx).await.ctx("creating a patient")?
                    });
                    Patient {
                        id,
                        handle: handle.clone(),
                        zone: zone.clone(),
                    }
                }
            };
            w.switch_patient(patient.id).await?;
            w.records(records, &[]).await?;
            written.push(patient);
        }
        let offered: usize = items.iter().map(|(_, r)| r.len()).sum();
        let outcome = ImportOutcome {
            patients: written,
            written: offered.saturating_sub(w.unchanged()),
            unchanged: w.unchanged(),
        };
        if dry_run {
            // Dropping the transaction rolls it back.
            drop(w);
        } else {
            w.commit().await?;
        }
        Ok(outcome)
    }
}
