//! CSV import (`tonus import`): any bytes as one CSV file. The reader must answer with
//! records and per-row errors or one file-level error, never panic; and what it accepts must
//! survive our own export: written back out and read again, the same records, no errors.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use tonus_interop::csv::{self, Kind};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let zone = tonus_fuzz::zone(selector);
    let now = tonus_fuzz::now();
    let Ok(mut import) = csv::read(text, &zone, now) else {
        return;
    };
    assert!(import.errors.len() as u64 <= import.rows, "more errors than rows");
    for e in &import.errors {
        // Lines are counted at '\n' (the csv crate's rule), so a file with bare-CR line ends
        // reports every row on line 1; a line number is still at least 1.
        assert!(e.line >= 1, "a row error without a line: {e}");
        assert!(!e.error.field.is_empty(), "a row error naming no field: {e}");
    }

    if import.kind == Kind::Doses {
        // Doses name their regimen; resolving against the regimens they name must keep
        // each dose exactly once, either accepted or reported.
        let before = import.doses.len() + import.errors.len();
        let known: BTreeSet<_> = import
            .doses
            .iter()
            .step_by(2)
            .map(|d| (d.treatment.trim().to_lowercase(), d.regimen_start))
            .collect();
        csv::resolve_doses(&mut import, &known);
        assert_eq!(before, import.doses.len() + import.errors.len());
        return;
    }

    let mut out = Vec::new();
    csv::write(import.kind, &mut out, &import.records).expect("writing accepted records");
    let again = csv::read(&out[..], &zone, now).expect("reading our own export");
    assert!(again.errors.is_empty(), "our own export is refused: {:?}", again.errors);
    assert_eq!(again.kind, import.kind);
    assert_eq!(again.records, import.records, "records changed on a CSV round trip");
});
