//! Personal trials and observational analyses: the CLI side. The design rules, calendar,
//! models and verdicts all live in `tonus-stats`; this module fetches the patient's records,
//! lays them on the trial's calendar, and prints the result in the CENT 2015 order.

use anyhow::Result;
use jiff::civil::Date;
use serde::Serialize;
use tonus_domain::input::parse_date;
use tonus_domain::{Patient, ValidationError};
use tonus_report::pooled::{pooled_comparisons, Key, POOLED_NOTICE};
use tonus_report::trials::arms::{arms_of, instruction};
use tonus_report::trials::{
    day, design_of, outcome_code, parse_outcome, provenance, OutcomeResult, PlanRequest, TrialError, NOTICE,
};
use tonus_stats::analysis::{compare_ranges, AnalysisOptions};
use tonus_stats::design::{Calendar, Outcome, TrialDesign};
use tonus_stats::exercise::{load_effect, sessions_above_limit, ExerciseSession as StatSession, GentleLimit};
use tonus_stats::planning::PlanningOptions;
use tonus_stats::records::day_records;
use tonus_stats::StatsError;
use tonus_store::StoredTrial;

use crate::cli::{AnalyseCommand, PlanArgs, TrialCommand};
use crate::context::{user_error, Ctx};
use crate::output::print_json;

mod print;
use print::{day_counts, effect_line, print_report};

pub async fn run(ctx: &Ctx, cmd: TrialCommand) -> Result<()> {
    // Pooling reads every patient, so it must not pick (or create) one.
    if let TrialCommand::Pooled { arms, primary } = &cmd {
        return pooled(ctx, arms, primary).await;
    }
    let patient = ctx.patient().await?;
    match cmd {
        TrialCommand::Plan(a) => plan(ctx, &patient, a).await,
        TrialCommand::List => {
            let trials = ctx.store.list_trials(&patient).await?;
            if ctx.json {
                return print_json(&trials);
            }
            if trials.is_empty() {
                println!("No trials yet. Plan one with `tonus trial plan --name NAME --arm none --arm TREATMENT`.");
            }
            for t in &trials {
                let d = design_of(t)?;
                println!(
                    "#{:<4} {:<30} from {}  arms: {}{}",
                    t.id,
                    t.name,
                    t.start_date,
                    d.arms.join(" vs "),
                    provenance(t, &patient.zone).map_or(String::new(), |p| format!("  [{p}]"))
                );
            }
            Ok(())
        }
        TrialCommand::Show { trial } => {
            let t = find(ctx, &patient, &trial).await?;
            let design = design_of(&t)?;
            let cal = design.calendar().map_err(stats_input)?;
            if ctx.json {
                return print_json(&calendar_view(&t, &patient, &design, &cal)?);
            }
            print_calendar(&t, &patient, &design, &cal)
        }
        TrialCommand::Report { trial, trend } => {
            let t = find(ctx, &patient, &trial).await?;
            report(ctx, &patient, &t, trend).await
        }
        // Handled before a patient is chosen.
        TrialCommand::Pooled { .. } => Ok(()),
    }
}

/// `tonus trial pooled`: the same numbers as the clinician's web page, over every patient.
async fn pooled(ctx: &Ctx, arms: &[String], primary: &str) -> Result<()> {
    let [reference, arm] = arms else {
        return Err(user_error(format!(
            "give exactly two arms, the reference first (e.g. --arm none --arm Baclofen); got {}",
            arms.len()
        )));
    };
    let outcome = parse_outcome(primary)?;
    let key = Key {
        reference: reference.clone(),
        arm: arm.clone(),
        outcome: outcome_code(outcome),
    };
    let patients = ctx.store.list_patients().await?;
    let found = pooled_comparisons(&ctx.store, &patients, ctx.now, Some(&key))
        .await
        .map_err(trial_error)?;
    if ctx.json {
        return print_json(&found);
    }
    for c in &found {
        println!("Pooled trial results: {}", c.title());
        if c.patients.is_empty() {
            println!("No patient has an analysable trial of this comparison.");
        }
        for line in c.patient_lines() {
            println!("  {line}");
        }
        for line in c.summary_lines() {
            println!("{line}");
        }
        println!("{POOLED_NOTICE}");
    }
    Ok(())
}

/// Not-started trials and design problems are the user's to fix (exit 2).
fn trial_error(e: TrialError) -> anyhow::Error {
    match e {
        TrialError::NotStarted(msg) => user_error(msg),
        TrialError::Invalid(v) => anyhow::Error::new(v),
        TrialError::Stats(s) => stats_input(s),
        other => anyhow::Error::new(other),
    }
}

