use anyhow::Result;
use serde::Serialize;
use tonus_domain::input::parse_date;
use tonus_domain::{Category, Dose, DoseLog, DoseStatus, Patient, Regimen, Route, Schedule, Treatment};
use tonus_store::{StoredRegimen, StoredTreatment};

use super::report;
use crate::cli::{DoseArgs, DoseStatusArg, StartArgs, TreatmentCommand};
use crate::context::{user_error, Ctx};
use crate::output::{dose_line, print_json, regimen_line};

pub async fn run(ctx: &Ctx, cmd: TreatmentCommand) -> Result<()> {
    let patient = ctx.patient().await?;
    match cmd {
        TreatmentCommand::Add { name, category, note } => {
            let t = Treatment::new(&name, Category::parse(&category)?, note.as_deref())?;
            let id = ctx.store.insert_treatment(&patient, &t).await?;
            report(
                ctx,
                &format!(
                    "Added treatment #{id} {} ({}). Start it with `tonus treatment start {:?} …`.",
                    t.name(),
                    t.category().label(),
                    t.name()
                ),
                &StoredTreatment {
                    id,
                    patient_id: patient.id,
                    value: t,
                },
            )
        }
        TreatmentCommand::Start(args) => start(ctx, &patient, args).await,
        TreatmentCommand::Stop { name, on } => {
            let t = find(ctx, &patient, &name).await?;
            let on = parse_date("on", &on, &patient.zone, ctx.now)?;
            let open: Vec<StoredRegimen> = ctx
                .store
                .list_regimens(&patient)
                .await?
                .into_iter()
                .filter(|r| r.treatment_id == t.id && r.value.end().is_none())
                .collect();
            if open.is_empty() {
                return Err(user_error(format!(
                    "{} is not being taken (no open regimen)",
                    t.value.name()
                )));
            }
            for r in &open {
                // Validates the end against the regimen's start before writing.
                r.value.ended(on)?;
            }
            for r in &open {
                ctx.store.set_regimen_end(&patient, r.id, Some(on)).await?;
            }
            report(
                ctx,
                &format!("Stopped {} on {on}.", t.value.name()),
                &serde_json::json!({"treatment_id": t.id, "end": on.to_string(), "regimens": open.iter().map(|r| r.id).collect::<Vec<_>>()}),
            )
        }
        TreatmentCommand::List => list(ctx, &patient).await,
    }
}

async fn find(ctx: &Ctx, patient: &Patient, name: &str) -> Result<StoredTreatment> {
    ctx.store.treatment_by_name(patient, name).await?.ok_or_else(|| {
        user_error(format!("no treatment named {name:?}; add it with `tonus treatment add {name:?} --category drug` (or vitamin, supplement, exercise, other)"))
    })
}

async fn start(ctx: &Ctx, patient: &Patient, a: StartArgs) -> Result<()> {
    let t = find(ctx, patient, &a.name).await?;
    let dose = Dose::from_parts(a.dose, a.unit.as_deref())?;
    let route = a.route.as_deref().map(Route::parse).transpose()?;
    let schedule = Schedule::parse(&a.schedule)?;
    let from = parse_date("from", &a.from, &patient.zone, ctx.now)?;
    let until = a
        .until
        .as_deref()
        .map(|u| parse_date("until", u, &patient.zone, ctx.now))
        .transpose()?;
    let regimen = Regimen::new(t.value.category(), dose, route, schedule, from, until)?;
    let id = ctx.store.insert_regimen(patient, t.id, &regimen).await?;
    let stored = StoredRegimen {
        id,
        patient_id: patient.id,
        treatment_id: t.id,
        treatment_name: t.value.name().to_string(),
        value: regimen,
    };
    report(
        ctx,
        &format!("Started {}:\n{}", t.value.name(), regimen_line(&stored)),
        &stored,
    )
}

#[derive(Serialize)]
struct TreatmentView {
    #[serde(flatten)]
    treatment: StoredTreatment,
    regimens: Vec<StoredRegimen>,
}

async fn list(ctx: &Ctx, patient: &Patient) -> Result<()> {
    let treatments = ctx.store.list_treatments(patient).await?;
    let regimens = ctx.store.list_regimens(patient).await?;
    let views: Vec<TreatmentView> = treatments
        .into_iter()
        .map(|t| TreatmentView {
            regimens: regimens.iter().filter(|r| r.treatment_id == t.id).cloned().collect(),
            treatment: t,
        })
        .collect();
    if ctx.json {
        return print_json(&views);
    }
    if views.is_empty() {
        println!("No treatments yet. Add one with `tonus treatment add NAME --category drug`.");
    }
    for v in &views {
        let t = &v.treatment;
        println!("#{:<4} {} ({})", t.id, t.value.name(), t.value.category().label());
        for r in &v.regimens {
            println!("{}", regimen_line(r));
        }
    }
    Ok(())
}

pub async fn dose(ctx: &Ctx, a: DoseArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    let t = find(ctx, &patient, &a.treatment).await?;
    let at = super::log::when(ctx, &patient, a.at.as_deref(), "at")?;
    let day = at.local_date();
    let regimen = ctx
        .store
        .list_regimens(&patient)
        .await?
        .into_iter()
        .rev()
        .find(|r| r.treatment_id == t.id && r.value.active_on(day))
        .ok_or_else(|| {
            user_error(format!(
                "{} had no regimen running on {day}; start one with `tonus treatment start`",
                t.value.name()
            ))
        })?;
    let status = match a.status {
        DoseStatusArg::Taken => DoseStatus::Taken,
        DoseStatusArg::Late => DoseStatus::Late,
        DoseStatusArg::Missed => DoseStatus::Missed,
    };
    let d = DoseLog::new(at, status, a.note.as_deref(), ctx.now)?;
    let id = ctx.store.insert_dose(&patient, regimen.id, &d).await?;
    report(
        ctx,
        &format!("Recorded {}", dose_line(id, t.value.name(), &d)),
        &serde_json::json!({"id": id, "regimen_id": regimen.id, "treatment": t.value.name(), "dose": d}),
    )
}
