//! Pooled trial results over several patients (clinician web view and `tonus trial pooled`):
//! each patient's latest analysable trial of the same comparison (same reference and arm by
//! treatment name, same primary outcome) is reduced to its estimate and standard error on the
//! model scale (the SE implied by the trial's own 95 % interval), and those are pooled by
//! [`tonus_stats::pooled`]. Callers decide which
//! patients are included (the web passes only patients with live consent) and audit reads.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use tonus_domain::Patient;
use tonus_stats::analysis::EffectScale;
use tonus_stats::pooled::{pool, Interval, Pooled, Study, MIN_PATIENTS};
use tonus_store::Store;

use crate::trials::{compute, provenance, TrialError, NONE_ARM};

/// Shown with every pooled result.
pub const POOLED_NOTICE: &str = "Pooled from patients' own self-reported, unblinded trials. \
The average describes these patients, not a proven effect; the range for a new patient may be \
too narrow when few patients are pooled. Not medical advice.";

/// The normal 97.5 % quantile: turns a trial's 95 % interval back into a standard error.
const Z_95: f64 = 1.959_963_984_540_054;

/// The comparison a group of trials shares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Key {
    pub reference: String,
    pub arm: String,
    /// Outcome code, e.g. `involuntary-count`.
    pub outcome: String,
}

/// One patient's contribution.
#[derive(Debug, Clone, Serialize)]
pub struct PatientResult {
    pub patient_id: i64,
    pub handle: String,
    pub trial_id: i64,
    pub trial_name: String,
    pub complete: bool,
    pub provenance: Option<&'static str>,
    /// Model scale (log rate ratio or mean difference).
    pub estimate: f64,
    /// The standard error pooled: the one the trial's 95 % interval implies (half its width
    /// over 1.96), never below the robust SE itself.
    pub se: f64,
    /// The trial's own confidence interval, as its report gives it (model scale).
    pub own_low: f64,
    pub own_high: f64,
    /// Filled in when the comparison could be pooled.
    pub shrunken: Option<Interval>,
}

/// One comparison across patients.
#[derive(Debug, Clone, Serialize)]
pub struct PooledComparison {
    pub key: Key,
    pub outcome_label: String,
    pub scale: EffectScale,
    pub patients: Vec<PatientResult>,
    pub pooled: Option<Pooled>,
    /// Why there is no pooled estimate, in words.
    pub not_pooled: Option<String>,
}

/// The same arm label: equal ignoring case, or the same set of treatments in another order
/// ("Stretching + Baclofen" is the trial arm "Baclofen + Stretching").
fn same(a: &str, b: &str) -> bool {
    use tonus_domain::arm::Arm;
    a.trim().eq_ignore_ascii_case(b.trim())
        || matches!((Arm::parse("arm", a), Arm::parse("arm", b)), (Ok(x), Ok(y)) if x.same_set(&y))
}

/// Every comparison found in the patients' trials (latest analysable trial per patient and
/// comparison), pooled where at least [`MIN_PATIENTS`] patients contribute. With `only`,
/// just that comparison (listed even when no patient has it).
pub async fn pooled_comparisons(
    store: &Store,
    patients: &[Patient],
    now: Timestamp,
    only: Option<&Key>,
) -> Result<Vec<PooledComparison>, TrialError> {
    let mut groups: BTreeMap<Key, (String, EffectScale, BTreeMap<i64, PatientResult>)> = BTreeMap::new();
    for patient in patients {
        for t in store.list_trials(patient).await? {
            let (rep, _) = match compute(store, patient, &t, now, false).await {
                Ok(r) => r,
                // Not started yet, or an unusable design: nothing to pool from it.
                Err(TrialError::NotStarted(_)) | Err(TrialError::Stats(_)) => continue,
                Err(e) => return Err(e),
            };
            let Some(primary) = rep.outcomes.iter().find(|o| o.primary) else {
                continue;
            };
            let Some(analysis) = &primary.analysis else { continue };
            for c in &analysis.comparisons {
                let model = |x: f64| match c.scale {
                    EffectScale::RateRatio => x.ln(),
                    EffectScale::MeanDifference => x,
                };
                let (y, low, high) = (model(c.estimate), model(c.ci_low), model(c.ci_high));
                // The trial's interval uses a t or fixed-b critical value wider than 1.96 when
                // its robust SE rests on few periods; pooling with the SE that interval implies
                // keeps that caution instead of treating the trial as more precise than its
                // own report says.
                let se = ((high - low) / (2.0 * Z_95)).max(c.se);
                if !y.is_finite() || !se.is_finite() || se <= 0.0 {
                    continue;
                }
                // A trial may list the pair the other way round: the effect then flips sign.
                let planned = (c.reference.clone(), c.arm.clone(), y, low, high);
                let flipped = (c.arm.clone(), c.reference.clone(), -y, -high, -low);
                let candidates = if only.is_some() {
                    vec![planned, flipped]
                } else if same(&c.arm, NONE_ARM) {
                    // "none" is always the reference in the unfiltered list, so a trial
                    // planned the other way round joins the same comparison.
                    vec![flipped]
                } else {
                    vec![planned]
                };
                for (reference, arm, y, own_low, own_high) in candidates {
                    let key = Key {
                        reference,
                        arm,
                        outcome: primary.outcome.clone(),
                    };
                    let key = match only {
                        Some(k)
                            if same(&k.reference, &key.reference)
                                && same(&k.arm, &key.arm)
                                && k.outcome == key.outcome =>
                        {
                            k.clone()
                        }
                        Some(_) => continue,
                        None => key,
                    };
                    let entry = groups
                        .entry(key)
                        .or_insert_with(|| (primary.label.to_string(), c.scale, BTreeMap::new()));
                    let result = PatientResult {
                        patient_id: patient.id,
                        handle: patient.handle.clone(),
                        trial_id: t.id,
                        trial_name: t.name.clone(),
                        complete: rep.complete,
                        provenance: provenance(&t, &patient.zone),
                        estimate: y,
                        se,
                        own_low,
                        own_high,
                        shrunken: None,
                    };
                    // The latest trial per patient: one patient must not count twice.
                    let keep = entry.2.get(&patient.id).is_none_or(|old| old.trial_id < t.id);
                    if keep {
                        entry.2.insert(patient.id, result);
                    }
                }
            }
        }
    }
    if let Some(k) = only {
        groups
            .entry(k.clone())
            .or_insert_with(|| (k.outcome.clone(), EffectScale::RateRatio, BTreeMap::new()));
    }
    let mut out = Vec::new();
    for (key, (outcome_label, scale, by_patient)) in groups {
        let mut patients: Vec<PatientResult> = by_patient.into_values().collect();
        let studies: Vec<Study> = patients
            .iter()
            .map(|p| Study {
                estimate: p.estimate,
                se: p.se,
            })
            .collect();
        let (pooled, not_pooled) = if patients.len() < MIN_PATIENTS {
            (
                None,
                Some(format!(
                    "A pooled estimate cannot be given: it needs trials from at least {MIN_PATIENTS} patients, \
                     and {} {} this comparison.",
                    patients.len(),
                    if patients.len() == 1 {
                        "patient has"
                    } else {
                        "patients have"
                    }
                )),
            )
        } else {
            match pool(&studies, 0.95) {
                Ok(p) => (Some(p), None),
                Err(e) => (None, Some(format!("A pooled estimate cannot be given: {e}."))),
            }
        };
        if let Some(p) = &pooled {
            for (r, s) in patients.iter_mut().zip(&p.shrunken) {
                r.shrunken = Some(*s);
            }
        }
        out.push(PooledComparison {
            key,
            outcome_label,
            scale,
            patients,
            pooled,
            not_pooled,
        });
    }
    Ok(out)
}

