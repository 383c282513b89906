//! The trial page's CENT 2015 items beside the analysis: how the order was allocated,
//! whether the plan came before the data, results per period, other treatments, and the
//! limitations. The CLI report and the PDF print the same sentences.

use serde::Serialize;
use tonus_stats::design::Calendar;

use super::{day, TrialError, TrialReport};

/// CENT 2015 item 20, for every personal trial Tonus analyses.
pub const LIMITATIONS: &str = "Limitations: self-reported, unblinded; carry-over beyond the washout and other \
treatments can bias results; the result describes this patient over these periods only.";

#[derive(Debug, Clone, Serialize)]
pub struct CentItems {
    /// Items 8–10: the random sequence, period by period, with dates.
    pub allocation: String,
    pub periods: Vec<String>,
    /// Item 6a/24: pre-specified or not, and every plan saved for the dates.
    pub specification: String,
    /// Item 17a: each outcome's mean per period.
    pub per_period: Vec<String>,
    pub concomitant: Vec<String>,
    pub limitations: &'static str,
}

/// Whether outcome and threshold were fixed before the data existed.
pub fn specification(rep: &TrialReport) -> String {
    let d = &rep.design;
    let plans = if rep.plans.len() > 1 {
        format!(
            " {} plans were saved for these dates; every one is listed below.",
            rep.plans.len()
        )
    } else {
        " One plan was saved for these dates: this one.".to_string()
    };
    if rep.pre_specified {
        format!(
            "Pre-specified: primary outcome {}; a fall of {:.0} % or more is meaningful.{plans}",
            d.primary_outcome.label(),
            d.success_threshold * 100.0
        )
    } else {
        format!(
            "Planned after the trial started: not pre-specified. The plan was saved on {}, after the trial's first day {}, so the order, the primary outcome ({}) and the {:.0} % threshold may have been chosen knowing some of the data.{plans}",
            rep.trial.planned_at.strftime("%Y-%m-%d %H:%M UTC"),
            rep.trial.start_date,
            d.primary_outcome.label(),
            d.success_threshold * 100.0
        )
    }
}

pub fn cent_items(rep: &TrialReport, cal: &Calendar) -> Result<CentItems, TrialError> {
    let d = &rep.design;
    let start = rep.trial.start_date;
    let mut periods = Vec::new();
    for p in &cal.periods {
        let first = day(start, p.days.start)?;
        let last = day(start, p.days.end.saturating_sub(1))?;
        let arm = d.arms.get(p.arm).map_or("?", String::as_str);
        let washout = if p.washout.is_empty() {
            String::new()
        } else {
            format!(", washout to {}", day(start, p.washout.end.saturating_sub(1))?)
        };
        periods.push(format!(
            "Period {} (block {}): {arm}, {first} to {last}{washout}",
            p.index + 1,
            p.block + 1
        ));
    }
    let allocation = format!(
        "Open-label randomised multiple crossover: run-in {} days, then {} block(s) of {} periods of {} days; the order within each block was drawn with seed {} (ChaCha8, reproducible).",
        d.baseline_days,
        d.blocks,
        d.arms.len(),
        d.period_days,
        d.seed
    );
    let per_period = rep
        .outcomes
        .iter()
        .filter_map(|o| {
            let a = o.analysis.as_ref()?;
            let each: Vec<String> = a
                .periods
                .iter()
                .map(|p| {
                    let mean = p.mean.map_or("–".to_string(), |m| format!("{m:.2}"));
                    format!("{} {} {mean} ({} days)", p.index + 1, p.arm, p.days_analysed)
                })
                .collect();
            Some(format!("{}: {}", o.label, each.join(" · ")))
        })
        .collect();
    Ok(CentItems {
        allocation,
        periods,
        specification: specification(rep),
        per_period,
        concomitant: rep.concomitant_treatments.clone(),
        limitations: LIMITATIONS,
    })
}
