//! What the patient's data is read as: the dashboard figures and charts, the clinician report
//! (PDF), the whole archive (JSON) and the secret, revocable iCalendar reminder feed. Every
//! export is written to the audit log.

use std::sync::Arc;

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::input::parse_date;
use tonus_domain::time::today;
use tonus_domain::{Patient, ValidationError};
use tonus_report::data::{DASHBOARD_NOTES, PDF_NOTES};
use tonus_report::{DashboardKey, Notes, ReportData, Section};
use tonus_store::CalendarFeed;

use super::{now_ms, Own};
use crate::error::{AppError, AppResult};
use crate::security::{random_hex, sha256_hex};
use crate::state::AppState;

/// A range as typed (`from`, `to`: dates in the patient's zone; empty or absent: the 90 days
/// up to today), at most ten years long.
pub fn report_range(p: &Patient, from: Option<&str>, to: Option<&str>, now: Timestamp) -> AppResult<(Date, Date)> {
    let to = match to.filter(|s| !s.is_empty()) {
        Some(t) => parse_date("to", t, &p.zone, now)?,
        None => today(&p.zone, now),
    };
    let from = match from.filter(|s| !s.is_empty()) {
        Some(f) => parse_date("from", f, &p.zone, now)?,
        None => to
            .checked_sub(jiff::Span::new().days(89))
            .map_err(|_| AppError::Internal)?,
    };
    if to < from || (to - from).get_days() > 3660 {
        return Err(AppError::Invalid(ValidationError::new(
            "from",
            "on or before `to` and at most 10 years earlier",
            from,
        )));
    }
    Ok((from, to))
}

/// The records of `patient` over a typed range, for the given report sections. The dashboard
/// carries the newest notes: the patient's own, or a consented clinician's view of them.
///
/// Served from `state.dashboards` when the patient's data version, range, today and sections
/// match a gathered view: the version is read first, and any write commits a new one, so an
/// entry is never served after a write the reader could have seen. A write landing between
/// the version read and the gather only files newer data under the older version, which no
/// reader asks for once that write is visible.
pub(crate) async fn gather(
    state: &AppState,
    patient: &Patient,
    from: Option<&str>,
    to: Option<&str>,
    sections: &[Section],
) -> AppResult<ReportData> {
    let now = Timestamp::now();
    let (from, to) = report_range(patient, from, to, now)?;
    let notes = Notes::Newest(DASHBOARD_NOTES);
    let cache = &state.dashboards;
    let key = if cache.enabled() {
        Some(DashboardKey {
            patient: patient.id,
            version: state.store.data_version(patient).await?,
            from,
            to,
            today: today(&patient.zone, now),
            zone: patient.zone.name().to_string(),
            sections: sections.to_vec(),
            notes,
        })
    } else {
        None
    };
    if let Some(key) = &key {
        let hit = cache.get(key);
        if let Some(m) = &state.metrics {
            m.dashboard_cache(hit.is_some());
        }
        if let Some(data) = hit {
            // The page takes its copy apart (charts, lists); the cached one stays whole.
            return Ok((*data).clone());
        }
    }
    let data = tonus_report::gather(&state.store, patient, from, to, now, sections, 4, &[], notes).await?;
    if let Some(key) = key {
        cache.insert(key, Arc::new(data.clone()));
        if let Some(m) = &state.metrics {
            m.dashboard_cache_size(&cache.stats());
        }
    }
    Ok(data)
}

/// The patient's own dashboard data (charts included when `sections` asks for them).
pub async fn dashboard(
    me: &Own<'_>,
    from: Option<&str>,
    to: Option<&str>,
    sections: &[Section],
) -> AppResult<ReportData> {
    gather(me.state(), me.patient, from, to, sections).await
}

/// A rendered report.
pub struct Pdf {
    pub bytes: Vec<u8>,
    pub file_name: String,
}

