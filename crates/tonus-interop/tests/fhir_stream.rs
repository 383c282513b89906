//! The FHIR Bundle written entry by entry is the Bundle built in memory, and a Bundle from
//! another installation (another canonical base) imports into the same records.

mod common;

use jiff::Timestamp;
use serde_json::Value;
use tonus_interop::fhir::{base, export_bundle, import_bundle, to_transaction, write_bundle, BundleKind};

use common::{assert_same, simulated};

fn now() -> Timestamp {
    "2026-12-06T08:00:00Z".parse().unwrap()
}

#[test]
fn the_streamed_file_is_the_bundle_in_memory() {
    let (zone, records) = simulated(7, 120, now());
    for kind in [BundleKind::Collection, BundleKind::Transaction] {
        let mut out = Vec::new();
        let n = write_bundle(&mut out, "anne", &zone, &records, now(), kind).unwrap();
        let read: Value = serde_json::from_slice(&out).unwrap();
        let mut expected = export_bundle("anne", &zone, &records, now());
        if kind == BundleKind::Transaction {
            expected = to_transaction(expected);
        }
        assert_eq!(n, expected["entry"].as_array().unwrap().len());
        assert!(n > 500, "a real patient's worth of entries: {n}");
        assert_eq!(read, expected);
        // One entry per line, so a person can page through it.
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), n + 2);
    }
}

#[test]
fn a_bundle_from_another_installation_imports_into_the_same_records() {
    let (zone, records) = simulated(11, 60, now());
    let ours = export_bundle("anne", &zone, &records, now());
    let theirs_base = "https://tonus.other-clinic.example/fhir";
    let text = serde_json::to_string(&ours).unwrap().replace(base(), theirs_base);
    let theirs: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(theirs["meta"]["source"], theirs_base);
    assert!(!text.contains(base()));
    let a = import_bundle(&ours, now()).unwrap();
    let b = import_bundle(&theirs, now()).unwrap();
    assert_eq!(a.patients.len(), 1);
    assert_eq!(b.patients.len(), 1);
    assert_eq!(
        b.patients[0].handle.as_deref(),
        Some("anne"),
        "the handle is recognised"
    );
    assert_same(&a.patients[0].records, &b.patients[0].records);
    assert_eq!(a.report.skipped.len(), b.report.skipped.len());
}
