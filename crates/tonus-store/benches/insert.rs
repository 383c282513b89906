//! Single-episode insert latency and bulk insert throughput, on SQLite and (when
//! `TONUS_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! `TONUS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p tonus-store --bench insert`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jiff::Timestamp;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::Zone;
use tonus_domain::{Episode, LocalInstant, Patient};
use tonus_store::{Batch, Store};

fn episode(i: i64) -> Episode {
    let at = Timestamp::from_second(1_760_000_000 + i * 97).unwrap();
    EpisodeDraft {
        kind: ["twitch", "cramp", "jerk"][(i % 3) as usize].into(),
        regions: vec!["left-calf".into()],
        pain: Some(i % 11),
        duration_s: Some(30),
        triggers: vec!["waking".into()],
        trigger_note: None,
        notes: None,
    }
    .validate(
        LocalInstant {
            at,
            zone: Zone::parse("Europe/Paris").unwrap(),
        },
        Timestamp::now(),
    )
    .unwrap()
}

async fn stores(dir: &std::path::Path) -> Vec<(Store, Patient)> {
    let mut v = Vec::new();
    let s = Store::open_sqlite(&dir.join("bench.db")).await.unwrap();
    let p = s.create_patient("bench", &Zone::utc()).await.unwrap();
    v.push((s, p));
    if let Ok(url) = std::env::var("TONUS_TEST_POSTGRES_URL") {
        let schema = format!("bench_{}", std::process::id());
        let s = Store::open_postgres(&url, Some(&schema)).await.unwrap();
        let p = s.create_patient("bench", &Zone::utc()).await.unwrap();
        v.push((s, p));
    }
    v
}

fn inserts(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backends = rt.block_on(stores(dir.path()));

    let mut single = c.benchmark_group("insert_episode");
    for (store, patient) in &backends {
        let mut i = 0;
        single.bench_function(BenchmarkId::from_parameter(store.backend_name()), |b| {
            b.iter(|| {
                i += 1;
                rt.block_on(store.insert_episode(patient, &episode(i))).unwrap()
            })
        });
    }
    single.finish();

    const BULK: usize = 1_000;
    let batch = Batch {
        episodes: (0..BULK as i64).map(episode).collect(),
        ..Default::default()
    };
    let mut bulk = c.benchmark_group("insert_batch_1000");
    bulk.throughput(Throughput::Elements(BULK as u64));
    bulk.sample_size(10);
    for (store, patient) in &backends {
        bulk.bench_function(BenchmarkId::from_parameter(store.backend_name()), |b| {
            b.iter(|| rt.block_on(store.insert_batch(patient, &batch)).unwrap())
        });
    }
    bulk.finish();
    for (store, _) in &backends {
        rt.block_on(store.close());
    }
}

criterion_group!(benches, inserts);
criterion_main!(benches);
