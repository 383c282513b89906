//! The daily series every analysis works on: one plain record per local calendar day.
//! Callers build it from stored records (or from the simulator); analyses use only
//! confirmed days ("missing is not zero").

use serde::{Deserialize, Serialize};

use crate::design::Outcome;
use crate::sim::{Family, SimPatient};

/// One day of a patient's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayRecord {
    /// Day number (e.g. days since the trial's first run-in day).
    pub day: u32,
    /// The patient confirmed the day's log is complete.
    pub confirmed: bool,
    pub involuntary_count: u32,
    pub stiffness_count: u32,
    /// Mean pain of the day's episodes that had a pain rating.
    pub mean_episode_pain: Option<f64>,
    pub spasticity_nrs: Option<f64>,
    pub pain_nrs: Option<f64>,
    pub night_wakings: Option<f64>,
    /// Exercise load of the day: Σ minutes × exertion (0 when none).
    pub exercise_load: f64,
}

impl DayRecord {
    /// The outcome's value, or `None` when the day is unconfirmed or the value is absent.
    pub fn value(&self, outcome: Outcome) -> Option<f64> {
        if !self.confirmed {
            return None;
        }
        match outcome {
            Outcome::InvoluntaryCount => Some(f64::from(self.involuntary_count)),
            Outcome::StiffnessCount => Some(f64::from(self.stiffness_count)),
            Outcome::EpisodePain => self.mean_episode_pain,
            Outcome::SpasticityNrs => self.spasticity_nrs,
            Outcome::PainNrs => self.pain_nrs,
            Outcome::NightWakings => self.night_wakings,
        }
        .filter(|v| v.is_finite())
    }
}

/// The daily series of a simulated patient.
pub fn records_from_sim(patient: &SimPatient) -> Vec<DayRecord> {
    patient
        .days
        .iter()
        .map(|d| {
            let pain: Vec<f64> = d.episodes.iter().map(|e| f64::from(e.pain)).collect();
            DayRecord {
                day: d.day,
                confirmed: d.confirmed,
                involuntary_count: d.count(Family::InvoluntaryMovement),
                stiffness_count: d.count(Family::Stiffness),
                mean_episode_pain: (!pain.is_empty()).then(|| pain.iter().sum::<f64>() / pain.len() as f64),
                spasticity_nrs: d.checkin.as_ref().map(|c| f64::from(c.spasticity_nrs)),
                pain_nrs: d.checkin.as_ref().map(|c| f64::from(c.pain_nrs)),
                night_wakings: d.checkin.as_ref().map(|c| f64::from(c.night_wakings)),
                exercise_load: d.exercise.as_ref().map_or(0.0, |e| e.load()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{simulate, SimConfig};

    #[test]
    fn unconfirmed_days_have_no_values() {
        let p = simulate(&SimConfig {
            p_missing_checkin: 0.5,
            ..SimConfig::default()
        });
        let r = records_from_sim(&p);
        assert_eq!(r.len(), p.days.len());
        for d in r.iter().filter(|d| !d.confirmed) {
            assert!(Outcome::ALL.iter().all(|o| d.value(*o).is_none()));
        }
        assert!(r.iter().any(|d| d.value(Outcome::SpasticityNrs).is_some()));
    }
}
