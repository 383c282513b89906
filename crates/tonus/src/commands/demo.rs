//! `tonus demo`: a realistic simulated patient so a newcomer sees real-looking data at once.
//! The numbers come from the statistics crate's simulator (known truth); this module only
//! turns day indices into the patient's calendar and the simulator's records into domain ones.

use anyhow::{Context as _, Result};
use jiff::civil::{Date, Time};
use jiff::{Span, Timestamp};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, ClinicalEvent, Dose, DoseLog, DoseStatus, Effect, Episode, EventKind, ExerciseSession, ExerciseType,
    LocalInstant, MriRegion, Pain, Patient, Regimen, Region, Route, Schedule, Severity, SideEffect, SpasmKind,
    Treatment, Trigger, Unit,
};
use tonus_stats::sim::{simulate, Family as SimFamily, SimConfig, SimDay, SimTreatment};
use tonus_store::Batch;

use crate::cli::DemoArgs;
use crate::context::{user_error, Ctx};

const INVOLUNTARY: &[SpasmKind] = &[
    SpasmKind::Twitch,
    SpasmKind::Twitch,
    SpasmKind::Jerk,
    SpasmKind::Clonus,
    SpasmKind::FlexorSpasm,
    SpasmKind::ExtensorSpasm,
];
const STIFFNESS: &[SpasmKind] = &[SpasmKind::Cramp, SpasmKind::Cramp, SpasmKind::SustainedStiffness];
const LEG_REGIONS: &[Region] = &[
    Region::LeftCalf,
    Region::LeftCalf,
    Region::RightCalf,
    Region::LeftThigh,
    Region::RightThigh,
    Region::LeftFoot,
    Region::RightFoot,
    Region::Back,
    Region::LeftHand,
];
const TRIGGERS: &[Trigger] = &[
    Trigger::Movement,
    Trigger::Stretch,
    Trigger::Waking,
    Trigger::Heat,
    Trigger::Fatigue,
    Trigger::FullBladder,
    Trigger::Stress,
];
const EXERCISE: &[ExerciseType] = &[
    ExerciseType::Yoga,
    ExerciseType::Pilates,
    ExerciseType::Water,
    ExerciseType::Stretching,
    ExerciseType::Walking,
];

/// The demo's treatments: a baseline vitamin, then a drug that helps involuntary movements
/// more than stiffness, so the analyses have a real difference to find.
fn sim_treatments(days: u32) -> Vec<SimTreatment> {
    let start = days / 3;
    vec![
        SimTreatment {
            name: "Vitamin D3".into(),
            start_day: 0,
            end_day: None,
            rate_ratio_involuntary: 1.0,
            rate_ratio_stiffness: 1.0,
            onset_days: 0,
            washout_half_life_days: 0.0,
        },
        SimTreatment {
            name: "Baclofen".into(),
            start_day: start,
            end_day: None,
            rate_ratio_involuntary: 0.6,
            rate_ratio_stiffness: 0.85,
            onset_days: 7,
            washout_half_life_days: 2.0,
        },
    ]
}

/// The web account `tonus demo` makes for the demo patient, so a newcomer can sign in to the
/// web app at once.
pub const DEMO_USER: &str = "demo";

