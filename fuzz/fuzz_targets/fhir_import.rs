//! FHIR R4 Bundle import: any bytes as a JSON document. Import must answer with records or
//! an error, never panic; and a bundle it accepts, exported again and re-imported, must give
//! the same records (the round trip docs/fhir.md promises).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tonus_domain::time::Zone;
use tonus_interop::fhir::{export_bundle, import_bundle};

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let now = tonus_fuzz::now();
    let Ok(imported) = import_bundle(&bundle, now) else {
        return;
    };
    // Tonus exports one patient; a file of several is checked patient by patient.
    for import in &imported.patients {
        round_trip(import, now);
    }
});

fn round_trip(import: &tonus_interop::fhir::BundlePatient, now: jiff::Timestamp) {
    let zone = import.zone.clone().unwrap_or_else(Zone::utc);
    let handle = import.handle.clone().unwrap_or_else(|| "fuzz".to_string());
    let exported = export_bundle(&handle, &zone, &import.records, now);
    let text = serde_json::to_string(&exported).expect("serialising our own bundle");
    let parsed: Value = serde_json::from_str(&text).expect("parsing our own bundle");
    let again = import_bundle(&parsed, now).expect("importing our own export");
    let again = again.single().expect("our own export holds one patient");
    assert_eq!(again.records, import.records, "records changed on a FHIR round trip");
    assert_eq!(again.zone.clone().unwrap_or_else(Zone::utc), zone);
}