impl PooledComparison {
    /// "Baclofen vs none, involuntary-movement episodes per day".
    pub fn title(&self) -> String {
        format!("{} vs {}, {}", self.key.arm, self.key.reference, self.outcome_label)
    }

    /// A model-scale value in the reported scale's words.
    pub fn value(&self, x: f64) -> String {
        match self.scale {
            // Beyond these, two decimals would print "0.00" or a meaningless large number:
            // with few patients the prediction interval can be that wide.
            EffectScale::RateRatio if x.exp() < 0.01 => "below 0.01".to_string(),
            EffectScale::RateRatio if x.exp() > 100.0 => "above 100".to_string(),
            EffectScale::RateRatio => format!("{:.2}", x.exp()),
            EffectScale::MeanDifference => format!("{x:+.2}"),
        }
    }

    fn what(&self) -> &'static str {
        match self.scale {
            EffectScale::RateRatio => "rate ratio (below 1: fewer episodes)",
            EffectScale::MeanDifference => "difference in points (below 0: lower)",
        }
    }

    /// One line per patient: own estimate, and the shrunken one when pooled.
    pub fn patient_lines(&self) -> Vec<String> {
        self.patients
            .iter()
            .map(|p| {
                let own = format!(
                    "{} (trial {:?}{}{}): own trial {} (95 % interval {} to {})",
                    p.handle,
                    p.trial_name,
                    if p.complete { "" } else { ", not finished" },
                    p.provenance.map_or(String::new(), |x| format!(", {x}")),
                    self.value(p.estimate),
                    self.value(p.own_low),
                    self.value(p.own_high),
                );
                match &p.shrunken {
                    Some(s) => format!(
                        "{own}; with the other patients taken into account {} ({} to {})",
                        self.value(s.estimate),
                        self.value(s.low),
                        self.value(s.high)
                    ),
                    None => own,
                }
            })
            .collect()
    }

    /// The pooled result in plain words (or why there is none).
    pub fn summary_lines(&self) -> Vec<String> {
        let Some(p) = &self.pooled else {
            return self.not_pooled.iter().cloned().collect();
        };
        let pct = (p.level * 100.0).round();
        vec![
            format!("Scale: {}. {} patients pooled.", self.what(), p.k),
            format!(
                "Average effect: {} ({pct} % interval {} to {}; Hartung–Knapp).",
                self.value(p.mean.estimate),
                self.value(p.mean.low),
                self.value(p.mean.high)
            ),
            format!(
                "How much patients differ (tau, {} scale): {:.2} ({pct} % interval {:.2} to {:.2}; {}).",
                match self.scale {
                    EffectScale::RateRatio => "log",
                    EffectScale::MeanDifference => "points",
                },
                p.tau,
                p.tau_low,
                p.tau_high,
                p.tau_method.label()
            ),
            match self.scale {
                EffectScale::RateRatio => format!(
                    "So a typical patient's rate ratio is the average multiplied or divided by about {:.2}.",
                    p.tau.exp()
                ),
                EffectScale::MeanDifference => format!(
                    "So a typical patient's difference is the average plus or minus about {:.2} points.",
                    p.tau
                ),
            },
            format!(
                "A new patient's effect is expected between {} and {} ({pct} % prediction interval).",
                self.value(p.prediction_low),
                self.value(p.prediction_high)
            ),
        ]
    }
}