pub async fn run(ctx: &Ctx, a: DemoArgs) -> Result<()> {
    let zone = Zone::parse(&a.tz)?;
    if let Some(old) = ctx.store.patient_by_handle(&a.name).await? {
        if !a.replace {
            return Err(user_error(format!(
                "patient {:?} already exists, so its data and web account are left as they are; run `tonus serve` to use them, or use --replace to simulate it again (with a new account password), or --name for another",
                a.name
            )));
        }
        // Deleting the patient deletes the web account that owns it too.
        ctx.store.delete_patient(&old).await?;
    }
    let patient = ctx.store.create_patient(&a.name, &zone).await?;
    let config = SimConfig {
        days: a.days,
        seed: a.seed,
        treatments: sim_treatments(a.days),
        ..SimConfig::default()
    };
    let sim = simulate(&config);
    let today = tonus_domain::time::today(&zone, ctx.now);
    let first = today
        .checked_sub(Span::new().days(i64::from(a.days) - 1))
        .context("demo start date")?;
    let day_of = |i: u32| first.checked_add(Span::new().days(i64::from(i))).context("demo day");
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed ^ 0x70_6e_75_73);

    let mut batch = Batch::default();
    for d in &sim.days {
        add_day(&mut batch, &mut rng, &patient, day_of(d.day)?, d, ctx.now)?;
    }
    add_events(&mut batch, &mut rng, &patient, &sim.days, first, day_of, ctx.now)?;

    // Regimens first: doses refer to them.
    let mut dose_plan = Vec::new();
    for t in &config.treatments {
        let (category, dose, schedule) = match t.name.as_str() {
            "Vitamin D3" => (
                Category::Vitamin,
                Dose::new(1000.0, Unit::Iu)?,
                Schedule::TimesPerDay(1),
            ),
            _ => (Category::Drug, Dose::new(10.0, Unit::Mg)?, Schedule::TimesPerDay(3)),
        };
        let tid = ctx
            .store
            .insert_treatment(&patient, &Treatment::new(&t.name, category, None)?)
            .await?;
        let start = day_of(t.start_day)?;
        let regimen = Regimen::new(category, Some(dose), Some(Route::Oral), schedule, start, None)?;
        let rid = ctx.store.insert_regimen(&patient, tid, &regimen).await?;
        dose_plan.push((rid, start, schedule));
    }
    for (rid, start, schedule) in dose_plan {
        add_doses(&mut batch, &mut rng, &patient, rid, start, today, schedule, ctx.now)?;
    }
    ctx.store.insert_batch(&patient, &batch).await?;
    let side_effects = side_effects(&mut rng, &patient, &config.treatments, day_of, today, ctx.now)?;
    for s in &side_effects {
        ctx.store.insert_side_effect(&patient, s).await?;
    }
    let account = if a.no_account {
        Account::NotAsked
    } else {
        demo_account(ctx, &patient).await?
    };

    let confirmed = sim.days.iter().filter(|d| d.confirmed).count();
    super::report(
        ctx,
        &(format!(
            "Simulated patient {:?} ({}): {} days from {first} to {today}, {} episodes, {} confirmed days, {} check-ins, {} exercise sessions, {} doses, {} clinical events, {} side effects.\nTry: tonus --patient {} days    or    tonus --patient {} list --from -7",
            patient.handle,
            patient.zone,
            a.days,
            batch.episodes.len(),
            confirmed,
            batch.checkins.len(),
            batch.exercise.len(),
            batch.doses.len(),
            batch.events.len(),
            side_effects.len(),
            patient.handle,
            patient.handle
        ) + &match &account {
            Account::Made { password } => format!(
                "\nWeb app: run `tonus serve`, open http://localhost:8080/login and sign in as `{DEMO_USER}` with the password `{password}` (shown only now; set another on the Account page)."
            ),
            Account::NotAsked => String::new(),
            Account::Taken => format!(
                "\nNo web account made for it: the user name `{DEMO_USER}` is taken (`tonus user add --role patient NAME` makes one)."
            ),
        }),
        &serde_json::json!({
            "patient": patient, "days": a.days, "seed": a.seed, "from": first.to_string(), "to": today.to_string(),
            "episodes": batch.episodes.len(), "checkins": batch.checkins.len(), "exercise": batch.exercise.len(),
            "doses": batch.doses.len(), "events": batch.events.len(), "side_effects": side_effects.len(),
            "account": match &account {
                Account::Made { password } => serde_json::json!({"username": DEMO_USER, "password": password}),
                Account::Taken | Account::NotAsked => serde_json::Value::Null,
            },
        }),
    )
}

enum Account {
    Made {
        password: String,
    },
    /// The user name is in use by another account.
    Taken,
    /// `--no-account`.
    NotAsked,
}

