//! A personal trial's analysis from stored records: the patient's confirmed days laid on the
//! trial's randomised calendar, every outcome analysed, adherence per period and other
//! treatments active. Shared by `tonus trial report`, the clinician report and the web app.

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use serde::Serialize;
use tonus_domain::arm::Arm;
use tonus_domain::Patient;
use tonus_stats::analysis::{analyse_trial_outcomes_excluding, AnalysisOptions, EffectScale, OutcomeAnalysis};
use tonus_stats::design::{Calendar, Outcome, TrialDesign};
use tonus_stats::monitoring::{rule_text, Look};
use tonus_stats::records::day_records;
use tonus_stats::verdict::percent;
use tonus_stats::StatsError;
use tonus_store::{Store, StoreError, StoredTrial, TrialPlanRecord};

use crate::data::TrialSummary;
use crate::harms::{trial_harms, TrialHarms};

/// Shown with every trial result.
pub const NOTICE: &str = "Self-reported data: episodes, check-ins and doses were entered by the patient, \
without blinding. These results describe this patient's own data and are not medical advice; \
discuss any change of treatment with a clinician.";

#[derive(Debug, thiserror::Error)]
pub enum TrialError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error("reading the design of trial #{0}: {1}")]
    Design(i64, serde_json::Error),
    #[error("date out of range: {0}")]
    Date(#[from] jiff::Error),
    /// The trial has not started: nothing to analyse yet.
    #[error("{0}")]
    NotStarted(String),
    /// A planned value broke a rule.
    #[error(transparent)]
    Invalid(#[from] tonus_domain::ValidationError),
}

/// The arm name for "no treatment".
pub const NONE_ARM: &str = "none";

/// The label of a trial planned after its first day, wherever the trial is named.
pub const PLANNED_AFTER_START: &str = "planned after the start: not pre-specified";

/// A trial whose plan was saved after its first (local) day: its order, primary outcome and
/// threshold may have been chosen knowing some of its data, so it is not pre-specified.
pub fn planned_after_start(t: &StoredTrial, zone: &tonus_domain::time::Zone) -> bool {
    tonus_domain::time::today(zone, t.planned_at) > t.start_date
}

/// The label for `t`, if it needs one.
pub fn provenance(t: &StoredTrial, zone: &tonus_domain::time::Zone) -> Option<&'static str> {
    planned_after_start(t, zone).then_some(PLANNED_AFTER_START)
}

/// What a patient asks for when planning a trial.
pub struct PlanRequest<'a> {
    pub name: &'a str,
    /// `none`, a treatment's name, or names joined by `+` ("Baclofen + Stretching"), any
    /// case and order; the first is the reference.
    pub arms: &'a [String],
    pub start: Date,
    pub baseline_days: u32,
    pub period_days: u32,
    pub washout_days: u32,
    pub blocks: u32,
    pub seed: u64,
    pub primary: Outcome,
    pub threshold: f64,
}

/// Checks and stores a trial design; its randomised calendar follows from the seed.
pub async fn plan(
    store: &Store,
    patient: &Patient,
    r: &PlanRequest<'_>,
) -> Result<(StoredTrial, Calendar), TrialError> {
    let name = tonus_domain::error::check_text("name", r.name, 100)?;
    if name.is_empty() {
        return Err(tonus_domain::ValidationError::new("name", "1–100 characters", format!("{:?}", r.name)).into());
    }
    let name = name.as_str();
    let (design, arms) = design_for(store, patient, r).await?;
    let cal = design.calendar()?;
    let json = design_json(&design, &arms).map_err(|e| TrialError::Design(0, e))?;
    let id = store.insert_trial(patient, name, r.start, &json).await?;
    // Read back, so the planning time is the one stored.
    let trial = store
        .find_trial(patient, &id.to_string())
        .await?
        .filter(|t| t.id == id)
        .ok_or_else(|| StoreError::Conflict(format!("trial #{id} was deleted while it was being planned")))?;
    Ok((trial, cal))
}

/// The design a plan request describes, checked against the patient's treatments and the
/// design rules; nothing is stored.
async fn design_for(
    store: &Store,
    patient: &Patient,
    r: &PlanRequest<'_>,
) -> Result<(TrialDesign, Vec<Arm>), TrialError> {
    let arms = resolve_arms(store, patient, r.arms).await?;
    let design = TrialDesign {
        // The statistics know an arm by its label; its treatments are stored beside it.
        arms: arms.iter().map(Arm::label).collect(),
        baseline_days: r.baseline_days,
        period_days: r.period_days,
        washout_days: r.washout_days,
        blocks: r.blocks,
        seed: r.seed,
        primary_outcome: r.primary,
        success_threshold: r.threshold,
    };
    design.validate()?;
    Ok((design, arms))
}