/// The clinician report of `patient` as PDF, with the patient's notes only when `notes` is
/// set. Callers authorise and audit.
pub(crate) async fn report_pdf(
    state: &AppState,
    patient: &Patient,
    from: Option<&str>,
    to: Option<&str>,
    notes: bool,
) -> AppResult<Pdf> {
    let now = Timestamp::now();
    let (from, to) = report_range(patient, from, to, now)?;
    let trials = tonus_report::trials::summaries(&state.store, patient, from, to, now)
        .await
        .map_err(|e| {
            tracing::error!("report trials: {e}");
            AppError::Internal
        })?;
    let notes = if notes { Notes::Newest(PDF_NOTES) } else { Notes::Hidden };
    let data = tonus_report::gather(&state.store, patient, from, to, now, &Section::ALL, 4, &trials, notes).await?;
    // Layout is CPU-bound: keep it off the request workers.
    let bytes = tokio::task::spawn_blocking(move || tonus_report::render_pdf(&data))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|e| {
            tracing::error!("report: {e}");
            AppError::Internal
        })?;
    Ok(Pdf {
        bytes,
        file_name: format!("tonus-{}-{from}-{to}.pdf", patient.handle),
    })
}

/// The patient's own report (with the notes when `notes` is set).
pub async fn own_report(me: &Own<'_>, from: Option<&str>, to: Option<&str>, notes: bool) -> AppResult<Pdf> {
    let pdf = report_pdf(me.state(), me.patient, from, to, notes).await?;
    me.audit(
        "export",
        if notes {
            "report (pdf, with notes)"
        } else {
            "report (pdf)"
        },
    )
    .await?;
    Ok(pdf)
}

/// Everything the patient recorded, as one Tonus archive (JSON text).
pub async fn own_archive(me: &Own<'_>) -> AppResult<String> {
    let snapshots = me.state().store.snapshot(Some(me.patient)).await?;
    let text = tonus_interop::archive::Archive::new(snapshots, Timestamp::now())
        .to_json()
        .map_err(|e| {
            tracing::error!("archive: {e}");
            AppError::Internal
        })?;
    me.audit("export", "archive (json)").await?;
    Ok(text)
}

/// The patient's reminder feeds, revoked ones included.
pub async fn feeds(me: &Own<'_>) -> AppResult<Vec<CalendarFeed>> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    Ok(me.state().store.list_calendar_feeds(me.patient).await?)
}

/// A new secret feed; returns its path (shown once, stored hashed).
pub async fn create_feed(me: &Own<'_>) -> AppResult<String> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    let secret = random_hex(24);
    me.state()
        .store
        .create_calendar_feed(me.patient, &sha256_hex(&secret), now_ms())
        .await?;
    me.audit("feed.create", "calendar feed").await?;
    Ok(format!("/feeds/{secret}.ics"))
}

/// Revokes a feed: its URL stops working on its next request.
pub async fn revoke_feed(me: &Own<'_>, id: i64) -> AppResult<()> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    if !me.state().store.revoke_calendar_feed(me.patient, id, now_ms()).await? {
        return Err(AppError::NotFound);
    }
    me.audit("feed.revoke", "calendar feed").await
}

/// The reminders of the feed whose secret is `secret`, as iCalendar text (no sign-in: the
/// secret is the key).
pub async fn feed(state: &AppState, secret: &str) -> AppResult<String> {
    if secret.len() != 48 || !secret.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let patient = state
        .store
        .patient_by_calendar_feed(&sha256_hex(secret))
        .await?
        .ok_or(AppError::NotFound)?;
    // A disabled account's feeds stop with it, as its sessions and tokens do.
    if state.store.patient_owner_disabled(patient.id).await? {
        return Err(AppError::NotFound);
    }
    let records = state.store.patient_records(&patient).await?;
    let now = Timestamp::now();
    let changes = tonus_report::trial_calendar::period_changes(&state.store.list_trials(&patient).await?);
    Ok(tonus_interop::ical::calendar(&tonus_interop::ical::CalendarInput {
        patient: &patient.handle,
        zone: &patient.zone,
        treatments: &records.treatments,
        checkin_at: jiff::civil::Time::new(20, 0, 0, 0).ok(),
        period_changes: &changes,
        today: today(&patient.zone, now),
        stamp: now,
    }))
}
