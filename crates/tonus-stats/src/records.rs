//! Daily series from stored domain records: the bridge between what the patient logged and
//! what the models read. Day 0 is `start`; days are the patient's local calendar days.

use std::collections::BTreeMap;

use jiff::civil::Date;
use tonus_domain::{CheckIn, Episode, ExerciseSession, Family};

use crate::series::DayRecord;

#[derive(Default)]
struct Acc {
    involuntary: u32,
    stiffness: u32,
    pain_sum: f64,
    pain_n: u32,
    load: f64,
}

/// One [`DayRecord`] per day from `start` to `end` inclusive. A day is confirmed only when
/// its check-in says the log is complete; check-in scores count only when answered.
pub fn day_records(
    start: Date,
    end: Date,
    episodes: &[Episode],
    checkins: &[CheckIn],
    exercise: &[ExerciseSession],
) -> Vec<DayRecord> {
    let mut acc: BTreeMap<Date, Acc> = BTreeMap::new();
    for e in episodes {
        let a = acc.entry(e.started_at().local_date()).or_default();
        match e.family() {
            Family::InvoluntaryMovement => a.involuntary += 1,
            Family::Stiffness => a.stiffness += 1,
        }
        if let Some(p) = e.pain() {
            a.pain_sum += f64::from(p.value());
            a.pain_n += 1;
        }
    }
    for s in exercise {
        acc.entry(s.at().local_date()).or_default().load += f64::from(s.load());
    }
    let by_day: BTreeMap<Date, &CheckIn> = checkins.iter().map(|c| (c.date(), c)).collect();
    let mut out = Vec::new();
    let mut day = start;
    let mut index = 0u32;
    while day <= end {
        let a = acc.remove(&day).unwrap_or_default();
        let c = by_day.get(&day);
        out.push(DayRecord {
            day: index,
            confirmed: c.is_some_and(|c| c.log_complete()),
            involuntary_count: a.involuntary,
            stiffness_count: a.stiffness,
            mean_episode_pain: (a.pain_n > 0).then(|| a.pain_sum / f64::from(a.pain_n)),
            spasticity_nrs: c.and_then(|c| c.spasticity_nrs()).map(f64::from),
            pain_nrs: c.and_then(|c| c.pain_nrs()).map(f64::from),
            night_wakings: c.and_then(|c| c.night_wakings()).map(f64::from),
            exercise_load: a.load,
        });
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::Outcome;
    use jiff::Timestamp;
    use tonus_domain::checkin::CheckInDraft;
    use tonus_domain::episode::EpisodeDraft;
    use tonus_domain::time::Zone;
    use tonus_domain::{ExerciseType, LocalInstant};

    fn now() -> Timestamp {
        "2026-11-20T12:00:00Z".parse().unwrap()
    }

    fn at(s: &str) -> LocalInstant {
        LocalInstant {
            at: s.parse().unwrap(),
            zone: Zone::parse("Europe/Paris").unwrap(),
        }
    }

    #[test]
    fn builds_counts_scores_and_loads_per_local_day() {
        let ep = |kind: &str, when: &str, pain: Option<i64>| {
            EpisodeDraft {
                kind: kind.into(),
                pain,
                ..Default::default()
            }
            .validate(at(when), now())
            .unwrap()
        };
        let episodes = vec![
            ep("twitch", "2026-11-01T10:00:00Z", Some(4)),
            ep("cramp", "2026-11-01T11:00:00Z", Some(8)),
            // 23:30 UTC is the next local day in Paris.
            ep("jerk", "2026-11-01T23:30:00Z", None),
        ];
        let zone = Zone::parse("Europe/Paris").unwrap();
        let checkins = vec![
            CheckInDraft {
                spasticity_nrs: Some(5),
                log_complete: true,
                ..Default::default()
            }
            .validate("2026-11-01".parse().unwrap(), &zone, now())
            .unwrap(),
            CheckInDraft {
                spasticity_nrs: Some(3),
                log_complete: false,
                ..Default::default()
            }
            .validate("2026-11-02".parse().unwrap(), &zone, now())
            .unwrap(),
        ];
        let exercise =
            vec![ExerciseSession::new(at("2026-11-01T09:00:00Z"), ExerciseType::Yoga, 30, 3, None, now()).unwrap()];
        let r = day_records(
            "2026-11-01".parse().unwrap(),
            "2026-11-03".parse().unwrap(),
            &episodes,
            &checkins,
            &exercise,
        );
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].involuntary_count, r[0].stiffness_count), (1, 1));
        assert_eq!(r[0].mean_episode_pain, Some(6.0));
        assert_eq!(r[0].exercise_load, 90.0);
        assert_eq!(r[0].value(Outcome::SpasticityNrs), Some(5.0));
        assert_eq!(r[1].involuntary_count, 1);
        assert_eq!(r[1].value(Outcome::InvoluntaryCount), None, "not confirmed: unknown");
        assert_eq!(r[2].value(Outcome::StiffnessCount), None);
        assert_eq!(r[2].day, 2);
    }
}