mod adherence;
pub mod arms;
pub mod cent;
mod disturbed;
mod dry_run;
pub use adherence::{Adherence, ComponentAdherence, OtherDoses};
use arms::{arms_of, design_json, resolve_arms};
pub use disturbed::{check_lines, exclusions, DisturbedDays, Exclusions};
pub use dry_run::{dry_run_input, DryRun, DryRunInput};

/// Parses an outcome code (`involuntary-count`, `spasticity-nrs`, …).
pub fn parse_outcome(text: &str) -> Result<Outcome, tonus_domain::ValidationError> {
    let normal = text.trim().to_ascii_lowercase().replace('-', "_");
    serde_json::from_value(serde_json::Value::String(normal)).map_err(|_| {
        tonus_domain::ValidationError::new(
            "primary",
            "one of involuntary-count, stiffness-count, episode-pain, spasticity-nrs, pain-nrs, night-wakings",
            format!("{text:?}"),
        )
    })
}

pub fn design_of(t: &StoredTrial) -> Result<TrialDesign, TrialError> {
    serde_json::from_value(t.design.clone()).map_err(|e| TrialError::Design(t.id, e))
}

/// The calendar day of trial day `index`.
pub fn day(start: Date, index: u32) -> Result<Date, TrialError> {
    Ok(start.checked_add(Span::new().days(i64::from(index)))?)
}

/// An outcome's code as typed on the command line (`involuntary-count`).
pub fn outcome_code(o: Outcome) -> String {
    serde_json::to_value(o)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', "-")))
        .unwrap_or_default()
}

#[derive(Serialize)]
pub struct OutcomeResult {
    pub outcome: String,
    pub label: &'static str,
    pub primary: bool,
    pub analysis: Option<OutcomeAnalysis>,
    pub not_analysed: Option<String>,
}

#[derive(Serialize)]
pub struct TrialReport<'a> {
    pub trial: &'a StoredTrial,
    pub design: TrialDesign,
    /// False when the plan was saved after the trial's first day.
    pub pre_specified: bool,
    /// [`PLANNED_AFTER_START`] when not pre-specified.
    pub provenance: Option<&'static str>,
    /// Every plan ever saved for dates that overlap this trial's (this one included), oldest
    /// first: re-planning until the order suits shows here.
    pub plans: Vec<PlanLine>,
    pub notice: &'static str,
    pub data_until: Date,
    pub complete: bool,
    /// Where `data_until` falls in the trial: an interim look or the final analysis.
    pub look: Look,
    /// At an interim look, the monitoring rule in words (the same for every outcome).
    pub monitoring_rule: Option<String>,
    /// The treatments of each arm, in the design's arm order (empty for `none`).
    pub arm_components: Vec<Arm>,
    pub adherence: Vec<Adherence>,
    pub concomitant_treatments: Vec<String>,
    pub outcomes: Vec<OutcomeResult>,
    /// The pre-specified rule for recorded relapses and infections and what it left out.
    pub exclusions: Exclusions,
    /// Side effects per period and arm (CENT 2015 item 19): counts only.
    pub harms: TrialHarms,
}

