//! Reads what a report needs from the store, so the CLI and the web app make the same report.

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::{DoseLog, Patient};
use tonus_store::{Store, StoreError, Stored};

use crate::data::{build, Notes, RegimenInput, ReportData, ReportInput, Section, TrialSummary};

fn values<T>(v: Vec<Stored<T>>) -> Vec<T> {
    v.into_iter().map(|x| x.value).collect()
}

/// The report of `patient` for `from..=to`. `trials` are prepared by the caller (they need
/// the statistics), and may be empty. `notes` says whether the patient's free-text notes are
/// included.
#[allow(clippy::too_many_arguments)] // one call site per front end; a struct would only rename them
pub async fn gather(
    store: &Store,
    patient: &Patient,
    from: Date,
    to: Date,
    now: Timestamp,
    sections: &[Section],
    gentle_limit: u8,
    trials: &[TrialSummary],
    notes: Notes,
) -> Result<ReportData, StoreError> {
    let episodes = values(store.list_episodes(patient, Some(from), Some(to)).await?);
    let checkins = values(store.list_checkins(patient, Some(from), Some(to)).await?);
    let exercise = values(store.list_exercise(patient, Some(from), Some(to)).await?);
    let events = values(store.list_events(patient, None, Some(to)).await?);
    let side_effects = values(store.list_side_effects(patient, Some(from), Some(to)).await?);
    let treatments = store.list_treatments(patient).await?;
    let regimens: Vec<RegimenInput> = store
        .list_regimens(patient)
        .await?
        .into_iter()
        .filter_map(|r| {
            let category = treatments.iter().find(|t| t.id == r.treatment_id)?.value.category();
            Some(RegimenInput {
                id: r.id,
                treatment: r.treatment_name,
                category,
                regimen: r.value,
            })
        })
        .collect();
    let doses: Vec<(i64, DoseLog)> = store
        .list_doses(patient, Some(from), Some(to))
        .await?
        .into_iter()
        .map(|(rid, d)| (rid, d.value))
        .collect();
    let identity = store.patient_identity(patient).await?;
    let mut data = build(&ReportInput {
        patient: &patient.handle,
        zone: &patient.zone,
        from,
        to,
        generated: now,
        episodes: &episodes,
        checkins: &checkins,
        regimens: &regimens,
        doses: &doses,
        exercise: &exercise,
        events: &events,
        side_effects: &side_effects,
        trials,
        notes,
        sections,
        gentle_limit,
    });
    data.identity = identity.map(|i| i.line()).unwrap_or_default();
    Ok(data)
}
