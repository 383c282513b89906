//! Simulating a patient who follows a trial calendar, for calibration and demos: each arm
//! gets a true effect, and the periods become [`SimTreatment`]s (with onset and carry-over).

use serde::{Deserialize, Serialize};

use crate::design::{Calendar, TrialDesign};
use crate::error::{Result, StatsError};
use crate::sim::{simulate, SimConfig, SimPatient, SimTreatment};

/// The true effect of one arm relative to no treatment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArmEffect {
    pub rate_ratio_involuntary: f64,
    pub rate_ratio_stiffness: f64,
    pub onset_days: u32,
    pub washout_half_life_days: f64,
}

impl ArmEffect {
    /// No effect at all (e.g. the "none" arm).
    pub const NONE: ArmEffect = ArmEffect {
        rate_ratio_involuntary: 1.0,
        rate_ratio_stiffness: 1.0,
        onset_days: 0,
        washout_half_life_days: 0.0,
    };

    /// Same rate ratio for both families, immediate onset, no carry-over.
    pub fn immediate(rate_ratio: f64) -> Self {
        Self {
            rate_ratio_involuntary: rate_ratio,
            rate_ratio_stiffness: rate_ratio,
            ..Self::NONE
        }
    }
}

/// Treatments implied by a calendar: consecutive periods of the same arm are merged so the
/// onset ramp does not restart at a period boundary.
pub fn treatments_for_calendar(
    design: &TrialDesign,
    calendar: &Calendar,
    effects: &[ArmEffect],
) -> Result<Vec<SimTreatment>> {
    if effects.len() != design.arms.len() {
        return Err(StatsError::InvalidData(format!(
            "{} arm effects for {} arms",
            effects.len(),
            design.arms.len()
        )));
    }
    let mut out: Vec<(usize, SimTreatment)> = Vec::new();
    for p in &calendar.periods {
        if let Some((arm, last)) = out.last_mut() {
            if *arm == p.arm && last.end_day == Some(p.days.start) {
                last.end_day = Some(p.days.end);
                continue;
            }
        }
        let e = effects[p.arm];
        out.push((
            p.arm,
            SimTreatment {
                name: design.arms[p.arm].clone(),
                start_day: p.days.start,
                end_day: Some(p.days.end),
                rate_ratio_involuntary: e.rate_ratio_involuntary,
                rate_ratio_stiffness: e.rate_ratio_stiffness,
                onset_days: e.onset_days,
                washout_half_life_days: e.washout_half_life_days,
            },
        ));
    }
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

/// Simulates the whole trial (run-in plus periods) on top of `base` (its background
/// treatments are kept; `days` is set to the trial length).
pub fn simulate_trial(base: &SimConfig, design: &TrialDesign, effects: &[ArmEffect]) -> Result<(Calendar, SimPatient)> {
    let calendar = design.calendar()?;
    let mut config = base.clone();
    config.days = calendar.total_days;
    config
        .treatments
        .extend(treatments_for_calendar(design, &calendar, effects)?);
    let patient = simulate(&config);
    Ok((calendar, patient))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Family;

    #[test]
    fn strong_treatment_shows_in_true_rates() {
        let design = TrialDesign::new(vec!["none".into(), "drug".into()], 3);
        let (cal, p) = simulate_trial(
            &SimConfig::quiet(0, 5),
            &design,
            &[ArmEffect::NONE, ArmEffect::immediate(0.5)],
        )
        .unwrap();
        assert_eq!(p.days.len() as u32, cal.total_days);
        for per in &cal.periods {
            for d in per.analysed.clone() {
                let day = &p.days[d as usize];
                assert!(day.true_rate_involuntary > 0.0);
            }
        }
        let mean = |arm: usize| {
            let v: Vec<f64> = cal
                .periods
                .iter()
                .filter(|q| q.arm == arm)
                .flat_map(|q| q.analysed.clone())
                .map(|d| f64::from(p.days[d as usize].count(Family::InvoluntaryMovement)))
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean(1) < mean(0));
    }

    #[test]
    fn adjacent_same_arm_periods_merge() {
        let design = TrialDesign {
            blocks: 6,
            ..TrialDesign::new(vec!["none".into(), "drug".into()], 11)
        };
        let cal = design.calendar().unwrap();
        let t = treatments_for_calendar(&design, &cal, &[ArmEffect::NONE, ArmEffect::immediate(0.5)]).unwrap();
        assert!(t.len() < cal.periods.len());
        assert!(t.windows(2).all(|w| w[0].end_day == Some(w[1].start_day)));
    }
}
