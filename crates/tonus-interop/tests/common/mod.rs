//! Shared test helpers: a fresh SQLite file always, a fresh PostgreSQL schema when
//! `TONUS_TEST_POSTGRES_URL` is set, and simulated patients (tonus_stats::sim) turned into
//! domain records, with extra records that exercise every field, vocabulary and awkward
//! text (commas, quotes, new lines, non-ASCII) an export has to carry.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::civil::{Date, Time};
use jiff::{Span, Timestamp};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::*;
use tonus_stats::sim::{simulate, Family as SimFamily, SimConfig};
use tonus_store::archive::{PatientRecords, RegimenRecords, TreatmentRecords};
use tonus_store::Store;

pub struct TestStore {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tonus.db");
    let store = Store::open_sqlite(&path).await.expect("open sqlite");
    TestStore {
        store,
        url: path.display().to_string(),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<TestStore> {
    let url = std::env::var("TONUS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!(
        "interop_{}_{}_{}",
        std::process::id(),
        Timestamp::now().as_microsecond(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let store = Store::open_postgres(&url, Some(&schema)).await.expect("open postgres");
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(TestStore {
        store,
        url: format!("{url}{sep}options=-c%20search_path%3D{schema}"),
        _dir: None,
    })
}

/// Every backend this run can reach.
pub async fn all() -> Vec<TestStore> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

pub const ZONES: &[&str] = &[
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "UTC",
];

const NOTES: &[&str] = &[
    "plain",
    "with, comma",
    "with \"quotes\" and; semicolon",
    "two\nlines",
    "non-ASCII: crampe à la jambe, 痙攣",
    "back\\slash",
];

fn local(zone: &Zone, day: Date, minute: u16) -> Timestamp {
    let time = Time::new((minute / 60).min(23) as i8, (minute % 60) as i8, 0, 0).unwrap();
    day.to_datetime(time).to_zoned(zone.tz()).unwrap().timestamp()
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    *items.choose(rng).unwrap()
}

fn maybe_note(rng: &mut ChaCha8Rng) -> Option<&'static str> {
    rng.gen_bool(0.3).then(|| pick(rng, NOTES))
}

/// A simulated patient of `days` days ending yesterday, with every record type.
pub fn simulated(seed: u64, days: u32, now: Timestamp) -> (Zone, PatientRecords) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let zone = Zone::parse(pick(&mut rng, ZONES)).unwrap();
    let sim = simulate(&SimConfig {
        days,
        seed,
        ..SimConfig::default()
    });
    let yesterday = tonus_domain::time::today(&zone, now).yesterday().unwrap();
    let first = yesterday.checked_sub(Span::new().days(i64::from(days) - 1)).unwrap();
    let day_of = |i: u32| first.checked_add(Span::new().days(i64::from(i))).unwrap();
    let mut r = PatientRecords::default();
    for d in &sim.days {
        let day = day_of(d.day);
        for e in &d.episodes {
            let at = local(&zone, day, e.minute_of_day) + Span::new().milliseconds(rng.gen_range(0..1000));
            // A few entries made while travelling, in another zone.
            let ez = if rng.gen_bool(0.05) {
                Zone::parse(pick(&mut rng, ZONES)).unwrap()
            } else {
                zone.clone()
            };
            let kind = match e.family {
                SimFamily::InvoluntaryMovement => pick(&mut rng, &SpasmKind::ALL[..5]),
                SimFamily::Stiffness => pick(&mut rng, &SpasmKind::ALL[5..]),
            };
            let regions: Vec<Region> = (0..rng.gen_range(0..3)).map(|_| pick(&mut rng, Region::ALL)).collect();
            let triggers: Vec<Trigger> = (0..rng.gen_range(0..3)).map(|_| pick(&mut rng, Trigger::ALL)).collect();
            // Entered up to ~11 hours later, but never after now (an import refuses that).
            let recorded = (at + Span::new().seconds(rng.gen_range(0..40_000))).min(now);
            r.episodes.push(
                Episode::new(
                    LocalInstant { at, zone: ez },
                    kind,
                    regions,
                    rng.gen_bool(0.9).then(|| Pain::new(i64::from(e.pain)).unwrap()),
                    rng.gen_bool(0.8).then_some(i64::from(e.duration_s)),
                    triggers,
                    maybe_note(&mut rng),
                    maybe_note(&mut rng),
                    recorded,
                )
                .unwrap(),
            );
        }
        if let Some(c) = &d.checkin {
            r.checkins.push(
                CheckInDraft {
                    spasticity_nrs: rng.gen_bool(0.9).then_some(i64::from(c.spasticity_nrs)),
                    pain_nrs: Some(i64::from(c.pain_nrs)),
                    psfs_frequency: Some(i64::from(c.psfs_frequency)),
                    psfs_severity: c.psfs_severity.map(i64::from),
                    night_wakings: Some(i64::from(c.night_wakings)),
                    log_complete: d.confirmed,
                    note: maybe_note(&mut rng).map(str::to_string),
                }
                .validate(day, &zone, now)
                .unwrap(),
            );
        }
        if let Some(x) = &d.exercise {
            let at = local(&zone, day, rng.gen_range(9 * 60..19 * 60));
            r.exercise.push(
                ExerciseSession::new(
                    LocalInstant { at, zone: zone.clone() },
                    pick(&mut rng, ExerciseType::ALL),
                    i64::from(x.minutes.clamp(1, 600)),
                    i64::from(x.exertion.min(10)),
                    maybe_note(&mut rng),
                    now,
                )
                .unwrap(),
            );
        }
    }
    // Treatments: one per category, routes and schedules drawn from every value.
    let schedules = [
        Schedule::TimesPerDay(1),
        Schedule::TimesPerDay(3),
        Schedule::EveryDays(2),
        Schedule::EveryWeeks(4),
        Schedule::AsNeeded,
    ];
    for (i, category) in Category::ALL.iter().enumerate() {
        let treatment = Treatment::new(
            &format!("Treatment {i}, \"{}\"", category.code()),
            *category,
            maybe_note(&mut rng),
        )
        .unwrap();
        let mut regimens = Vec::new();
        for k in 0..rng.gen_range(0..3) {
            let start = day_of(rng.gen_range(0..days / 2) + k * (days / 2));
            let end = rng
                .gen_bool(0.5)
                .then(|| start.checked_add(Span::new().days(rng.gen_range(0..20))).unwrap());
            let dose = (category.needs_dose() || rng.gen_bool(0.5))
                .then(|| Dose::new(rng.gen_range(1..5000) as f64 / 7.0, pick(&mut rng, Unit::ALL)).unwrap());
            let regimen = Regimen::new(
                *category,
                dose,
                rng.gen_bool(0.8).then(|| pick(&mut rng, Route::ALL)),
                pick(&mut rng, &schedules),
                start,
                end,
            )
            .unwrap();
            let mut doses = Vec::new();
            let mut day = start;
            while day <= end.unwrap_or(yesterday).min(yesterday) {
                let at = local(&zone, day, rng.gen_range(7 * 60..22 * 60));
                doses.push(
                    DoseLog::new(
                        LocalInstant { at, zone: zone.clone() },
                        pick(&mut rng, DoseStatus::ALL),
                        maybe_note(&mut rng),
                        now,
                    )
                    .unwrap(),
                );
                day = day.tomorrow().unwrap();
            }
            regimens.push(RegimenRecords {
                uid: None,
                regimen,
                doses,
                dose_uids: Vec::new(),
            });
        }
        r.treatments.push(TreatmentRecords {
            uid: None,
            treatment,
            regimens,
        });
    }
    let events = [
        EventKind::Diagnosis,
        EventKind::Relapse,
        EventKind::Infection,
        EventKind::mri(MriRegion::Brain, Some(12), Some(2), Some(1)).unwrap(),
        EventKind::mri(MriRegion::ThoracicCord, None, Some(0), None).unwrap(),
        EventKind::other("moved to a hot climate; \"Seville\"").unwrap(),
    ];
    for kind in events {
        let on = day_of(rng.gen_range(0..days));
        let until = matches!(
            kind,
            EventKind::Relapse | EventKind::Infection | EventKind::Other { .. }
        )
        .then(|| {
            rng.gen_bool(0.5)
                .then(|| on.checked_add(Span::new().days(rng.gen_range(0..30))).unwrap())
        })
        .flatten();
        r.events
            .push(ClinicalEvent::new(kind, on, until, maybe_note(&mut rng), &zone, now).unwrap());
    }
    // Side effects: every effect and severity, some in another zone, some blaming a
    // treatment (its name typed in another case, as people do), with and without words.
    let names: Vec<String> = r.treatments.iter().map(|t| t.treatment.name().to_string()).collect();
    for (i, effect) in Effect::ALL.iter().enumerate() {
        let day = day_of(rng.gen_range(0..days));
        let at = local(&zone, day, rng.gen_range(0..24 * 60)) + Span::new().milliseconds(rng.gen_range(0..1000));
        let ez = if rng.gen_bool(0.2) {
            Zone::parse(pick(&mut rng, ZONES)).unwrap()
        } else {
            zone.clone()
        };
        let description = (*effect == Effect::Other || rng.gen_bool(0.3)).then(|| pick(&mut rng, NOTES));
        let suspected = rng.gen_bool(0.6).then(|| {
            let n = &names[i % names.len()];
            if rng.gen_bool(0.5) {
                n.to_uppercase()
            } else {
                n.clone()
            }
        });
        r.side_effects.push(
            SideEffect::new(
                LocalInstant { at, zone: ez },
                *effect,
                description,
                pick(&mut rng, Severity::ALL),
                suspected.as_deref(),
                maybe_note(&mut rng),
                now,
            )
            .unwrap(),
        );
    }
    (zone, r)
}

/// Compares two patients' records type by type, so a failure names what differs.
pub fn assert_same(a: &PatientRecords, b: &PatientRecords) {
    // Contents only: whether uids survive depends on the format (see `assert_same_uids`).
    assert_eq!(
        a.clone().without_uids().treatments,
        b.clone().without_uids().treatments,
        "treatments differ"
    );
    assert_eq!(a.episodes.len(), b.episodes.len(), "episode count differs");
    for (x, y) in a.episodes.iter().zip(&b.episodes) {
        assert_eq!(x, y);
    }
    assert_eq!(a.checkins, b.checkins, "check-ins differ");
    assert_eq!(a.exercise, b.exercise, "exercise differs");
    assert_eq!(a.events, b.events, "events differ");
    assert_eq!(a.side_effects, b.side_effects, "side effects differ");
}

/// The uids of every record: flat lists, then each treatment's, its regimens' and doses'.
pub fn uids_of(r: &PatientRecords) -> (tonus_store::archive::RecordUids, Vec<String>) {
    let mut nested = Vec::new();
    for t in &r.treatments {
        nested.push(format!("treatment {:?}", t.uid));
        for rr in &t.regimens {
            nested.push(format!("regimen {:?} doses {:?}", rr.uid, rr.dose_uids));
        }
    }
    (r.uids.clone(), nested)
}

/// Every record of `b` has the uid of the same record of `a`, and every record has one.
pub fn assert_same_uids(a: &PatientRecords, b: &PatientRecords) {
    let (flat, nested) = uids_of(a);
    assert_eq!(flat.episodes.len(), a.episodes.len(), "every episode has a uid");
    assert_eq!(
        flat.side_effects.len(),
        a.side_effects.len(),
        "every side effect has a uid"
    );
    assert!(
        a.treatments.iter().all(|t| t.uid.is_some()),
        "every treatment has a uid"
    );
    assert_eq!(uids_of(b), (flat, nested), "uids differ");
}
