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
