//! Push reminders on the Reminders page (/calendar, beside the calendar feeds): subscribe
//! this device, change each device's choices and quiet hours, stop a device.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{fmt_ms, see_other, FieldError, FormFields};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::reminders::{self, ChoicesInput, SubscriptionInput};
use crate::service::Own;
use crate::state::AppState;

/// One device as its form shows it.
pub struct DeviceRow {
    pub id: i64,
    pub label: String,
    pub endpoint: String,
    pub checkin: bool,
    pub doses: bool,
    pub trials: bool,
    pub discreet: bool,
    pub checkin_at: String,
    pub quiet_start: String,
    pub quiet_end: String,
    pub created: String,
    pub last_success: Option<String>,
}

/// The page's "Reminders on this device" section.
pub struct PushSection {
    pub devices: Vec<DeviceRow>,
    /// The VAPID public key; `None`: reminders are unavailable on this server.
    pub key: Option<String>,
    pub error: Option<FieldError>,
}

fn hhmm(minutes: Option<i64>) -> String {
    minutes
        .map(|m| format!("{:02}:{:02}", m.div_euclid(60), m.rem_euclid(60)))
        .unwrap_or_default()
}

pub async fn section(me: &Own<'_>, error: Option<FieldError>) -> AppResult<PushSection> {
    let (devices, key) = reminders::devices(me).await?;
    let zone = &me.patient.zone;
    let devices = devices
        .into_iter()
        .map(|d| {
            let c = tonus_domain::reminders::Choices::from_bits(d.kinds);
            DeviceRow {
                id: d.id,
                label: d.label,
                endpoint: d.endpoint,
                checkin: c.checkin,
                doses: c.doses,
                trials: c.trials,
                discreet: c.discreet,
                checkin_at: hhmm(Some(d.checkin_min)),
                quiet_start: hhmm(d.quiet_start_min),
                quiet_end: hhmm(d.quiet_end_min),
                created: fmt_ms(d.created_at_ms, zone),
                last_success: d.last_success_ms.map(|ms| fmt_ms(ms, zone)),
            }
        })
        .collect();
    Ok(PushSection { devices, key, error })
}

fn checked(f: &FormFields, name: &str) -> bool {
    matches!(f.get(name), "1" | "on" | "true" | "yes")
}

fn choices_of(f: &FormFields) -> ChoicesInput<'_> {
    ChoicesInput {
        label: f.get("label"),
        checkin: checked(f, "checkin"),
        doses: checked(f, "doses"),
        trials: checked(f, "trials"),
        discreet: checked(f, "discreet"),
        checkin_at: f.get("checkin_at"),
        quiet_start: f.get("quiet_start"),
        quiet_end: f.get("quiet_end"),
    }
}

/// The page again with the refusal next to the section (422), everything else as it was.
async fn refused(me: &Own<'_>, pa: &PatientAuth, csrf: &CsrfToken, e: AppError) -> AppResult<Response> {
    match e {
        AppError::Invalid(v) => {
            let section = section(me, Some(FieldError::from(&v))).await?;
            super::exports::calendar_page(me, &pa.auth, csrf, None, section, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        other => Err(other),
    }
}

/// POST /reminders/devices: this browser's subscription and its choices.
pub async fn subscribe(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let sub = SubscriptionInput {
        endpoint: form.get("endpoint"),
        p256dh: form.get("p256dh"),
        auth: form.get("auth"),
    };
    match reminders::subscribe(&me, &sub, &choices_of(&form)).await {
        Ok(_) => Ok(see_other("/calendar#push")),
        Err(e) => refused(&me, &pa, &csrf, e).await,
    }
}

/// POST /reminders/devices/{id}: a device's new choices.
pub async fn update(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    match reminders::update(&me, id, &choices_of(&form)).await {
        Ok(()) => Ok(see_other("/calendar#push")),
        Err(e) => refused(&me, &pa, &csrf, e).await,
    }
}

/// POST /reminders/devices/{id}/delete: nothing more is sent to the device.
pub async fn remove(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    reminders::remove(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/calendar#push"))
}