/// Lays the patient's confirmed days on the trial's calendar and analyses every outcome.
pub async fn compute<'a>(
    store: &Store,
    patient: &Patient,
    t: &'a StoredTrial,
    now: Timestamp,
    time_trend: bool,
) -> Result<(TrialReport<'a>, Calendar), TrialError> {
    let design = design_of(t)?;
    let cal = design.calendar()?;
    let end = day(t.start_date, cal.total_days.saturating_sub(1))?;
    let today = tonus_domain::time::today(&patient.zone, now);
    if t.start_date > today {
        return Err(TrialError::NotStarted(format!(
            "trial {:?} starts on {}: there is no data to analyse yet",
            t.name, t.start_date
        )));
    }
    let until = end.min(today);
    let s = store;
    let episodes: Vec<_> = s
        .list_episodes(patient, Some(t.start_date), Some(until))
        .await?
        .into_iter()
        .map(|e| e.value)
        .collect();
    let checkins: Vec<_> = s
        .list_checkins(patient, Some(t.start_date), Some(until))
        .await?
        .into_iter()
        .map(|c| c.value)
        .collect();
    let exercise: Vec<_> = s
        .list_exercise(patient, Some(t.start_date), Some(until))
        .await?
        .into_iter()
        .map(|x| x.value)
        .collect();
    let records = day_records(t.start_date, until, &episodes, &checkins, &exercise);
    let side_effects: Vec<_> = s
        .list_side_effects(patient, Some(t.start_date), Some(until))
        .await?
        .into_iter()
        .map(|x| x.value)
        .collect();
    let harms = trial_harms(&design.arms, &cal, t.start_date, until, &side_effects)?;
    let options = AnalysisOptions {
        time_trend,
        ..AnalysisOptions::default()
    };
    let events: Vec<_> = s
        .list_events(patient, None, Some(until))
        .await?
        .into_iter()
        .map(|e| e.value)
        .collect();
    let exclusions = exclusions(&events, &design.arms, &cal, t.start_date, until)?;
    let outcomes: Vec<OutcomeResult> = analyse_trial_outcomes_excluding(&design, &records, &options, &exclusions.spans)
        .into_iter()
        .map(|(o, r)| OutcomeResult {
            outcome: outcome_code(o),
            label: o.label(),
            primary: o == design.primary_outcome,
            not_analysed: r.as_ref().err().map(|e| e.to_string()),
            analysis: r.ok(),
        })
        .collect();

    let regimens = s.list_regimens(patient).await?;
    let doses = s.list_doses(patient, Some(t.start_date), Some(until)).await?;
    let arms = arms_of(t, &design);
    let adherence = adherence::adherence(&design, &arms, &cal, t.start_date, until, &regimens, &doses)?;
    let concomitant: Vec<String> = regimens
        .iter()
        .filter(|r| !arms.iter().any(|a| a.contains(&r.treatment_name)))
        .filter(|r| r.value.start() <= until && r.value.end().is_none_or(|e| e >= t.start_date))
        .map(|r| {
            format!(
                "{} {} ({} → {})",
                r.treatment_name,
                r.value.dose().map_or(String::new(), |d| d.to_string()),
                r.value.start(),
                r.value.end().map_or("ongoing".to_string(), |e| e.to_string())
            )
        })
        .collect();
    let provenance = provenance(t, &patient.zone);
    let look = Look::at(&cal, u32::try_from((until - t.start_date).get_days()).ok());
    let plans = plans_for_dates(&s.list_trial_plans(patient).await?, t)?;
    let rep = TrialReport {
        trial: t,
        design,
        pre_specified: provenance.is_none(),
        provenance,
        plans,
        notice: NOTICE,
        data_until: until,
        complete: until >= end,
        look,
        monitoring_rule: (!look.is_final()).then(|| rule_text(options.level)),
        arm_components: arms,
        adherence,
        concomitant_treatments: concomitant,
        outcomes,
        exclusions,
        harms,
    };
    Ok((rep, cal))
}

/// One saved plan, as the report lists it.
#[derive(Serialize)]
pub struct PlanLine {
    pub trial_id: i64,
    pub name: String,
    pub planned_at: Timestamp,
    pub start_date: Date,
    pub seed: Option<u64>,
    /// The arm of each period, in order.
    pub order: Vec<String>,
    pub deleted_at: Option<Timestamp>,
    /// The plan of the trial being reported.
    pub this_trial: bool,
}

impl PlanLine {
    /// One sentence for reports.
    pub fn text(&self) -> String {
        let status = if self.this_trial {
            "this trial".to_string()
        } else if let Some(d) = self.deleted_at {
            format!("trial #{} {:?}, deleted on {}", self.trial_id, self.name, d)
        } else {
            format!("trial #{} {:?}", self.trial_id, self.name)
        };
        format!(
            "saved {}, from {}, seed {}, order {} ({status})",
            self.planned_at,
            self.start_date,
            self.seed.map_or("unknown".to_string(), |s| s.to_string()),
            self.order.join(" → ")
        )
    }
}

/// The first and last day a stored design covers (its start only, if it cannot be read).
fn span(start: Date, design: &serde_json::Value) -> Result<(Date, Date, Option<TrialDesign>), TrialError> {
    let Ok(d) = serde_json::from_value::<TrialDesign>(design.clone()) else {
        return Ok((start, start, None));
    };
    let Ok(cal) = d.calendar() else {
        return Ok((start, start, None));
    };
    Ok((start, day(start, cal.total_days.saturating_sub(1))?, Some(d)))
}

