//! The trial report as text, in the CENT 2015 order, and the per-comparison lines shared
//! with `tonus analyse compare`.

use anyhow::Result;
use tonus_report::trials::TrialReport;
use tonus_stats::analysis::{EffectScale, OutcomeAnalysis};
use tonus_stats::design::Calendar;
use tonus_stats::verdict::percent;

pub(super) fn effect_line(a: &OutcomeAnalysis) -> Vec<String> {
    a.comparisons
        .iter()
        .map(|c| {
            let p = &c.posterior;
            let effect = match c.scale {
                EffectScale::RateRatio => format!(
                    "rate ratio {:.2} (95 % interval {:.2} to {:.2})",
                    p.median, p.low, p.high
                ),
                EffectScale::MeanDifference => format!(
                    "mean difference {:+.2} (95 % interval {:+.2} to {:+.2}){}",
                    p.median,
                    p.low,
                    p.high,
                    c.responder_share.map_or(String::new(), |r| format!(
                        ", {:.0} % of days ≥30 % below baseline",
                        r * 100.0
                    ))
                ),
            };
            // The probabilities stay out where the rule says they would mislead.
            let probabilities = if c.probabilities_shown {
                format!(
                    "; P(fall ≥ threshold) {}, P(any fall) {}, P(rise ≥ threshold) {}",
                    percent(p.prob_fall_threshold),
                    percent(p.prob_any_fall),
                    percent(p.prob_rise_threshold)
                )
            } else {
                String::new()
            };
            format!(
                "    {} vs {}: {effect}{probabilities}\n      verdict: {}\n      {}",
                c.arm,
                c.reference,
                c.verdict_label().to_uppercase(),
                c.text
            )
        })
        .collect()
}

/// How the outcome's days were used: days still to come and confirmed days without episodes
/// (for episode pain) are named apart, never counted as missing.
pub(super) fn day_counts(a: &OutcomeAnalysis) -> String {
    let mut parts = vec![
        format!("{} days analysed", a.days_used),
        format!("{} missing (not confirmed, or not answered)", a.days_missing),
    ];
    if a.days_without_episodes > 0 {
        parts.push(format!(
            "{} confirmed days without episodes (no pain to rate)",
            a.days_without_episodes
        ));
    }
    if a.days_washout > 0 {
        parts.push(format!("{} washout", a.days_washout));
    }
    if a.days_excluded > 0 {
        parts.push(format!("{} left out (recorded relapse or infection)", a.days_excluded));
    }
    if a.days_to_come > 0 {
        parts.push(format!("{} still to come", a.days_to_come));
    }
    parts.join(", ")
}

/// CENT item 19: side effects the patient recorded, per arm and per period. Counts only: the
/// patient's suspicion of a cause is in the side-effect log, not a finding of the trial.
fn print_harms(h: &tonus_report::harms::TrialHarms) {
    if h.total == 0 {
        println!("9. Harms: {}.", tonus_report::harms::NONE_DURING_TRIAL);
        return;
    }
    println!("9. Harms: side effects recorded by the patient (counts only, not causes):");
    for a in &h.arms {
        println!(
            "    {:<20} {}",
            format!("{}:", a.arm),
            tonus_report::harms::counts_text(&a.effects, "none recorded")
        );
    }
    if !h.washout.is_empty() {
        println!(
            "    washout days (possibly carried over from the previous arm): {}",
            tonus_report::harms::counts_text(&h.washout, "")
        );
    }
    if !h.run_in.is_empty() {
        println!("    run-in: {}", tonus_report::harms::counts_text(&h.run_in, ""));
    }
    println!("   per period:");
    for p in &h.periods {
        println!("    {}", p.text());
    }
}

