use anyhow::Result;

use crate::cli::{DeleteArgs, RecordType};
use crate::context::{user_error, Ctx};
use crate::prompt;

fn name(r: RecordType) -> &'static str {
    match r {
        RecordType::Episode => "episode",
        RecordType::Checkin => "check-in",
        RecordType::Treatment => "treatment (with its regimens and doses)",
        RecordType::Dose => "dose",
        RecordType::Exercise => "exercise session",
        RecordType::Event => "clinical event",
        RecordType::SideEffect => "side effect",
    }
}

pub async fn run(ctx: &Ctx, a: DeleteArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    let what = name(a.record);
    if !a.yes {
        if !prompt::interactive() {
            return Err(user_error(format!(
                "deleting needs confirmation: add --yes to delete {what} #{} without a prompt",
                a.id
            )));
        }
        if !prompt::confirm(&format!("Delete {what} #{}? This cannot be undone.", a.id), false)? {
            println!("Nothing deleted.");
            return Ok(());
        }
    }
    let s = &ctx.store;
    let deleted = match a.record {
        RecordType::Episode => s.delete_episode(&patient, a.id).await?,
        RecordType::Checkin => s.delete_checkin(&patient, a.id).await?,
        RecordType::Treatment => s.delete_treatment(&patient, a.id).await?,
        RecordType::Dose => s.delete_dose(&patient, a.id).await?,
        RecordType::Exercise => s.delete_exercise(&patient, a.id).await?,
        RecordType::Event => s.delete_event(&patient, a.id).await?,
        RecordType::SideEffect => s.delete_side_effect(&patient, a.id).await?,
    };
    if !deleted {
        return Err(user_error(format!(
            "no {what} #{} for patient {:?}",
            a.id, patient.handle
        )));
    }
    super::report(
        ctx,
        &format!("Deleted {what} #{}.", a.id),
        &serde_json::json!({"deleted": a.id}),
    )
}
