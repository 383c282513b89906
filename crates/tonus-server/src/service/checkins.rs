//! The daily check-in.

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::input::parse_date;
use tonus_domain::time::today;
use tonus_domain::CheckIn;
use tonus_store::Stored;

use super::Own;
use crate::error::AppResult;

/// A day as typed (2026-11-20, today, -1); empty or absent means today in the patient's zone.
pub fn day(me: &Own<'_>, typed: Option<&str>) -> AppResult<Date> {
    let now = Timestamp::now();
    Ok(match typed.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => {
            let date = parse_date("date", d, &me.patient.zone, now)?;
            super::from_1900("date", date)?;
            date
        }
        None => today(&me.patient.zone, now),
    })
}

/// The day's check-in checked and ready to store (for a keyed write).
pub fn prepare(me: &Own<'_>, date: Option<&str>, draft: CheckInDraft) -> AppResult<CheckIn> {
    let date = day(me, date)?;
    Ok(draft.validate(date, &me.patient.zone, Timestamp::now())?)
}

/// When a check-in was answered, as sent with a queued one (RFC 3339 with its offset);
/// absent: now. Not in the future (a minute of clock skew allowed), not before 1900.
pub fn answered_at(typed: Option<&str>) -> AppResult<Timestamp> {
    let now = Timestamp::now();
    let Some(text) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(now);
    };
    let rule = "an RFC 3339 time with offset, not in the future";
    let at: Timestamp = text
        .parse()
        .map_err(|_| tonus_domain::ValidationError::new("answered_at", rule, text))?;
    if at > now + jiff::SignedDuration::from_secs(60) {
        return Err(tonus_domain::ValidationError::new("answered_at", rule, text).into());
    }
    super::from_1900("answered_at", at.to_zoned(jiff::tz::TimeZone::UTC).date())?;
    Ok(at)
}

/// Saves the day's check-in; saving the same day again replaces it.
pub async fn save(me: &Own<'_>, date: Option<&str>, draft: CheckInDraft) -> AppResult<(i64, CheckIn)> {
    let checkin = prepare(me, date, draft)?;
    let id = me.state().store.upsert_checkin(me.patient, &checkin).await?;
    Ok((id, checkin))
}

/// The check-ins whose day lies in the range.
pub async fn list(me: &Own<'_>, from: Option<Date>, to: Option<Date>) -> AppResult<Vec<Stored<CheckIn>>> {
    Ok(me.state().store.list_checkins(me.patient, from, to).await?)
}

/// The check-in of one day, if there is one.
pub async fn of_day(me: &Own<'_>, date: Date) -> AppResult<Option<CheckIn>> {
    Ok(list(me, Some(date), Some(date))
        .await?
        .into_iter()
        .next()
        .map(|c| c.value))
}

/// Confirms that `date`'s log is complete ("no (more) spasms today"), keeping the day's
/// other answers: a day is spasm-free only once confirmed, never by default.
pub async fn confirm_day(me: &Own<'_>, date: Option<&str>) -> AppResult<(i64, CheckIn)> {
    let checkin = prepare_confirm(me, date).await?;
    let id = me.state().store.upsert_checkin(me.patient, &checkin).await?;
    Ok((id, checkin))
}

/// The day's check-in with its log confirmed complete, ready to store.
pub async fn prepare_confirm(me: &Own<'_>, date: Option<&str>) -> AppResult<CheckIn> {
    let date = day(me, date)?;
    let mut draft = of_day(me, date)
        .await?
        .as_ref()
        .map(CheckInDraft::from)
        .unwrap_or_default();
    draft.log_complete = true;
    Ok(draft.validate(date, &me.patient.zone, Timestamp::now())?)
}
