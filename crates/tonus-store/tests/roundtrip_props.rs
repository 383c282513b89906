//! Property: every valid record round-trips through storage unchanged, on every backend.

mod common;

use jiff::Timestamp;
use proptest::prelude::*;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::Zone;
use tonus_domain::*;

const ZONES: &[&str] = &[
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "UTC",
];

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

prop_compose! {
    fn arb_episode()(
        secs in 1_200_000_000i64..1_795_000_000,
        zi in 0..ZONES.len(),
        ki in 0..SpasmKind::ALL.len(),
        regions in proptest::collection::vec(0..Region::ALL.len(), 0..5),
        pain in proptest::option::of(0i64..=10),
        dur in proptest::option::of(0i64..=86_400),
        triggers in proptest::collection::vec(0..Trigger::ALL.len(), 0..4),
        note in proptest::option::of("[\\PC&&[^\\u{0}]]{0,40}"),
        lag in 0i64..100_000,
    ) -> Episode {
        let at = LocalInstant { at: Timestamp::from_second(secs).unwrap(), zone: Zone::parse(ZONES[zi]).unwrap() };
        let recorded = Timestamp::from_second(secs + lag).unwrap();
        EpisodeDraft {
            kind: SpasmKind::ALL[ki].code().into(),
            regions: regions.iter().map(|i| Region::ALL[*i].code().to_string()).collect(),
            pain,
            duration_s: dur,
            triggers: triggers.iter().map(|i| Trigger::ALL[*i].code().to_string()).collect(),
            trigger_note: None,
            notes: note,
        }
        .validate(at, recorded)
        .unwrap()
    }
}