/// The plans whose dates overlap `t`'s, oldest first.
pub fn plans_for_dates(all: &[TrialPlanRecord], t: &StoredTrial) -> Result<Vec<PlanLine>, TrialError> {
    let (from, to, _) = span(t.start_date, &t.design)?;
    let mut out = Vec::new();
    for p in all {
        let (a, b, design) = span(p.start_date, &p.design)?;
        if a > to || b < from {
            continue;
        }
        let order = match &design {
            Some(d) => d
                .calendar()
                .map(|c| c.periods.iter().map(|q| d.arms[q.arm].clone()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        out.push(PlanLine {
            trial_id: p.trial_id,
            name: p.name.clone(),
            planned_at: p.planned_at,
            start_date: p.start_date,
            seed: design.as_ref().map(|d| d.seed),
            order,
            deleted_at: p.deleted_at,
            this_trial: p.trial_id == t.id && p.deleted_at.is_none(),
        });
    }
    Ok(out)
}

/// One line per outcome and comparison, for the clinician report.
pub fn summary_lines(rep: &TrialReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(rule) = &rep.monitoring_rule {
        lines.push(format!("This is an {}. {rule}", rep.look.text()));
    }
    let mut outcomes: Vec<&OutcomeResult> = rep.outcomes.iter().collect();
    outcomes.sort_by_key(|o| !o.primary);
    for o in outcomes {
        let tag = if o.primary { " (primary)" } else { "" };
        match &o.analysis {
            None => lines.push(format!("{}{tag}: not enough data yet", o.label)),
            Some(a) => {
                for c in &a.comparisons {
                    let p = &c.posterior;
                    let effect = match c.scale {
                        EffectScale::RateRatio => format!(
                            "rate ratio {:.2} (95 % interval {:.2} to {:.2})",
                            p.median, p.low, p.high
                        ),
                        EffectScale::MeanDifference => format!(
                            "mean difference {:+.2} (95 % interval {:+.2} to {:+.2})",
                            p.median, p.low, p.high
                        ),
                    };
                    let verdict = c.verdict_label();
                    // Only where the probability rule allows (stated at the end).
                    let probabilities = if c.probabilities_shown {
                        let t = rep.design.success_threshold * 100.0;
                        format!(
                            "; chance of a fall ≥ {t:.0} % {}, of any fall {}, of a rise ≥ {t:.0} % {}",
                            percent(p.prob_fall_threshold),
                            percent(p.prob_any_fall),
                            percent(p.prob_rise_threshold)
                        )
                    } else {
                        String::new()
                    };
                    lines.push(format!(
                        "{}{tag}: {} vs {}: {effect}{probabilities}; {} days analysed — {verdict}",
                        o.label, c.arm, c.reference, a.days_used
                    ));
                }
            }
        }
    }
    lines.extend(check_lines(rep));
    lines.extend(rep.exclusions.lines());
    if let Some(a) = rep.outcomes.iter().find_map(|o| o.analysis.as_ref()) {
        lines.push(a.probability_rule.clone());
    }
    if rep.plans.len() > 1 {
        let each: Vec<String> = rep.plans.iter().map(PlanLine::text).collect();
        lines.push(format!(
            "Re-planned: {} plans were saved for these dates: {}.",
            rep.plans.len(),
            each.join("; ")
        ));
    }
    let mut priors: Vec<&str> = rep
        .outcomes
        .iter()
        .filter_map(|o| o.analysis.as_ref().map(|a| a.prior.as_str()))
        .collect();
    priors.sort_unstable();
    priors.dedup();
    lines.extend(priors.into_iter().map(String::from));
    lines
}

/// Trials that ran during `from..=to` and have started, summarised for the clinician report.
pub async fn summaries(
    store: &Store,
    patient: &Patient,
    from: Date,
    to: Date,
    now: Timestamp,
) -> Result<Vec<TrialSummary>, TrialError> {
    let today = tonus_domain::time::today(&patient.zone, now);
    let mut out = Vec::new();
    for t in store.list_trials(patient).await? {
        let design = design_of(&t)?;
        let Ok(cal) = design.calendar() else { continue };
        let end = day(t.start_date, cal.total_days.saturating_sub(1))?;
        if t.start_date > today || t.start_date > to || end < from {
            continue;
        }
        let (rep, _) = compute(store, patient, &t, now, false).await?;
        let cent = cent::cent_items(&rep, &cal)?;
        out.push(TrialSummary {
            name: t.name.clone(),
            design: format!(
                "{}; {} blocks of {}-day periods, {} washout days; {} to {}{}{}",
                rep.design.arms.join(" vs "),
                rep.design.blocks,
                rep.design.period_days,
                rep.design.washout_days,
                t.start_date,
                rep.data_until,
                if rep.complete {
                    String::new()
                } else {
                    format!(" ({})", rep.look.text())
                },
                rep.provenance.map_or(String::new(), |p| format!(" — {p}"))
            ),
            lines: summary_lines(&rep),
            adherence: rep.adherence.iter().map(Adherence::text).collect(),
            harms: rep.harms.lines(),
            cent,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "trials_tests.rs"]
mod tests;
