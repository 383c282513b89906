//! Logging spasm episodes, correcting and deleting them.

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::Zone;
use tonus_domain::Episode;
use tonus_store::Stored;

use super::Own;
use crate::error::{AppError, AppResult};

/// An episode as typed: the draft's fields, and the start as the person wrote it.
pub struct EpisodeInput {
    pub draft: EpisodeDraft,
    /// RFC 3339 or local time in the patient's zone; empty or absent: now for a new episode,
    /// the stored start for a correction.
    pub started_at: Option<String>,
}

/// The start as shown in forms (to the minute, in the format of a native date-time input),
/// so a correction that leaves the shown time untouched keeps the stored instant exactly,
/// seconds included.
pub fn minute_text(at: Timestamp, zone: &Zone) -> String {
    at.to_zoned(zone.tz()).strftime("%Y-%m-%dT%H:%M").to_string()
}

fn validate(me: &Own<'_>, input: EpisodeInput, stored_at: Option<Timestamp>) -> AppResult<Episode> {
    let at = super::typed_instant(me, "started_at", input.started_at.as_deref(), stored_at)?;
    Ok(input.draft.validate(at, Timestamp::now())?)
}

/// A new episode checked and ready to store (for a keyed write).
pub fn prepare(me: &Own<'_>, input: EpisodeInput) -> AppResult<Episode> {
    validate(me, input, None)
}

/// Logs a new episode.
pub async fn log(me: &Own<'_>, input: EpisodeInput) -> AppResult<(i64, Episode)> {
    let episode = prepare(me, input)?;
    let id = me.state().store.insert_episode(me.patient, &episode).await?;
    Ok((id, episode))
}

/// One of the patient's episodes (404 if it is not theirs).
pub async fn get(me: &Own<'_>, id: i64) -> AppResult<Stored<Episode>> {
    me.state()
        .store
        .get_episode(me.patient, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The patient's episodes whose local day lies in the range.
pub async fn list(me: &Own<'_>, from: Option<Date>, to: Option<Date>) -> AppResult<Vec<Stored<Episode>>> {
    Ok(me.state().store.list_episodes(me.patient, from, to).await?)
}

/// Replaces an episode with a correction. `keep_triggers`: the form that sent it does not
/// show triggers, so the stored ones stay rather than being cleared.
pub async fn correct(me: &Own<'_>, id: i64, mut input: EpisodeInput, keep_triggers: bool) -> AppResult<Episode> {
    let old = get(me, id).await?;
    if keep_triggers {
        input.draft.triggers = old.value.triggers().iter().map(|t| t.code().to_string()).collect();
        input.draft.trigger_note = old.value.trigger_note().map(str::to_string);
    }
    let episode = validate(me, input, Some(old.value.started_at().at))?;
    if !me.state().store.update_episode(me.patient, id, &episode).await? {
        return Err(AppError::NotFound);
    }
    Ok(episode)
}

/// Deletes one of the patient's episodes (404 if it is not theirs).
pub async fn delete(me: &Own<'_>, id: i64) -> AppResult<()> {
    if me.state().store.delete_episode(me.patient, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
