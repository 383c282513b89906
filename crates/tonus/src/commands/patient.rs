use anyhow::Result;
use tonus_domain::time::Zone;

use crate::cli::PatientCommand;
use crate::context::{system_zone, Ctx};
use crate::output::print_json;

pub async fn run(ctx: &Ctx, cmd: PatientCommand) -> Result<()> {
    match cmd {
        PatientCommand::Add { name, tz } => {
            let zone = match tz {
                Some(tz) => Zone::parse(&tz)?,
                None => system_zone(),
            };
            let p = ctx.store.create_patient(&name, &zone).await?;
            super::report(
                ctx,
                &format!("Added patient {:?} (time zone {}).", p.handle, p.zone),
                &p,
            )
        }
        PatientCommand::Delete { name, yes } => super::backup::delete_patient(ctx, &name, yes).await,
        PatientCommand::Zone { name, tz } => {
            let zone = Zone::parse(&tz)?;
            let p = ctx
                .store
                .patient_by_handle(&name)
                .await?
                .ok_or_else(|| crate::context::user_error(format!("no patient named {name:?}")))?;
            ctx.store.set_patient_zone(&p, &zone).await?;
            super::report(
                ctx,
                &format!("Patient {:?} now uses time zone {zone}.", p.handle),
                &serde_json::json!({"patient": p.handle, "zone": zone}),
            )
        }
        PatientCommand::List => {
            let patients = ctx.store.list_patients().await?;
            if ctx.json {
                return print_json(&patients);
            }
            for p in &patients {
                println!("{:<20} {}", p.handle, p.zone);
            }
            if patients.is_empty() {
                println!("No patients yet: the first `tonus log` creates one, or `tonus patient add NAME`.");
            }
            Ok(())
        }
    }
}
