//! n-of-1 trial design: arms, run-in, periods with washout, randomised blocks, and the
//! calendar that says which arm is active on which day and which days are analysed.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};

/// What the trial measures. Lower is better for every outcome here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Daily count of involuntary-movement episodes.
    InvoluntaryCount,
    /// Daily count of stiffness episodes.
    StiffnessCount,
    /// Mean pain (0–10) of the day's episodes (days without episodes have none).
    EpisodePain,
    /// Spasticity NRS 0–10 from the check-in.
    SpasticityNrs,
    /// Pain NRS 0–10 from the check-in.
    PainNrs,
    /// Night wakings from the check-in.
    NightWakings,
}

impl Outcome {
    /// All outcomes, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::InvoluntaryCount,
        Outcome::StiffnessCount,
        Outcome::EpisodePain,
        Outcome::SpasticityNrs,
        Outcome::PainNrs,
        Outcome::NightWakings,
    ];

    /// Counts are analysed as rates (rate ratio); the rest as scores (mean difference).
    pub fn is_count(self) -> bool {
        matches!(self, Outcome::InvoluntaryCount | Outcome::StiffnessCount)
    }

    /// A plain-language name.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::InvoluntaryCount => "involuntary-movement episodes per day",
            Outcome::StiffnessCount => "stiffness episodes per day",
            Outcome::EpisodePain => "average episode pain (0–10)",
            Outcome::SpasticityNrs => "spasticity rating (0–10)",
            Outcome::PainNrs => "pain rating (0–10)",
            Outcome::NightWakings => "night wakings",
        }
    }
}

/// Default fall that counts as meaningful: 30 %, the usual threshold for spasticity NRS.
pub const DEFAULT_SUCCESS_THRESHOLD: f64 = 0.30;

/// A personal trial design. Arm 0 is the reference (e.g. "no treatment" or the current one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialDesign {
    pub arms: Vec<String>,
    /// Run-in days before the first period (not part of the arm comparison; used as the
    /// baseline for the 30 % responder rule).
    pub baseline_days: u32,
    pub period_days: u32,
    /// Days at the start of each period left out of the analysis (carry-over, onset).
    pub washout_days: u32,
    pub blocks: u32,
    /// Seed of the randomised order, recorded so the order can be re-derived and audited.
    pub seed: u64,
    pub primary_outcome: Outcome,
    /// Relative fall that counts as a meaningful improvement (0.30 = 30 %).
    pub success_threshold: f64,
}

/// Longest trial accepted (about ten years), to keep day numbers and loops bounded.
pub const MAX_TRIAL_DAYS: u32 = 3660;

impl TrialDesign {
    /// A design with usual defaults: 14-day run-in, 14-day periods with 4 washout days,
    /// 3 blocks, the involuntary-movement count as primary outcome, 30 % threshold.
    pub fn new(arms: Vec<String>, seed: u64) -> Self {
        Self {
            arms,
            baseline_days: 14,
            period_days: 14,
            washout_days: 4,
            blocks: 3,
            seed,
            primary_outcome: Outcome::InvoluntaryCount,
            success_threshold: DEFAULT_SUCCESS_THRESHOLD,
        }
    }

    /// Checks every rule; the error names the field and the rule broken.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, rule: String| Err(StatsError::InvalidDesign { field, rule });
        if self.arms.len() < 2 {
            return bad("arms", format!("must list at least 2 arms, got {}", self.arms.len()));
        }
        for (i, a) in self.arms.iter().enumerate() {
            if a.trim().is_empty() {
                return bad(
                    "arms",
                    format!(
                        "must have non-empty names, arm {} of {} is empty",
                        i + 1,
                        self.arms.len()
                    ),
                );
            }
            if self.arms[..i].iter().any(|b| b.trim() == a.trim()) {
                return bad("arms", format!("must have distinct names, \"{a}\" repeats"));
            }
        }
        if self.period_days < 2 || self.period_days <= self.washout_days {
            return bad(
                "period_days",
                format!(
                    "must be at least 2 and greater than washout_days, got {}/{}",
                    self.period_days, self.washout_days
                ),
            );
        }
        if self.blocks < 1 {
            return bad("blocks", format!("must be at least 1, got {}", self.blocks));
        }
        if !(self.success_threshold > 0.0 && self.success_threshold < 1.0) {
            return bad(
                "success_threshold",
                format!("must be between 0 and 1 (exclusive), got {}", self.success_threshold),
            );
        }
        // Saturating: blocks and period_days come straight from a form, and their product with
        // the arm count can exceed u64 (a panic in debug builds, a wrapped and possibly small
        // total in release ones, which would let a 4-billion-block calendar through).
        let total = u64::from(self.baseline_days).saturating_add(
            u64::from(self.blocks)
                .saturating_mul(self.arms.len() as u64)
                .saturating_mul(u64::from(self.period_days)),
        );
        if total > u64::from(MAX_TRIAL_DAYS) {
            return bad(
                "blocks",
                format!("make the trial {total} days long, more than the {MAX_TRIAL_DAYS}-day limit"),
            );
        }
        Ok(())
    }

    /// The day-by-day calendar; day 0 is the first run-in day.
    pub fn calendar(&self) -> Result<Calendar> {
        self.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut periods = Vec::new();
        let mut start = self.baseline_days;
        for block in 0..self.blocks {
            let mut order: Vec<usize> = (0..self.arms.len()).collect();
            order.shuffle(&mut rng);
            for arm in order {
                let end = start + self.period_days;
                let washout_end = start + self.washout_days;
                periods.push(Period {
                    index: periods.len() as u32,
                    block,
                    arm,
                    days: start..end,
                    washout: start..washout_end,
                    analysed: washout_end..end,
                });
                start = end;
            }
        }
        Ok(Calendar {
            baseline: 0..self.baseline_days,
            periods,
            total_days: start,
        })
    }
}

