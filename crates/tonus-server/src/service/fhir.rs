//! FHIR reads: whose record a caller may read (a patient their own; a clinician the patients
//! with live consent), and that record's resources exactly as the export writes them. Every
//! read is audited: a clinician's as a clinician view, a patient's as an export.

use jiff::Timestamp;
use serde_json::Value;
use tonus_domain::Patient;
use tonus_interop::fhir::rest::{Page, Pager, Search};
use tonus_store::Role;

use super::{clinician, Actor};
use crate::error::{AppError, AppResult};

/// The FHIR id of `patient`'s Patient resource: the export's own, so a resource read here
/// and the same resource exported are one resource to the receiving system.
pub fn patient_fhir_id(patient: &Patient) -> String {
    tonus_interop::fhir::patient_resource_id(&patient.handle)
}

/// The patients `actor` may read through FHIR.
pub async fn readable(actor: &Actor<'_>) -> AppResult<Vec<Patient>> {
    let user = &actor.auth.user;
    match user.role {
        Role::Patient => {
            let pid = user.patient_id.ok_or(AppError::Forbidden)?;
            Ok(actor.state.store.patient_by_id(pid).await?.into_iter().collect())
        }
        Role::Clinician => {
            let mut out = Vec::new();
            for c in clinician::patients(actor).await? {
                match actor.consented_patient(c.patient_id).await {
                    Ok(p) => out.push(p),
                    Err(AppError::NotFound) => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
        _ => Err(AppError::Forbidden),
    }
}

/// The readable patient whose Patient resource has `fhir_id`; any other id, another
/// patient's included, is simply not found.
pub async fn patient(actor: &Actor<'_>, fhir_id: &str) -> AppResult<Patient> {
    readable(actor)
        .await?
        .into_iter()
        .find(|p| patient_fhir_id(p) == fhir_id)
        .ok_or(AppError::NotFound)
}

/// The page of `patient`'s resources of `resource_type` (all types when `None`) that
/// `search` asks for, references rewritten for REST, after writing `what` to the audit log.
/// The export is made entry by entry off the async threads and only the page is kept, so a
/// ten-year record costs its records in memory, not its JSON.
pub async fn page(
    actor: &Actor<'_>,
    patient: &Patient,
    what: &str,
    search: &Search,
    resource_type: Option<&'static str>,
) -> AppResult<Page> {
    audit_read(actor, patient, what).await?;
    let records = actor.state.store.patient_records(patient).await?;
    let (patient, search) = (patient.clone(), search.clone());
    tokio::task::spawn_blocking(move || {
        let mut pager = Pager::new(&search, resource_type);
        tonus_interop::fhir::export_entries(&patient.handle, &patient.zone, &records, Timestamp::now(), &mut |e| {
            pager.offer(e)
        });
        pager.finish()
    })
    .await
    .map_err(|e| AppError::internal("making a FHIR page", e))
}

/// `patient`'s Patient resource alone (identity, no records), after writing `what` to the
/// audit log.
pub async fn patient_resource(actor: &Actor<'_>, patient: &Patient, what: &str) -> AppResult<Value> {
    audit_read(actor, patient, what).await?;
    let identity = actor.state.store.patient_identity(patient).await?;
    Ok(tonus_interop::fhir::patient_resource(
        &patient.handle,
        &patient.zone,
        identity.as_ref(),
    ))
}

/// A clinician's read is a clinician view; a patient's own is an export, like the archive.
async fn audit_read(actor: &Actor<'_>, patient: &Patient, what: &str) -> AppResult<()> {
    let action = if actor.auth.user.role == Role::Clinician {
        "clinician.view"
    } else {
        "export"
    };
    actor.audit(Some(patient.id), action, &format!("fhir {what}")).await
}