/// Design problems are the user's to fix (exit 2); model failures are reported as results.
fn stats_input(e: StatsError) -> anyhow::Error {
    match e {
        StatsError::InvalidDesign { field, rule } => user_error(format!("{field} {rule}")),
        other => anyhow::Error::new(other),
    }
}

async fn find(ctx: &Ctx, patient: &Patient, key: &str) -> Result<StoredTrial> {
    ctx.store
        .find_trial(patient, key)
        .await?
        .ok_or_else(|| user_error(format!("no trial {key:?}; see `tonus trial list`")))
}

async fn plan(ctx: &Ctx, patient: &Patient, a: PlanArgs) -> Result<()> {
    let start = match a.start.as_deref() {
        Some(s) => tonus_domain::input::parse_date("start", s, &patient.zone, ctx.now)?,
        None => tonus_domain::time::today(&patient.zone, ctx.now).tomorrow()?,
    };
    let request = PlanRequest {
        name: a.name.as_deref().unwrap_or_default(),
        arms: &a.arms,
        start,
        baseline_days: a.baseline_days,
        period_days: a.period_days,
        washout_days: a.washout_days,
        blocks: a.blocks,
        // A seed a person can read back and write down; the order follows from it.
        seed: a.seed.unwrap_or_else(|| u64::from(rand::random::<u32>())),
        primary: parse_outcome(&a.primary)?,
        threshold: a.threshold,
    };
    if a.dry_run {
        return dry_run(ctx, patient, &request).await;
    }
    let (t, cal) = tonus_report::trials::plan(&ctx.store, patient, &request)
        .await
        .map_err(trial_error)?;
    let design = design_of(&t)?;
    if ctx.json {
        return print_json(&calendar_view(&t, patient, &design, &cal)?);
    }
    println!(
        "Planned trial #{} {:?}. The primary outcome and threshold are now fixed.",
        t.id, t.name
    );
    if provenance(&t, &patient.zone).is_some() {
        println!(
            "It started before today, so its reports will say it was planned after the start and is not pre-specified."
        );
    }
    print_calendar(&t, patient, &design, &cal)
}

/// `trial plan --dry-run`: the power of the design, simulated from the patient's recent
/// diary. Nothing is stored.
async fn dry_run(ctx: &Ctx, patient: &Patient, request: &PlanRequest<'_>) -> Result<()> {
    let input = tonus_report::trials::dry_run_input(&ctx.store, patient, request, ctx.now)
        .await
        .map_err(trial_error)?;
    let started = std::time::Instant::now();
    // Progress only once the wait is noticeable, on stderr so stdout stays the result.
    let mut progress = |blocks: u32| {
        if started.elapsed() > std::time::Duration::from_secs(1) {
            eprintln!("simulating a design with {blocks} blocks…");
        }
    };
    let result = input
        .run(&PlanningOptions::default(), &mut progress)
        .map_err(trial_error)?;
    if ctx.json {
        return print_json(&result);
    }
    let d = &result.design;
    println!(
        "POWER CHECK (dry run, nothing saved): {} — {} blocks of {}-day periods ({} washout days), \
         primary outcome {}, a fall of {:.0} % counts as meaningful; diary read from {} to {}.",
        d.arms.join(" vs "),
        d.blocks,
        d.period_days,
        d.washout_days,
        d.primary_outcome.label(),
        d.success_threshold * 100.0,
        result.diary_from,
        result.diary_to
    );
    for l in &result.lines {
        println!("  {l}");
    }
    Ok(())
}

#[derive(Serialize)]
struct PeriodView {
    index: u32,
    block: u32,
    arm: String,
    /// Every treatment of the arm to take, and the trial's others to stop.
    take: Vec<String>,
    stop: Vec<String>,
    /// The same in words.
    instruction: String,
    from: Date,
    to: Date,
    washout_until: Option<Date>,
    analysed_from: Date,
}

#[derive(Serialize)]
struct CalendarView<'a> {
    trial: &'a StoredTrial,
    /// "planned after the start: not pre-specified" when the plan was saved after day 1.
    provenance: Option<&'static str>,
    /// Arms whose drug must not be stopped abruptly: agree a tapering plan first.
    cautions: Vec<String>,
    baseline_from: Date,
    baseline_to: Option<Date>,
    periods: Vec<PeriodView>,
    end: Date,
}