/// One treatment period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// 0-based position in the trial.
    pub index: u32,
    pub block: u32,
    /// Index into `TrialDesign::arms`.
    pub arm: usize,
    /// All days of the period.
    pub days: Range<u32>,
    /// The washout at its start (excluded from analysis).
    pub washout: Range<u32>,
    /// The days that count.
    pub analysed: Range<u32>,
}

/// What a given day is in the trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRole {
    Baseline,
    Washout { period: u32, arm: usize },
    Analysed { period: u32, arm: usize },
}

/// The trial's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub baseline: Range<u32>,
    pub periods: Vec<Period>,
    pub total_days: u32,
}

impl Calendar {
    /// The role of `day`, or `None` outside the trial.
    pub fn role(&self, day: u32) -> Option<DayRole> {
        if self.baseline.contains(&day) {
            return Some(DayRole::Baseline);
        }
        let p = self.periods.iter().find(|p| p.days.contains(&day))?;
        Some(if p.washout.contains(&day) {
            DayRole::Washout {
                period: p.index,
                arm: p.arm,
            }
        } else {
            DayRole::Analysed {
                period: p.index,
                arm: p.arm,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design() -> TrialDesign {
        TrialDesign::new(vec!["none".into(), "baclofen".into()], 42)
    }

    #[test]
    fn calendar_has_each_arm_once_per_block() {
        let d = TrialDesign {
            arms: vec!["a".into(), "b".into(), "c".into()],
            blocks: 5,
            ..design()
        };
        let c = d.calendar().unwrap();
        assert_eq!(c.periods.len(), 15);
        for b in 0..5 {
            let mut arms: Vec<usize> = c.periods.iter().filter(|p| p.block == b).map(|p| p.arm).collect();
            arms.sort_unstable();
            assert_eq!(arms, vec![0, 1, 2]);
        }
        assert_eq!(c.total_days, 14 + 15 * 14);
        assert_eq!(c.role(0), Some(DayRole::Baseline));
        let p = &c.periods[0];
        assert_eq!(p.days.start, 14);
        assert!(matches!(c.role(14), Some(DayRole::Washout { period: 0, .. })));
        assert!(matches!(c.role(18), Some(DayRole::Analysed { period: 0, .. })));
        assert_eq!(c.role(c.total_days), None);
        // Recorded seed ⇒ same order; another seed gives some other order eventually.
        assert_eq!(d.calendar().unwrap(), c);
    }

    #[test]
    fn random_valid_designs_give_consistent_calendars() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        for _ in 0..500 {
            let arms = rng.gen_range(2..5usize);
            let period = rng.gen_range(2..30u32);
            let d = TrialDesign {
                arms: (0..arms).map(|i| format!("arm {i}")).collect(),
                baseline_days: rng.gen_range(0..30),
                period_days: period,
                washout_days: rng.gen_range(0..period),
                blocks: rng.gen_range(1..6),
                seed: rng.gen(),
                ..design()
            };
            let c = d.calendar().unwrap();
            assert_eq!(c.periods.len() as u32, d.blocks * arms as u32);
            let mut next = d.baseline_days;
            for p in &c.periods {
                assert_eq!(p.days.start, next);
                assert_eq!(p.days.len() as u32, d.period_days);
                assert_eq!(p.washout.start, p.days.start);
                assert_eq!(p.analysed.end, p.days.end);
                assert_eq!(p.washout.end, p.analysed.start);
                assert_eq!(p.analysed.len() as u32, d.period_days - d.washout_days);
                next = p.days.end;
            }
            assert_eq!(c.total_days, next);
        }
    }

    #[test]
    fn huge_numbers_are_refused_not_overflowed() {
        // Found by fuzzing (fuzz/ trial_design): blocks × arms × period_days overflowed u64.
        let d = TrialDesign {
            blocks: u32::MAX,
            period_days: u32::MAX,
            washout_days: 0,
            ..design()
        };
        match d.calendar() {
            Err(StatsError::InvalidDesign { field, .. }) => assert_eq!(field, "blocks"),
            other => panic!("expected the blocks rule, got {other:?}"),
        }
        let d = TrialDesign {
            baseline_days: u32::MAX,
            ..design()
        };
        assert!(matches!(
            d.calendar(),
            Err(StatsError::InvalidDesign { field: "blocks", .. })
        ));
    }

    #[test]
    fn design_round_trips_through_json() {
        let d = design();
        let back: TrialDesign = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        let c = d.calendar().unwrap();
        let back: Calendar = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn validation_names_field_and_rule() {
        let d = TrialDesign {
            period_days: 3,
            washout_days: 3,
            ..design()
        };
        let e = d.validate().unwrap_err().to_string();
        assert!(
            e.contains("period_days must be at least 2 and greater than washout_days, got 3/3"),
            "{e}"
        );
        let one = TrialDesign {
            arms: vec!["a".into()],
            ..design()
        };
        assert!(one.validate().unwrap_err().to_string().contains("arms"));
        let thr = TrialDesign {
            success_threshold: 1.5,
            ..design()
        };
        assert!(thr.validate().unwrap_err().to_string().contains("success_threshold"));
        let dup = TrialDesign {
            arms: vec!["a".into(), "a".into()],
            ..design()
        };
        assert!(dup.validate().is_err());
        let long = TrialDesign {
            blocks: 1000,
            ..design()
        };
        assert!(long.validate().is_err());
    }
}
