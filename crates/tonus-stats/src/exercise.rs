//! Exercise: flags sessions above the patient's gentle limit, and relates each day's
//! exercise load (minutes × perceived exertion) to the next day's spasm counts.
//! Observational by nature: people exercise more on good days.

use serde::{Deserialize, Serialize};

use crate::analysis::{fixed_b_factor, AnalysisOptions};
use crate::design::Outcome;
use crate::error::{Result, StatsError};
use crate::hac::HacOptions;
use crate::linalg::Matrix;
use crate::model::{fit_negative_binomial, fit_quasi_poisson, ModelKind};
use crate::series::DayRecord;

/// Gentle exercise is light to moderate, about 2–4 on the 0–10 exertion scale.
pub const DEFAULT_GENTLE_MAX_EXERTION: u8 = 4;

/// A logged session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseSession {
    pub day: u32,
    pub minutes: u16,
    pub exertion: u8,
}

impl ExerciseSession {
    /// Load = minutes × exertion.
    pub fn load(&self) -> f64 {
        f64::from(self.minutes) * f64::from(self.exertion)
    }
}

/// The patient's own limit for "gentle".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GentleLimit {
    /// Sessions with exertion above this are flagged.
    pub max_exertion: u8,
    /// Weeks whose total load (Σ minutes × exertion) exceeds this are flagged; `None` = no
    /// weekly limit set.
    pub max_weekly_load: Option<f64>,
}

impl Default for GentleLimit {
    fn default() -> Self {
        Self {
            max_exertion: DEFAULT_GENTLE_MAX_EXERTION,
            max_weekly_load: None,
        }
    }
}

/// One week's exercise (weeks are `day / 7` of the series' day numbering).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeekLoad {
    pub week: u32,
    pub sessions: usize,
    pub load: f64,
    /// Sessions above the exertion limit this week.
    pub sessions_above_limit: usize,
    /// The week's load is above `max_weekly_load`, or it has a session above the limit.
    pub flagged: bool,
}

/// Per-week totals, in week order, only for weeks with sessions.
pub fn weekly_loads(sessions: &[ExerciseSession], limit: GentleLimit) -> Vec<WeekLoad> {
    let mut weeks: std::collections::BTreeMap<u32, WeekLoad> = std::collections::BTreeMap::new();
    for s in sessions {
        let w = weeks.entry(s.day / 7).or_insert(WeekLoad {
            week: s.day / 7,
            sessions: 0,
            load: 0.0,
            sessions_above_limit: 0,
            flagged: false,
        });
        w.sessions += 1;
        w.load += s.load();
        w.sessions_above_limit += usize::from(s.exertion > limit.max_exertion);
    }
    weeks
        .into_values()
        .map(|mut w| {
            w.flagged = w.sessions_above_limit > 0 || limit.max_weekly_load.is_some_and(|m| w.load > m);
            w
        })
        .collect()
}

/// Sessions that went beyond the limit, in input order.
pub fn sessions_above_limit(sessions: &[ExerciseSession], limit: GentleLimit) -> Vec<ExerciseSession> {
    sessions
        .iter()
        .filter(|s| s.exertion > limit.max_exertion)
        .copied()
        .collect()
}

/// Next-day association of exercise load with a count outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadEffect {
    pub outcome: Outcome,
    /// Always true: exercise is not randomised.
    pub observational: bool,
    pub model: ModelKind,
    /// Next-day rate ratio per 100 load units (e.g. 25 minutes at exertion 4).
    pub rate_ratio_per_100: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    /// Day pairs used (a confirmed day whose previous day is in the records).
    pub pairs: usize,
    pub maxlags: usize,
}