/// Makes the web account `demo` owning `patient` (linked by id, whatever the patient's name),
/// with a random password hashed exactly as the server hashes passwords.
async fn demo_account(ctx: &Ctx, patient: &Patient) -> Result<Account> {
    if ctx.store.user_by_username(DEMO_USER).await?.is_some() {
        return Ok(Account::Taken);
    }
    let hex = tonus_server::security::random_hex(8);
    // Groups of four are easier to read and type; 64 random bits.
    let password = format!("{}-{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12], &hex[12..16]);
    tonus_server::security::check_password_rules(&password, DEMO_USER)?;
    let hash = tonus_server::security::hash_password(password.clone())
        .await
        .map_err(|_| anyhow::anyhow!("could not hash the demo account's password"))?;
    ctx.store
        .create_patient_user(DEMO_USER, &hash, patient.id)
        .await
        .context("creating the demo web account")?;
    Ok(Account::Made { password })
}

/// Side effects as people starting baclofen often report them: drowsiness and some
/// weakness in the first weeks, fading later; now and then a headache nobody links to a
/// treatment.
fn side_effects(
    rng: &mut ChaCha8Rng,
    patient: &Patient,
    treatments: &[SimTreatment],
    day_of: impl Fn(u32) -> Result<Date>,
    today: Date,
    now: Timestamp,
) -> Result<Vec<SideEffect>> {
    let mut out = Vec::new();
    let at = |day: Date, minute: u16| -> Result<LocalInstant> {
        Ok(LocalInstant {
            at: local(patient, day, minute)?,
            zone: patient.zone.clone(),
        })
    };
    for t in treatments.iter().filter(|t| t.name == "Baclofen") {
        for offset in (1..42).step_by(4) {
            let day = day_of(t.start_day + offset)?;
            if day > today || !rng.gen_bool(if offset < 21 { 0.7 } else { 0.3 }) {
                continue;
            }
            let (effect, severity) = match (offset < 14, rng.gen_bool(0.7)) {
                (true, true) => (Effect::Drowsiness, Severity::Moderate),
                (true, false) => (Effect::Weakness, Severity::Mild),
                (false, _) => (Effect::Drowsiness, Severity::Mild),
            };
            let minute = rng.gen_range(13 * 60..22 * 60);
            let when = at(day, minute)?;
            // Today's afternoon may not have come yet.
            if when.at <= now {
                out.push(SideEffect::new(when, effect, None, severity, Some(&t.name), None, now)?);
            }
        }
    }
    for back in [50_i64, 23] {
        let day = today.checked_sub(Span::new().days(back))?;
        if day >= day_of(0)? {
            out.push(SideEffect::new(
                at(day, 10 * 60)?,
                Effect::Headache,
                None,
                Severity::Mild,
                None,
                Some("after a bad night"),
                now,
            )?);
        }
    }
    out.sort_by_key(|s| s.at().at);
    Ok(out)
}

fn local(patient: &Patient, day: Date, minute: u16) -> Result<Timestamp> {
    let time = Time::new((minute / 60).min(23) as i8, (minute % 60) as i8, 0, 0)?;
    Ok(day.to_datetime(time).to_zoned(patient.zone.tz())?.timestamp())
}

fn add_day(batch: &mut Batch, rng: &mut ChaCha8Rng, p: &Patient, day: Date, d: &SimDay, now: Timestamp) -> Result<()> {
    let mut latest = Timestamp::MIN;
    for e in &d.episodes {
        let at = local(p, day, e.minute_of_day)?;
        if at > now {
            continue; // Later today: not lived yet.
        }
        let kinds = match e.family {
            SimFamily::InvoluntaryMovement => INVOLUNTARY,
            SimFamily::Stiffness => STIFFNESS,
        };
        let kind = *kinds.choose(rng).context("kinds")?;
        let mut regions = vec![*LEG_REGIONS.choose(rng).context("regions")?];
        if rng.gen_bool(0.2) {
            regions.push(*LEG_REGIONS.choose(rng).context("regions")?);
        }
        let triggers = if e.minute_of_day < 6 * 60 || e.minute_of_day >= 22 * 60 {
            vec![Trigger::Waking]
        } else if rng.gen_bool(0.5) {
            vec![*TRIGGERS.choose(rng).context("triggers")?]
        } else {
            vec![]
        };
        // Most entries are made within minutes; some the next morning (back-filled).
        let lag = if rng.gen_bool(0.15) {
            rng.gen_range(3_600..30_000)
        } else {
            rng.gen_range(10..600)
        };
        let recorded = Timestamp::from_second((at.as_second() + lag).min(now.as_second()))?;
        let instant = LocalInstant {
            at,
            zone: p.zone.clone(),
        };
        batch.episodes.push(Episode::new(
            instant,
            kind,
            regions,
            Some(Pain::new(i64::from(e.pain))?),
            Some(i64::from(e.duration_s)),
            triggers,
            None,
            None,
            recorded,
        )?);
        latest = latest.max(at);
    }
    if let Some(c) = &d.checkin {
        let draft = CheckInDraft {
            spasticity_nrs: Some(i64::from(c.spasticity_nrs)),
            pain_nrs: Some(i64::from(c.pain_nrs)),
            psfs_frequency: Some(i64::from(c.psfs_frequency)),
            psfs_severity: c.psfs_severity.map(i64::from),
            night_wakings: Some(i64::from(c.night_wakings)),
            // Today is not over, so today's log cannot honestly be complete yet.
            log_complete: d.confirmed && day < tonus_domain::time::today(&p.zone, now),
            note: None,
        };
        batch.checkins.push(draft.validate(day, &p.zone, now)?);
    }
    if let Some(x) = &d.exercise {
        let at = local(p, day, rng.gen_range(9 * 60..19 * 60))?;
        if at <= now {
            let kind = *EXERCISE.choose(rng).context("exercise")?;
            let instant = LocalInstant {
                at,
                zone: p.zone.clone(),
            };
            batch.exercise.push(ExerciseSession::new(
                instant,
                kind,
                i64::from(x.minutes.max(1)),
                i64::from(x.exertion),
                None,
                now,
            )?);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_doses(
    batch: &mut Batch,
    rng: &mut ChaCha8Rng,
    p: &Patient,
    regimen: i64,
    start: Date,
    today: Date,
    schedule: Schedule,
    now: Timestamp,
) -> Result<()> {
    let times: &[u16] = match schedule {
        Schedule::TimesPerDay(3) => &[8 * 60, 14 * 60, 21 * 60],
        _ => &[8 * 60],
    };
    let mut day = start;
    while day <= today {
        for minute in times {
            let at = local(p, day, *minute + rng.gen_range(0..40))?;
            if at > now {
                continue;
            }
            let status = match rng.gen_range(0..100) {
                0..=6 => DoseStatus::Missed,
                7..=12 => DoseStatus::Late,
                _ => DoseStatus::Taken,
            };
            batch.doses.push((
                regimen,
                DoseLog::new(
                    LocalInstant {
                        at,
                        zone: p.zone.clone(),
                    },
                    status,
                    None,
                    now,
                )?,
            ));
        }
        day = day.tomorrow()?;
    }
    Ok(())
}

fn add_events(
    batch: &mut Batch,
    rng: &mut ChaCha8Rng,
    p: &Patient,
    days: &[SimDay],
    first: Date,
    day_of: impl Fn(u32) -> Result<Date>,
    now: Timestamp,
) -> Result<()> {
    let diagnosis = first.checked_sub(Span::new().days(rng.gen_range(200..900)))?;
    batch.events.push(ClinicalEvent::new(
        EventKind::Diagnosis,
        diagnosis,
        None,
        Some("relapsing-remitting MS"),
        &p.zone,
        now,
    )?);
    let mri_day = day_of((days.len() as u32 / 2).saturating_sub(1))?;
    batch.events.push(ClinicalEvent::new(
        EventKind::mri(
            MriRegion::CervicalCord,
            Some(rng.gen_range(3..9)),
            Some(rng.gen_range(0..2)),
            Some(0),
        )?,
        mri_day,
        None,
        Some("stable cervical lesions"),
        &p.zone,
        now,
    )?);
    // Runs of relapse days become relapse events.
    let mut start: Option<u32> = None;
    for d in days {
        match (d.relapse, start) {
            (true, None) => start = Some(d.day),
            (false, Some(s)) => {
                let end = day_of(d.day.saturating_sub(1))?;
                batch.events.push(ClinicalEvent::new(
                    EventKind::Relapse,
                    day_of(s)?,
                    Some(end),
                    None,
                    &p.zone,
                    now,
                )?);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        batch.events.push(ClinicalEvent::new(
            EventKind::Relapse,
            day_of(s)?,
            None,
            Some("ongoing"),
            &p.zone,
            now,
        )?);
    }
    Ok(())
}
