//! Dashboard data gathering (issue #15 point 3): a simulated year of one patient (about
//! 2,600 episodes and 330 check-ins, as `tonus demo --days 365`) in a real SQLite file and,
//! when `TONUS_TEST_POSTGRES_URL` is set, a fresh PostgreSQL schema. Measures what a
//! dashboard view costs the server besides HTML: gathering the 90 days and the year from the
//! store with the SVG charts (a cache miss), reading the data version, and a cache hit (the
//! version read, the lookup and the copy handed to the page).
//!
//! `cargo bench --workspace --locked --bench dashboard`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jiff::civil::{Date, Time};
use jiff::{Span, Timestamp};
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::{today, Zone};
use tonus_domain::{LocalInstant, Patient};
use tonus_report::cache::approx_bytes;
use tonus_report::data::DASHBOARD_NOTES;
use tonus_report::{DashboardKey, Notes, ReportCache, Section};
use tonus_stats::sim::{simulate, Family, SimConfig};
use tonus_store::{Batch, Store};

const DAYS: u32 = 365;

/// The simulated year, ending today in the patient's zone.
fn year(p: &Patient, now: Timestamp) -> Batch {
    let sim = simulate(&SimConfig {
        days: DAYS,
        seed: 1,
        ..SimConfig::default()
    });
    let last = today(&p.zone, now);
    let first = last.checked_sub(Span::new().days(i64::from(DAYS) - 1)).unwrap();
    let mut batch = Batch::default();
    for d in &sim.days {
        let day: Date = first.checked_add(Span::new().days(i64::from(d.day))).unwrap();
        for e in &d.episodes {
            let time = Time::new((e.minute_of_day / 60).min(23) as i8, (e.minute_of_day % 60) as i8, 0, 0).unwrap();
            let at = day.to_datetime(time).to_zoned(p.zone.tz()).unwrap().timestamp();
            if at > now {
                continue;
            }
            let kind = match e.family {
                Family::InvoluntaryMovement => "twitch",
                Family::Stiffness => "cramp",
            };
            let draft = EpisodeDraft {
                kind: kind.into(),
                regions: vec!["left-calf".into()],
                pain: Some(i64::from(e.pain)),
                duration_s: Some(i64::from(e.duration_s)),
                triggers: vec![],
                trigger_note: None,
                notes: None,
            };
            let instant = LocalInstant {
                at,
                zone: p.zone.clone(),
            };
            batch.episodes.push(draft.validate(instant, now).unwrap());
        }
        if let Some(c) = &d.checkin {
            let draft = CheckInDraft {
                spasticity_nrs: Some(i64::from(c.spasticity_nrs)),
                pain_nrs: Some(i64::from(c.pain_nrs)),
                psfs_frequency: Some(i64::from(c.psfs_frequency)),
                psfs_severity: c.psfs_severity.map(i64::from),
                night_wakings: Some(i64::from(c.night_wakings)),
                log_complete: d.confirmed && day < last,
                note: None,
            };
            batch.checkins.push(draft.validate(day, &p.zone, now).unwrap());
        }
    }
    batch
}

async fn stores(dir: &std::path::Path, now: Timestamp) -> Vec<(Store, Patient)> {
    let zone = Zone::parse("Europe/Paris").unwrap();
    let mut v = Vec::new();
    let s = Store::open_sqlite(&dir.join("bench.db")).await.unwrap();
    v.push(s);
    if let Ok(url) = std::env::var("TONUS_TEST_POSTGRES_URL") {
        let schema = format!("bench_dash_{}", std::process::id());
        v.push(Store::open_postgres(&url, Some(&schema)).await.unwrap());
    }
    let mut out = Vec::new();
    for s in v {
        let p = s.create_patient("bench", &zone).await.unwrap();
        s.insert_batch(&p, &year(&p, now)).await.unwrap();
        out.push((s, p));
    }
    out
}

fn dashboards(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let backends = rt.block_on(stores(dir.path(), now));
    let notes = Notes::Newest(DASHBOARD_NOTES);

    let mut g = c.benchmark_group("dashboard");
    g.sample_size(20);
    for (store, patient) in &backends {
        let to = today(&patient.zone, now);
        for (view, days) in [("90_days", 89), ("year", 364)] {
            let from = to.checked_sub(Span::new().days(days)).unwrap();
            let gather = || tonus_report::gather(store, patient, from, to, now, &Section::ALL, 4, &[], notes);
            let id = format!("{}/{view}", store.backend_name());
            g.bench_function(BenchmarkId::new("gather_and_draw", &id), |b| {
                b.iter(|| rt.block_on(gather()).unwrap());
            });
            let cache = ReportCache::new(8 << 20);
            let key = |version| DashboardKey {
                patient: patient.id,
                version,
                from,
                to,
                today: to,
                zone: patient.zone.name().to_string(),
                sections: Section::ALL.to_vec(),
                notes,
            };
            let version = rt.block_on(store.data_version(patient)).unwrap();
            let data = rt.block_on(gather()).unwrap();
            // The entry's size, for the memory bound's documentation.
            eprintln!("{id}: a cached entry is about {} KiB", approx_bytes(&data) / 1024);
            cache.insert(key(version), Arc::new(data));
            g.bench_function(BenchmarkId::new("cache_hit", &id), |b| {
                b.iter(|| {
                    let version = rt.block_on(store.data_version(patient)).unwrap();
                    // What the server does with a hit: a copy the page can take apart.
                    (*cache.get(&key(version)).unwrap()).clone()
                });
            });
        }
        g.bench_function(BenchmarkId::new("data_version", store.backend_name()), |b| {
            b.iter(|| rt.block_on(store.data_version(patient)).unwrap());
        });
    }
    g.finish();
    for (store, _) in backends {
        rt.block_on(store.close());
    }
}

criterion_group!(benches, dashboards);
criterion_main!(benches);
