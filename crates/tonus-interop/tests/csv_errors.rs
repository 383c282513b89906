//! Bad CSV rows are reported all at once, each with its line number and the broken rule.

use jiff::Timestamp;
use tonus_domain::time::Zone;
use tonus_interop::csv::{self, Kind};

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

#[test]
fn every_bad_row_is_reported_with_its_line() {
    // Line 3's quoted note spans two lines, so the rows after it start one line later.
    let text = "started_at,kind,regions,pain,notes\n\
2026-11-19 08:00,twitch,left-calf,3,fine\n\
2026-11-19 09:00,cramp,right-calf,2,\"two\nlines\"\n\
2026-11-19 10:00,cramp,left-calf,11,\n\
2026-11-19 11:00,wobble,left-calf,1,\n\
2026-11-19 12:00,jerk,left-elbow,1,\n\
2026-11-29 12:00,jerk,back,1,\n\
not a time,jerk,back,1,\n\
2026-11-19 13:00,clonus,neck;jaw,,ok\n";
    let import = csv::read(text.as_bytes(), &Zone::parse("Europe/Paris").unwrap(), now()).unwrap();
    assert_eq!(import.kind, Kind::Episodes);
    assert_eq!(import.rows, 8);
    assert_eq!(import.records.episodes.len(), 3, "{:?}", import.errors);
    let got: Vec<(u64, &str)> = import.errors.iter().map(|e| (e.line, e.error.field.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (5, "pain"),
            (6, "kind"),
            (7, "region"),
            (8, "started_at"),
            (9, "started_at")
        ]
    );
    assert_eq!(
        import.errors[0].to_string(),
        "line 5: pain must be an integer 0–10, got 11"
    );
    assert!(import.errors[3].error.rule.contains("not in the future"));
}

#[test]
fn unknown_columns_and_headers_are_refused() {
    let err = csv::read("started_at,kind,colour\n".as_bytes(), &Zone::utc(), now()).unwrap_err();
    assert!(err.to_string().contains("matches no Tonus record type"), "{err}");
}

#[test]
fn treatment_rows_must_agree_and_doses_must_name_a_regimen() {
    let text = "treatment,category,dose,unit,schedule,start\n\
Baclofen,drug,10,mg,3x-daily,2026-01-01\n\
Baclofen,supplement,5,mg,daily,2026-03-01\n\
Vitamin D,vitamin,,,daily,2026-01-01\n\
Vitamin B,vitamin,1000,,daily,2026-01-01\n";
    let import = csv::read(text.as_bytes(), &Zone::utc(), now()).unwrap();
    let got: Vec<(u64, &str)> = import.errors.iter().map(|e| (e.line, e.error.field.as_str())).collect();
    assert_eq!(got, vec![(3, "category"), (4, "dose"), (5, "unit")]);

    let doses = "treatment,regimen_start,at,status\n\
Baclofen,2026-01-01,2026-01-02 08:00,taken\n\
Baclofen,2026-02-01,2026-02-02 08:00,taken\n\
Baclofen,2026-01-01,2026-01-03 08:00,forgot\n";
    let mut d = csv::read(doses.as_bytes(), &Zone::utc(), now()).unwrap();
    let known = [("baclofen".to_string(), "2026-01-01".parse().unwrap())]
        .into_iter()
        .collect();
    csv::resolve_doses(&mut d, &known);
    let got: Vec<(u64, &str)> = d.errors.iter().map(|e| (e.line, e.error.field.as_str())).collect();
    assert_eq!(got, vec![(3, "regimen_start"), (4, "status")]);
    assert_eq!(d.doses.len(), 1);
}

#[test]
fn side_effect_rows_name_the_broken_column() {
    let text = "at,time_zone,effect,description,severity,suspected_treatment,note\n\
2026-11-19T08:00:00+01:00,Europe/Paris,drowsiness,,moderate,Baclofen,after the evening dose\n\
2026-11-19 09:00,,other,,mild,,\n\
2026-11-19 10:00,,nausea,,awful,,\n\
2026-11-19 11:00,,itching,,mild,,\n\
2026-11-29 12:00,,nausea,,mild,,\n\
2026-11-19 13:00,Mars/Olympus,nausea,,mild,,\n\
2026-11-19 14:00,,other,\"pins and needles, \"\"both\"\" feet\",severe,,\n";
    let import = csv::read(text.as_bytes(), &Zone::parse("Europe/Paris").unwrap(), now()).unwrap();
    assert_eq!(import.kind, Kind::SideEffects);
    assert_eq!(import.rows, 7);
    let got: Vec<(u64, &str)> = import.errors.iter().map(|e| (e.line, e.error.field.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (3, "description"),
            (4, "severity"),
            (5, "effect"),
            (6, "at"),
            (7, "time_zone")
        ]
    );
    let good = &import.records.side_effects;
    assert_eq!(good.len(), 2, "{:?}", import.errors);
    assert_eq!(good[0].suspected_treatment(), Some("Baclofen"));
    assert_eq!(good[0].at().at, "2026-11-19T07:00:00Z".parse().unwrap());
    assert_eq!(good[1].description(), Some("pins and needles, \"both\" feet"));

    // Written back, the good rows read the same.
    let mut out = Vec::new();
    csv::write(Kind::SideEffects, &mut out, &import.records).unwrap();
    let again = csv::read(&out[..], &Zone::utc(), now()).unwrap();
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(&again.records.side_effects, good);
}