pub(super) fn print_report(r: &TrialReport, cal: &Calendar) -> Result<()> {
    let d = &r.design;
    let t = r.trial;
    println!(
        "PERSONAL (N-OF-1) TRIAL REPORT — #{} {:?}{}",
        t.id,
        t.name,
        r.provenance.map_or(String::new(), |p| format!(" — {p}"))
    );
    println!("{}\n", r.notice);
    println!(
        "1. Objective: compare {} for this patient, per spasm family and score.",
        d.arms.join(" vs ")
    );
    println!(
        "2. Design: open-label, randomised multiple crossover. Run-in {} days; {} block(s) of {} periods of {} days; the first {} days of each period are washout (not analysed).",
        d.baseline_days,
        d.blocks,
        d.arms.len(),
        d.period_days,
        d.washout_days
    );
    let order: Vec<String> = cal.periods.iter().map(|p| d.arms[p.arm].clone()).collect();
    println!(
        "3. Randomisation: order within each block drawn with seed {} (ChaCha8, reproducible): {}.",
        d.seed,
        order.join(" → ")
    );
    if r.plans.len() > 1 {
        println!(
            "   Re-planned: {} plans were saved for these dates (every one is listed):",
            r.plans.len()
        );
        for p in &r.plans {
            println!("     {}", p.text());
        }
    } else {
        println!("   One plan was saved for these dates: this one.");
    }
    if r.pre_specified {
        println!(
            "4. Pre-specified: primary outcome {}; a fall of {:.0} % or more is meaningful.",
            d.primary_outcome.label(),
            d.success_threshold * 100.0
        );
    } else {
        println!(
            "4. Not pre-specified: the plan was saved on {}, after the trial's first day {}, so the order, the primary outcome ({}) and the {:.0} % threshold may have been chosen knowing some of the data.",
            t.planned_at, t.start_date,
            d.primary_outcome.label(),
            d.success_threshold * 100.0
        );
    }
    println!(
        "5. Data: {} → {} ({}).",
        t.start_date,
        r.data_until,
        if r.complete {
            "trial complete".to_string()
        } else {
            format!("trial still running: {}", r.look.text())
        }
    );
    if let Some(rule) = &r.monitoring_rule {
        println!("   {rule}");
    }
    println!(
        "6. Adherence (doses logged against each treatment's schedule; \"other\": doses of the trial's treatments this period's arm leaves out):"
    );
    for a in &r.adherence {
        println!("    {}", a.text());
    }
    if r.concomitant_treatments.is_empty() {
        println!("7. Other treatments active during the trial: none recorded.");
    } else {
        println!("7. Other treatments active during the trial (they may affect every arm):");
        for c in &r.concomitant_treatments {
            println!("    {c}");
        }
    }
    println!("8. Results per outcome (only confirmed, non-washout days):");
    if let Some(a) = r.outcomes.iter().find_map(|o| o.analysis.as_ref()) {
        println!("  {}", a.probability_rule);
    }
    for (i, o) in r.outcomes.iter().enumerate() {
        // Each prior once: counts share one, scores another.
        let Some(a) = &o.analysis else { continue };
        let seen = r.outcomes[..i]
            .iter()
            .any(|x| x.analysis.as_ref().is_some_and(|b| b.prior == a.prior));
        if !seen {
            println!("  {}", a.prior);
        }
    }
    for o in &r.outcomes {
        let tag = if o.primary { " [primary]" } else { "" };
        match (&o.analysis, &o.not_analysed) {
            (Some(a), _) => {
                println!("  {}{tag}: {}. Method: {}", o.label, day_counts(a), a.method);
                let per_period: Vec<String> = a
                    .periods
                    .iter()
                    .map(|p| {
                        format!(
                            "{}:{}={}",
                            p.index + 1,
                            p.arm,
                            p.mean.map_or("–".to_string(), |m| format!("{m:.2}"))
                        )
                    })
                    .collect();
                println!("    per period: {}", per_period.join("  "));
                for l in effect_line(a) {
                    println!("{l}");
                }
            }
            (None, why) => println!(
                "  {}{tag}: not enough data yet ({}).",
                o.label,
                why.as_deref().unwrap_or("no analysable days")
            ),
        }
    }
    println!("   Checks (carry-over: the first analysed days of each period against the rest; trend: a steady change over the trial):");
    for l in tonus_report::trials::check_lines(r) {
        println!("    {l}");
    }
    println!("   Disturbed days:");
    for l in r.exclusions.lines() {
        println!("    {l}");
    }
    print_harms(&r.harms);
    println!("10. {}", tonus_report::trials::cent::LIMITATIONS);
    Ok(())
}