fn calendar_view<'a>(
    t: &'a StoredTrial,
    patient: &Patient,
    design: &TrialDesign,
    cal: &Calendar,
) -> Result<CalendarView<'a>> {
    let s = t.start_date;
    let arms = arms_of(t, design);
    let periods = cal
        .periods
        .iter()
        .map(|p| {
            let what = instruction(&arms, p.arm);
            Ok(PeriodView {
                index: p.index + 1,
                block: p.block + 1,
                arm: design.arms[p.arm].clone(),
                instruction: what.text(),
                take: what.take,
                stop: what.stop,
                from: day(s, p.days.start)?,
                to: day(s, p.days.end - 1)?,
                washout_until: if p.washout.is_empty() {
                    None
                } else {
                    Some(day(s, p.washout.end - 1)?)
                },
                analysed_from: day(s, p.analysed.start)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CalendarView {
        trial: t,
        provenance: provenance(t, &patient.zone),
        cautions: tonus_domain::taper::trial_cautions(&arms),
        baseline_from: s,
        baseline_to: if cal.baseline.is_empty() {
            None
        } else {
            Some(day(s, cal.baseline.end - 1)?)
        },
        periods,
        end: day(s, cal.total_days.saturating_sub(1))?,
    })
}

fn print_calendar(t: &StoredTrial, patient: &Patient, design: &TrialDesign, cal: &Calendar) -> Result<()> {
    let v = calendar_view(t, patient, design, cal)?;
    println!(
        "Trial #{} {:?}: {} — primary outcome {} (a fall of {:.0} % or more counts as meaningful); random order from seed {}.",
        t.id,
        t.name,
        design.arms.join(" vs "),
        design.primary_outcome.label(),
        design.success_threshold * 100.0,
        design.seed
    );
    if let Some(p) = v.provenance {
        println!("  Note: {p} (saved on {}).", t.planned_at);
    }
    for c in &v.cautions {
        println!("  Caution: {c}");
    }
    if let Some(to) = v.baseline_to {
        println!(
            "  {} → {}  run-in (baseline): keep your usual routine and log every day",
            v.baseline_from, to
        );
    }
    for p in &v.periods {
        let what = &p.instruction;
        let washout = p
            .washout_until
            .map_or(String::new(), |w| format!(" (days to {w} are washout, not analysed)"));
        println!(
            "  {} → {}  period {} (block {}): {}: {what}{washout}",
            p.from, p.to, p.index, p.block, p.arm
        );
    }
    println!(
        "  Ends {}. Confirm each day's log (`tonus checkin`) so it counts.",
        v.end
    );
    Ok(())
}

async fn report(ctx: &Ctx, patient: &Patient, t: &StoredTrial, time_trend: bool) -> Result<()> {
    let (rep, cal) = tonus_report::trials::compute(&ctx.store, patient, t, ctx.now, time_trend)
        .await
        .map_err(trial_error)?;
    if ctx.json {
        return print_json(&rep);
    }
    print_report(&rep, &cal)
}

/// Parses `FROM..TO` into inclusive dates.
fn date_range(field: &str, text: &str, p: &Patient, ctx: &Ctx) -> Result<(Date, Date)> {
    let (a, b) = text.split_once("..").ok_or_else(|| {
        ValidationError::new(
            field,
            "a range FROM..TO such as 2026-01-01..2026-01-31",
            format!("{text:?}"),
        )
    })?;
    let from = parse_date(field, a, &p.zone, ctx.now)?;
    let to = parse_date(field, b, &p.zone, ctx.now)?;
    if to < from {
        return Err(
            ValidationError::new(field, "a range whose end is not before its start", format!("{text:?}")).into(),
        );
    }
    Ok((from, to))
}

pub async fn analyse(ctx: &Ctx, cmd: AnalyseCommand) -> Result<()> {
    let patient = ctx.patient().await?;
    match cmd {
        AnalyseCommand::Compare {
            before,
            after,
            threshold,
        } => {
            let (b0, b1) = date_range("before", &before, &patient, ctx)?;
            let (a0, a1) = date_range("after", &after, &patient, ctx)?;
            if !(threshold > 0.0 && threshold < 1.0) {
                return Err(ValidationError::new("threshold", "between 0 and 1 (0.30 = 30 %)", threshold).into());
            }
            if a0 <= b1 && b0 <= a1 {
                return Err(user_error(
                    "the two ranges overlap; pick ranges that do not share a day",
                ));
            }
            let start = b0.min(a0);
            let end = b1.max(a1);
            let s = &ctx.store;
            let episodes: Vec<_> = s
                .list_episodes(&patient, Some(start), Some(end))
                .await?
                .into_iter()
                .map(|e| e.value)
                .collect();
            let checkins: Vec<_> = s
                .list_checkins(&patient, Some(start), Some(end))
                .await?
                .into_iter()
                .map(|c| c.value)
                .collect();
            let records = day_records(start, end, &episodes, &checkins, &[]);
            let idx = |d: Date| -> u32 { (d - start).get_days().max(0) as u32 };
            let options = AnalysisOptions::default();
            let results: Vec<OutcomeResult> = Outcome::ALL
                .iter()
                .map(|o| {
                    let r = compare_ranges(
                        &records,
                        idx(b0)..idx(b1) + 1,
                        idx(a0)..idx(a1) + 1,
                        *o,
                        threshold,
                        &options,
                    );
                    OutcomeResult {
                        outcome: outcome_code(*o),
                        label: o.label(),
                        primary: false,
                        not_analysed: r.as_ref().err().map(|e| e.to_string()),
                        analysis: r.ok(),
                    }
                })
                .collect();
            if ctx.json {
                return print_json(&serde_json::json!({
                    "observational": true, "notice": NOTICE,
                    "before": {"from": b0, "to": b1}, "after": {"from": a0, "to": a1}, "outcomes": results,
                }));
            }
            println!("OBSERVATIONAL COMPARISON (not randomised: other changes between the two ranges can explain a difference)");
            println!("before {b0} → {b1}   vs   after {a0} → {a1}\n{NOTICE}");
            for o in &results {
                match (&o.analysis, &o.not_analysed) {
                    (Some(a), _) => {
                        println!("  {}: {}.", o.label, day_counts(a));
                        for l in effect_line(a) {
                            println!("{l}");
                        }
                    }
                    (None, why) => println!("  {}: not enough data ({}).", o.label, why.as_deref().unwrap_or("-")),
                }
            }
            Ok(())
        }
        AnalyseCommand::Exercise { from, to, gentle_limit } => {
            let from = parse_date("from", &from, &patient.zone, ctx.now)?;
            let to = parse_date("to", &to, &patient.zone, ctx.now)?;
            if gentle_limit > 10 {
                return Err(ValidationError::new("gentle_limit", "an integer 0–10", gentle_limit).into());
            }
            let s = &ctx.store;
            let episodes: Vec<_> = s
                .list_episodes(&patient, Some(from), Some(to))
                .await?
                .into_iter()
                .map(|e| e.value)
                .collect();
            let checkins: Vec<_> = s
                .list_checkins(&patient, Some(from), Some(to))
                .await?
                .into_iter()
                .map(|c| c.value)
                .collect();
            let stored_ex = s.list_exercise(&patient, Some(from), Some(to)).await?;
            let exercise: Vec<_> = stored_ex.iter().map(|x| x.value.clone()).collect();
            let records = day_records(from, to, &episodes, &checkins, &exercise);
            let options = AnalysisOptions::default();
            let limit = GentleLimit {
                max_exertion: gentle_limit,
                max_weekly_load: None,
            };
            let sessions: Vec<StatSession> = exercise
                .iter()
                .map(|x| StatSession {
                    day: (x.at().local_date() - from).get_days().max(0) as u32,
                    minutes: x.minutes(),
                    exertion: x.exertion(),
                })
                .collect();
            let above = sessions_above_limit(&sessions, limit);
            let effects: Vec<_> = [Outcome::InvoluntaryCount, Outcome::StiffnessCount]
                .iter()
                .map(|o| {
                    (
                        outcome_code(*o),
                        o.label(),
                        load_effect(&records, *o, &options).map_err(|e| e.to_string()),
                    )
                })
                .collect();
            if ctx.json {
                return print_json(&serde_json::json!({
                    "observational": true, "from": from, "to": to, "gentle_limit": gentle_limit,
                    "sessions": exercise.len(), "sessions_above_limit": above.len(),
                    "effects": effects.iter().map(|(code, label, r)| match r {
                        Ok(e) => serde_json::json!({"outcome": code, "label": label, "effect": e}),
                        Err(why) => serde_json::json!({"outcome": code, "label": label, "not_analysed": why}),
                    }).collect::<Vec<_>>(),
                }));
            }
            println!(
                "EXERCISE LOAD AND NEXT-DAY SPASMS, {from} → {to} (observational: people exercise more on good days)"
            );
            println!(
                "{} session(s); {} above your gentle limit (exertion > {gentle_limit}).",
                exercise.len(),
                above.len()
            );
            for x in stored_ex.iter().filter(|x| x.value.exertion() > gentle_limit) {
                println!("  {}", crate::output::exercise_line(x.id, &x.value));
            }
            for (_, label, r) in &effects {
                match r {
                    Ok(e) => println!(
                        "  {label}: next-day rate ratio per 100 load units {:.2} (95 % interval {:.2} to {:.2}), {} day pairs.",
                        e.rate_ratio_per_100, e.ci_low, e.ci_high, e.pairs
                    ),
                    Err(why) => println!("  {label}: not enough data ({why})."),
                }
            }
            Ok(())
        }
    }
}