/// Regresses the count on a confirmed day on the previous day's load (per 100 units).
/// A previous day must be present in `records` (its load is what was logged; a missing
/// exercise entry means no exercise).
pub fn load_effect(records: &[DayRecord], outcome: Outcome, options: &AnalysisOptions) -> Result<LoadEffect> {
    if !outcome.is_count() {
        return Err(StatsError::InvalidData(format!(
            "exercise load is related to counts only, not to {outcome:?}"
        )));
    }
    let mut sorted: Vec<&DayRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.day);
    let mut y = Vec::new();
    let mut load = Vec::new();
    let mut days = Vec::new();
    for w in sorted.windows(2) {
        if w[1].day == w[0].day + 1 {
            if let Some(v) = w[1].value(outcome) {
                y.push(v);
                load.push(w[0].exercise_load / 100.0);
                days.push(w[1].day);
            }
        }
    }
    if !load.iter().any(|l| *l > 0.0) {
        return Err(StatsError::NotEnoughObservations {
            needed: 1,
            got: 0,
            context: "days after exercise".into(),
        });
    }
    let n = y.len();
    let mut x = Matrix::zeros(n, 2);
    for (i, l) in load.iter().enumerate() {
        x.set(i, 0, 1.0);
        x.set(i, 1, *l);
    }
    let fit = match options.count_model {
        ModelKind::NegativeBinomial => fit_negative_binomial(&y, &x).or_else(|_| fit_quasi_poisson(&y, &x))?,
        _ => fit_quasi_poisson(&y, &x)?,
    };
    let maxlags = options.hac.maxlags.unwrap_or_else(|| options.bandwidth.maxlags(n));
    let cov = fit.cov_hac(
        &HacOptions {
            maxlags: Some(maxlags),
            ..options.hac
        },
        Some(&days),
    )?;
    let inflation = if options.fixed_b {
        fixed_b_factor(maxlags, n)
    } else {
        1.0
    };
    let est = fit.params[1];
    let se = cov.get(1, 1).sqrt() * inflation;
    let z = crate::analysis::critical_and_p(fit.df_resid() as f64, options, est / se)?;
    Ok(LoadEffect {
        outcome,
        observational: true,
        model: fit.kind,
        rate_ratio_per_100: est.exp(),
        ci_low: (est - z.0 * se).exp(),
        ci_high: (est + z.0 * se).exp(),
        p_value: z.1,
        pairs: n,
        maxlags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::records_from_sim;
    use crate::sim::{simulate, SimConfig};

    #[test]
    fn flags_hard_sessions() {
        let s = [
            ExerciseSession {
                day: 0,
                minutes: 30,
                exertion: 3,
            },
            ExerciseSession {
                day: 1,
                minutes: 30,
                exertion: 7,
            },
        ];
        let f = sessions_above_limit(&s, GentleLimit::default());
        assert_eq!(f, vec![s[1]]);
        let lenient = GentleLimit {
            max_exertion: 8,
            max_weekly_load: Some(250.0),
        };
        assert!(sessions_above_limit(&s, lenient).is_empty());
        assert_eq!(s[1].load(), 210.0);
        let w = weekly_loads(&s, lenient);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].load, 300.0);
        assert!(w[0].flagged && w[0].sessions_above_limit == 0);
        let later = [ExerciseSession {
            day: 9,
            minutes: 10,
            exertion: 2,
        }];
        assert!(!weekly_loads(&later, lenient)[0].flagged);
        assert_eq!(weekly_loads(&later, lenient)[0].week, 1);
    }

    #[test]
    fn recovers_a_strong_next_day_effect() {
        let cfg = SimConfig {
            days: 1500,
            exercise_probability: 0.5,
            exercise_rate_ratio_per_100_load: 1.3,
            ..SimConfig::quiet(1500, 8)
        };
        let r = records_from_sim(&simulate(&cfg));
        let e = load_effect(&r, Outcome::InvoluntaryCount, &AnalysisOptions::default()).unwrap();
        assert!(e.ci_low < 1.3 && 1.3 < e.ci_high, "{e:?}");
        assert!(e.ci_low > 1.0);
        assert!(load_effect(&r, Outcome::PainNrs, &AnalysisOptions::default()).is_err());
    }
}
