use anyhow::Result;
use tonus_domain::input::parse_date;
use tonus_domain::time::Zone;
use tonus_domain::{AdministrativeSex, PatientIdentifier, PatientIdentity, ValidationError};

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
        PatientCommand::Identity {
            name,
            full_name,
            birth_date,
            sex,
            identifier,
            clear,
        } => {
            let p = ctx
                .store
                .patient_by_handle(&name)
                .await?
                .ok_or_else(|| crate::context::user_error(format!("no patient named {name:?}")))?;
            let old = ctx.store.patient_identity(&p).await?.unwrap_or_default();
            let changing =
                clear || full_name.is_some() || birth_date.is_some() || sex.is_some() || !identifier.is_empty();
            let identity = if !changing {
                old
            } else if clear {
                PatientIdentity::default()
            } else {
                let birth_date = match birth_date {
                    Some(d) => Some(parse_date("birth_date", &d, &p.zone, ctx.now)?),
                    None => old.birth_date,
                };
                let sex = sex.as_deref().map(AdministrativeSex::parse).transpose()?.or(old.sex);
                let identifiers = if identifier.is_empty() {
                    old.identifiers.clone()
                } else {
                    identifier
                        .iter()
                        .map(|pair| {
                            let (system, value) = pair.rsplit_once('=').ok_or_else(|| {
                                ValidationError::new("identifier", "SYSTEM=VALUE", format!("{pair:?}"))
                            })?;
                            PatientIdentifier::new(system, value)
                        })
                        .collect::<Result<Vec<_>, _>>()?
                };
                PatientIdentity::new(
                    full_name.as_deref().or(old.name.as_deref()),
                    birth_date,
                    sex,
                    identifiers,
                    &p.zone,
                    ctx.now,
                )?
            };
            if changing {
                ctx.store.set_patient_identity(&p, &identity).await?;
            }
            let line = if identity.is_empty() {
                "no identity given".to_string()
            } else {
                identity.line()
            };
            super::report(ctx, &format!("{}: {line}", p.handle), &identity)
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