prop_compose! {
    fn arb_checkin()(
        days_ago in 0i64..3000,
        sp in proptest::option::of(0i64..=10),
        pn in proptest::option::of(0i64..=10),
        f in proptest::option::of(0i64..=4),
        sev in 1i64..=3,
        w in proptest::option::of(0i64..=50),
        complete in any::<bool>(),
    ) -> CheckIn {
        let date = jiff::civil::date(2026, 11, 20).checked_sub(jiff::Span::new().days(days_ago)).unwrap();
        CheckInDraft {
            spasticity_nrs: sp, pain_nrs: pn, psfs_frequency: f,
            psfs_severity: f.filter(|f| *f > 0).map(|_| sev),
            night_wakings: w, log_complete: complete, note: None,
        }
        .validate(date, &Zone::utc(), now())
        .unwrap()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn episodes_round_trip(episodes in proptest::collection::vec(arb_episode(), 1..8)) {
        runtime().block_on(async {
            for t in common::all().await {
                let s = &t.store;
                let p = s.create_patient("p", &Zone::utc()).await.unwrap();
                let mut ids = vec![];
                for e in &episodes {
                    ids.push(s.insert_episode(&p, e).await.unwrap());
                }
                for (id, e) in ids.iter().zip(&episodes) {
                    let got = s.get_episode(&p, *id).await.unwrap().unwrap().value;
                    assert_eq!(&got, e, "{}", s.backend_name());
                    assert_eq!(got.started_at().local_date(), e.started_at().local_date());
                }
            }
        });
    }

    #[test]
    fn checkins_round_trip(c in arb_checkin()) {
        runtime().block_on(async {
            for t in common::all().await {
                let s = &t.store;
                let p = s.create_patient("p", &Zone::utc()).await.unwrap();
                s.upsert_checkin(&p, &c).await.unwrap();
                let got = s.list_checkins(&p, None, None).await.unwrap();
                assert_eq!(got.len(), 1);
                assert_eq!(&got[0].value, &c, "{}", s.backend_name());
            }
        });
    }

    #[test]
    fn regimens_round_trip(amount in 0.001f64..10_000.0, ui in 0..Unit::ALL.len(), ri in 0..Route::ALL.len(), n in 1u16..30, len in proptest::option::of(0i64..400)) {
        runtime().block_on(async {
            let start = jiff::civil::date(2025, 1, 1);
            let end = len.map(|l| start.checked_add(jiff::Span::new().days(l)).unwrap());
            let r = Regimen::new(Category::Drug, Some(Dose::new(amount, Unit::ALL[ui]).unwrap()), Some(Route::ALL[ri]), Schedule::EveryDays(n), start, end).unwrap();
            for t in common::all().await {
                let s = &t.store;
                let p = s.create_patient("p", &Zone::utc()).await.unwrap();
                let tid = s.insert_treatment(&p, &Treatment::new("X", Category::Drug, None).unwrap()).await.unwrap();
                s.insert_regimen(&p, tid, &r).await.unwrap();
                assert_eq!(&s.list_regimens(&p).await.unwrap()[0].value, &r, "{}", s.backend_name());
            }
        });
    }
}

prop_compose! {
    fn arb_exercise()(
        secs in 1_200_000_000i64..1_795_000_000,
        zi in 0..ZONES.len(),
        ti in 0..ExerciseType::ALL.len(),
        minutes in 1i64..=600,
        exertion in 0i64..=10,
        note in proptest::option::of("[a-zA-Z0-9 é]{1,30}"),
    ) -> ExerciseSession {
        let at = LocalInstant { at: Timestamp::from_second(secs).unwrap(), zone: Zone::parse(ZONES[zi]).unwrap() };
        ExerciseSession::new(at, ExerciseType::ALL[ti], minutes, exertion, note.as_deref(), now()).unwrap()
    }
}

prop_compose! {
    fn arb_event()(
        kind in 0u8..5,
        region in 0..MriRegion::ALL.len(),
        total in proptest::option::of(0i64..200),
        frac in 0.0f64..=1.0,
        days_ago in 0i64..5000,
        len in proptest::option::of(0i64..90),
        name in "[A-Za-z][A-Za-z ]{0,30}",
    ) -> ClinicalEvent {
        let on = jiff::civil::date(2026, 11, 20).checked_sub(jiff::Span::new().days(days_ago)).unwrap();
        let part = total.map(|t| (t as f64 * frac) as i64);
        let (k, until) = match kind {
            0 => (EventKind::mri(MriRegion::ALL[region], total, part, part.map(|p| p / 2)).unwrap(), None),
            1 => (EventKind::Relapse, len),
            2 => (EventKind::Infection, len),
            3 => (EventKind::Diagnosis, None),
            _ => (EventKind::other(&name).unwrap(), len),
        };
        let until = until.map(|l| on.checked_add(jiff::Span::new().days(l)).unwrap());
        ClinicalEvent::new(k, on, until, Some("summary"), &Zone::utc(), now()).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn exercise_events_and_doses_round_trip(
        sessions in proptest::collection::vec(arb_exercise(), 1..5),
        events in proptest::collection::vec(arb_event(), 1..5),
        dose_secs in proptest::collection::vec(1_600_000_000i64..1_790_000_000, 1..5),
        status in 0..DoseStatus::ALL.len(),
    ) {
        runtime().block_on(async {
            for t in common::all().await {
                let s = &t.store;
                let p = s.create_patient("p", &Zone::utc()).await.unwrap();
                for x in &sessions {
                    s.insert_exercise(&p, x).await.unwrap();
                }
                let mut got: Vec<_> = s.list_exercise(&p, None, None).await.unwrap().into_iter().map(|x| x.value).collect();
                let mut want = sessions.clone();
                let key = |x: &ExerciseSession| (x.at().at, x.minutes(), x.exertion());
                got.sort_by_key(key);
                want.sort_by_key(key);
                assert_eq!(got, want, "{}", s.backend_name());

                for e in &events {
                    s.insert_event(&p, e).await.unwrap();
                }
                let got: Vec<_> = s.list_events(&p, None, None).await.unwrap().into_iter().map(|x| x.value).collect();
                assert_eq!(got.len(), events.len());
                for e in &events {
                    assert!(got.contains(e), "{e:?} on {}", s.backend_name());
                }

                let tid = s.insert_treatment(&p, &Treatment::new("T", Category::Supplement, None).unwrap()).await.unwrap();
                let r = Regimen::new(Category::Supplement, Some(Dose::new(1.0, Unit::Tablet).unwrap()), None, Schedule::TimesPerDay(1), jiff::civil::date(2020, 1, 1), None).unwrap();
                let rid = s.insert_regimen(&p, tid, &r).await.unwrap();
                let doses: Vec<DoseLog> = dose_secs.iter().map(|secs| {
                    let at = LocalInstant { at: Timestamp::from_second(*secs).unwrap(), zone: Zone::parse("Europe/London").unwrap() };
                    DoseLog::new(at, DoseStatus::ALL[status], None, now()).unwrap()
                }).collect();
                for d in &doses {
                    s.insert_dose(&p, rid, d).await.unwrap();
                }
                let got: Vec<_> = s.list_doses(&p, None, None).await.unwrap().into_iter().map(|(_, d)| d.value).collect();
                let mut want = doses.clone();
                want.sort_by_key(|d| d.at().at);
                assert_eq!(got, want, "{}", s.backend_name());
            }
        });
    }
}

prop_compose! {
    /// A side effect, and the same one as the store should give it back: a suspected
    /// treatment typed in any case comes back with the treatment's stored name.
    fn arb_side_effect()(
        secs in 1_200_000_000i64..1_795_000_000,
        ms in 0i64..1000,
        zi in 0..ZONES.len(),
        ei in 0..Effect::ALL.len(),
        si in 0..Severity::ALL.len(),
        description in proptest::option::of("[a-zA-Z0-9 éà痙攣,;\"']{0,29}[a-z]"),
        suspect in 0usize..3,
        note in proptest::option::of("[a-zA-Z0-9 é\n,\"]{0,39}[a-z]"),
    ) -> (SideEffect, SideEffect) {
        let at = LocalInstant {
            at: Timestamp::from_millisecond(secs * 1000 + ms).unwrap(),
            zone: Zone::parse(ZONES[zi]).unwrap(),
        };
        let effect = Effect::ALL[ei];
        // `other` needs words; the listed effects may have them.
        let description = description.or_else(|| (effect == Effect::Other).then(|| "pins and needles".to_string()));
        let make = |name: Option<&str>| {
            SideEffect::new(at.clone(), effect, description.as_deref(), Severity::ALL[si], name, note.as_deref(), now())
                .unwrap()
        };
        let typed = [None, Some("Baclofen"), Some("bACLOFEN")][suspect];
        (make(typed), make(typed.map(|_| "Baclofen")))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn side_effects_round_trip(effects in proptest::collection::vec(arb_side_effect(), 1..6)) {
        runtime().block_on(async {
            for t in common::all().await {
                let s = &t.store;
                let p = s.create_patient("p", &Zone::utc()).await.unwrap();
                s.insert_treatment(&p, &Treatment::new("Baclofen", Category::Drug, None).unwrap()).await.unwrap();
                for (given, _) in &effects {
                    s.insert_side_effect(&p, given).await.unwrap();
                }
                let got: Vec<SideEffect> =
                    s.list_side_effects(&p, None, None).await.unwrap().into_iter().map(|x| x.value).collect();
                let mut want: Vec<SideEffect> = effects.iter().map(|(_, stored)| stored.clone()).collect();
                want.sort_by_key(|x| x.at().at);
                let mut got_sorted = got.clone();
                got_sorted.sort_by_key(|x| x.at().at);
                // Same instant twice: compare as multisets.
                assert_eq!(got_sorted.len(), want.len(), "{}", s.backend_name());
                for w in &want {
                    assert!(got_sorted.contains(w), "{w:?} on {}", s.backend_name());
                }
            }
        });
    }
}
