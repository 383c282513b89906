//! What a clinician reads: the patients who shared with them, and each one's records while
//! consent is live. Every read of a patient's data is audited.

use jiff::Timestamp;
use tonus_domain::time::today;
use tonus_domain::{Episode, Patient};
use tonus_report::pooled::{pooled_comparisons, PooledComparison};
use tonus_report::{ReportData, Section};
use tonus_store::{Consent, Stored};

use super::exports::{gather, report_pdf, Pdf};
use super::Actor;
use crate::error::{AppError, AppResult};

/// The patients with live consent.
pub async fn patients(actor: &Actor<'_>) -> AppResult<Vec<Consent>> {
    actor.require_own_password().await?;
    Ok(actor.state.store.consents_of_clinician(actor.auth.user.id).await?)
}

/// A consented patient's dashboard.
pub struct PatientView {
    pub patient: Patient,
    pub data: ReportData,
    /// The last `recent_days` days of episodes, newest last (empty when none were asked for).
    pub recent: Vec<Stored<Episode>>,
}

/// A consented patient's dashboard over a typed range; `channel` ("web", "api") is recorded.
pub async fn dashboard(
    actor: &Actor<'_>,
    patient_id: i64,
    range: (Option<&str>, Option<&str>),
    sections: &[Section],
    recent_days: Option<i64>,
    channel: &str,
) -> AppResult<PatientView> {
    let patient = actor.consented_patient(patient_id).await?;
    let data = gather(actor.state, &patient, range.0, range.1, sections).await?;
    actor
        .audit(
            Some(patient.id),
            "clinician.view",
            &format!("dashboard {} to {} ({channel})", data.from, data.to),
        )
        .await?;
    let recent = match recent_days {
        Some(days) => {
            let from = today(&patient.zone, Timestamp::now())
                .checked_sub(jiff::Span::new().days(days))
                .ok();
            actor.state.store.list_episodes(&patient, from, None).await?
        }
        None => Vec::new(),
    };
    Ok(PatientView { patient, data, recent })
}

/// A consented patient's episodes over a typed range (dates in the patient's zone).
pub async fn episodes(
    actor: &Actor<'_>,
    patient_id: i64,
    from: Option<&str>,
    to: Option<&str>,
    channel: &str,
) -> AppResult<Vec<Stored<Episode>>> {
    let patient = actor.consented_patient(patient_id).await?;
    let (from, to) = super::dates(&patient, from, to)?;
    actor
        .audit(Some(patient.id), "clinician.view", &format!("episodes ({channel})"))
        .await?;
    Ok(actor.state.store.list_episodes(&patient, from, to).await?)
}

/// A consented patient's report; the patient's notes are in it only when `notes` is set, and
/// the access log says so.
pub async fn report(
    actor: &Actor<'_>,
    patient_id: i64,
    from: Option<&str>,
    to: Option<&str>,
    notes: bool,
) -> AppResult<Pdf> {
    let patient = actor.consented_patient(patient_id).await?;
    let pdf = report_pdf(actor.state, &patient, from, to, notes).await?;
    let what = if notes {
        "report (pdf, with notes)"
    } else {
        "report (pdf)"
    };
    actor.audit(Some(patient.id), "clinician.export", what).await?;
    Ok(pdf)
}

/// Pooled trial results over the clinician's patients with live consent: comparisons that
/// at least two of them have trialled (each patient's latest analysable trial). Every patient
/// whose trials were read is audited; a patient who revoked consent is not read at all.
pub async fn pooled(actor: &Actor<'_>, channel: &str) -> AppResult<Vec<PooledComparison>> {
    let mut consenting = Vec::new();
    for c in patients(actor).await? {
        // Checked again per patient: consent revoked since the list was read drops out.
        match actor.consented_patient(c.patient_id).await {
            Ok(p) => consenting.push(p),
            Err(AppError::NotFound) => continue,
            Err(e) => return Err(e),
        }
    }
    let found = pooled_comparisons(&actor.state.store, &consenting, Timestamp::now(), None)
        .await
        .map_err(|e| {
            tracing::error!("pooled trial results: {e}");
            AppError::Internal
        })?;
    for p in &consenting {
        actor
            .audit(
                Some(p.id),
                "clinician.view",
                &format!("pooled trial results ({channel})"),
            )
            .await?;
    }
    Ok(found.into_iter().filter(|c| c.patients.len() >= 2).collect())
}
