//! CSV import/export throughput for many episodes, end to end through a real database:
//!
//! ```sh
//! cargo run --release -p tonus-interop --example bench_csv -- 1000000 [DATABASE_URL]
//! ```
//!
//! Steps timed separately: build the episodes, write CSV (pure), read + validate CSV
//! (pure), insert in one transaction (`Store::add_records`, what `tonus import csv` does),
//! read back (`Store::patient_records`, what `tonus export csv` does) and write CSV again.
//! Without DATABASE_URL a fresh SQLite file in a temporary folder is used.

use std::time::Instant;

use jiff::{Span, Timestamp};
use tonus_domain::time::Zone;
use tonus_domain::{Episode, LocalInstant, Pain, Region, SpasmKind, Trigger};
use tonus_interop::csv::{self, Kind};
use tonus_store::archive::PatientRecords;
use tonus_store::Store;

fn rate(n: usize, secs: f64) -> String {
    format!("{secs:8.2} s  {:>10.0} episodes/s", n as f64 / secs)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let url = args.next();
    let zone = Zone::parse("Europe/Paris")?;
    let now = Timestamp::now();
    // Whole seconds: the database keeps milliseconds, and the final byte comparison needs
    // the re-export to match the first file exactly.
    let first = Timestamp::from_second(now.as_second() - 3650 * 86_400)?;

    let t = Instant::now();
    let mut records = PatientRecords::default();
    // Spread over ten years, deterministic variety of every column.
    let step = (3650 * 86_400) as i64 / n as i64;
    for i in 0..n {
        let at = first + Span::new().seconds(i as i64 * step.max(1));
        records.episodes.push(Episode::new(
            LocalInstant { at, zone: zone.clone() },
            SpasmKind::ALL[i % SpasmKind::ALL.len()],
            vec![Region::ALL[i % Region::ALL.len()]],
            Some(Pain::new((i % 11) as i64)?),
            Some((i % 300) as i64),
            vec![Trigger::ALL[i % Trigger::ALL.len()]],
            None,
            (i % 10 == 0).then_some("woke me, \"again\""),
            at + Span::new().seconds(60),
        )?);
    }
    println!("build      {}", rate(n, t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let mut buf = Vec::with_capacity(n * 120);
    csv::write(Kind::Episodes, &mut buf, &records)?;
    println!(
        "write CSV  {}  ({} MB)",
        rate(n, t.elapsed().as_secs_f64()),
        buf.len() / 1_000_000
    );

    let t = Instant::now();
    let import = csv::read(&buf[..], &zone, now)?;
    assert!(import.errors.is_empty());
    println!("read CSV   {}", rate(n, t.elapsed().as_secs_f64()));

    let dir = tempfile::tempdir()?;
    let store = match &url {
        Some(u) => Store::open(u).await?,
        None => Store::open_sqlite(&dir.path().join("bench.db")).await?,
    };
    let handle = format!("bench-{}", now.as_second());
    let patient = store.create_patient(&handle, &zone).await?;
    let t = Instant::now();
    store.add_records(&patient, &import.records, &[]).await?;
    println!(
        "insert     {}  ({})",
        rate(n, t.elapsed().as_secs_f64()),
        store.backend_name()
    );

    let t = Instant::now();
    let back = store.patient_records(&patient).await?;
    println!("read DB    {}", rate(n, t.elapsed().as_secs_f64()));
    assert_eq!(back.episodes.len(), n);

    let t = Instant::now();
    let mut out = Vec::with_capacity(buf.len());
    csv::write(Kind::Episodes, &mut out, &back)?;
    println!("write CSV  {}", rate(n, t.elapsed().as_secs_f64()));
    assert!(out == buf, "export after import must reproduce the file byte for byte");

    store.delete_patient(&patient).await?;
    store.close().await;
    Ok(())
}
