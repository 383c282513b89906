//! Trial arms as combinations of treatments, through the real binary on SQLite and PostgreSQL:
//! a "Baclofen" vs "Baclofen + Stretching" trial is planned, doses are logged with `tonus
//! dose`, and the report must count adherence per treatment of each period's arm, with the
//! trial's treatments taken outside their arm as "other".

mod common;

use common::{ok_json, postgres_db, sqlite_db, tonus, Db};
use jiff::civil::Date;
use jiff::Span;

fn ok_text(db: &Db, args: &[&str]) -> String {
    let out = tonus(db, args);
    assert!(
        out.status.success(),
        "tonus {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Fails unless `tonus ARGS` exits 2 (the user's input) with `want` in its error.
fn refused(db: &Db, args: &[&str], want: &str) {
    let out = tonus(db, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: wanted {want:?} in {err}");
}

fn dose(db: &Db, status: &str, treatment: &str, on: Date, hour: u8) {
    ok_json(db, &["dose", status, treatment, "--at", &format!("{on} {hour:02}:00")]);
}

fn plus(d: Date, days: i64) -> Date {
    d.checked_add(Span::new().days(days)).unwrap()
}

/// The whole scenario on one database; `today` is the patient's (UTC) day.
fn combination_trial(db: &Db) {
    ok_json(db, &["patient", "add", "me", "--tz", "UTC"]);
    ok_json(db, &["treatment", "add", "Baclofen", "--category", "drug"]);
    ok_json(db, &["treatment", "add", "Stretching", "--category", "exercise"]);
    ok_json(db, &["treatment", "add", "Vitamin D", "--category", "vitamin"]);
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    // Two 4-day periods (1 washout day each), no run-in, finished before today.
    let start = plus(today, -10);
    let from = start.to_string();
    ok_json(
        db,
        &[
            "treatment",
            "start",
            "Baclofen",
            "--dose",
            "10",
            "--unit",
            "mg",
            "--route",
            "oral",
            "--schedule",
            "twice-daily",
            "--from",
            &from,
        ],
    );
    ok_json(
        db,
        &[
            "treatment",
            "start",
            "Stretching",
            "--schedule",
            "daily",
            "--from",
            &from,
        ],
    );
    ok_json(
        db,
        &[
            "treatment",
            "start",
            "Vitamin D",
            "--dose",
            "1000",
            "--unit",
            "[IU]",
            "--route",
            "oral",
            "--schedule",
            "daily",
            "--from",
            &from,
        ],
    );

    // The rules on combinations, each refused naming the field and the rule.
    let base = [
        "trial", "plan", "--name", "bad", "--start", &from, "--arm", "Baclofen", "--arm",
    ];
    let with = |arm: &str| -> Vec<String> { base.iter().map(|s| s.to_string()).chain([arm.to_string()]).collect() };
    let cases = [
        ("Baclofen + baclofen", "arm must be a set of distinct treatments"),
        ("none + Stretching", "`none` cannot be combined"),
        ("Baclofen +", "with a name on each side of every `+`"),
        ("Baclofen + Yoga", "\"Yoga\" in \"Baclofen + Yoga\""),
        ("baclofen", "arms must be distinct sets of treatments"),
    ];
    for (arm, want) in cases {
        let args = with(arm);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(db, &args, want);
    }
    assert_eq!(ok_json(db, &["trial", "list"]), serde_json::json!([]), "nothing stored");

    // Typed in another order and case: stored in the canonical form with the treatments' names.
    let plan = ok_json(
        db,
        &[
            "trial",
            "plan",
            "--name",
            "combo",
            "--start",
            &from,
            "--arm",
            "Baclofen",
            "--arm",
            "stretching + BACLOFEN",
            "--baseline-days",
            "0",
            "--period-days",
            "4",
            "--washout-days",
            "1",
            "--blocks",
            "1",
            "--seed",
            "5",
        ],
    );
    let periods = plan["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2);
    let mut arms: Vec<&str> = periods.iter().map(|p| p["arm"].as_str().unwrap()).collect();
    arms.sort_unstable();
    assert_eq!(arms, ["Baclofen", "Baclofen + Stretching"]);
    for p in periods {
        let combo = p["arm"] == "Baclofen + Stretching";
        let (take, stop) = if combo {
            (serde_json::json!(["Baclofen", "Stretching"]), serde_json::json!([]))
        } else {
            (serde_json::json!(["Baclofen"]), serde_json::json!(["Stretching"]))
        };
        assert_eq!(p["take"], take, "{p}");
        assert_eq!(p["stop"], stop, "{p}");
    }
    assert!(
        plan["cautions"].as_array().unwrap().is_empty(),
        "baclofen is never stopped"
    );
    let shown = ok_text(db, &["trial", "show", "combo"]);
    assert!(shown.contains("Baclofen vs Baclofen + Stretching"), "{shown}");
    assert!(
        shown.contains(": Baclofen + Stretching: take Baclofen and Stretching"),
        "{shown}"
    );
    assert!(shown.contains(": Baclofen: take Baclofen; stop Stretching"), "{shown}");

    // Doses, per period (4 days each; the first is washout but doses count all the same).
    let period_start = |arm: &str| -> Date {
        let p = periods.iter().find(|p| p["arm"] == arm).unwrap();
        p["from"].as_str().unwrap().parse().unwrap()
    };
    let combo = period_start("Baclofen + Stretching");
    let single = period_start("Baclofen");
    // Combination period: Baclofen 7 taken (one late) + 1 missed of 8; Stretching 3 + 1 missed of 4.
    for d in 0..4 {
        dose(db, "taken", "Baclofen", plus(combo, d), 8);
        let evening = if d == 3 {
            "missed"
        } else if d == 2 {
            "late"
        } else {
            "taken"
        };
        dose(db, evening, "Baclofen", plus(combo, d), 20);
        dose(
            db,
            if d == 1 { "missed" } else { "taken" },
            "Stretching",
            plus(combo, d),
            18,
        );
        // A background vitamin: not a trial treatment, never "other".
        dose(db, "taken", "Vitamin D", plus(combo, d), 9);
    }
    // Baclofen-only period: Baclofen 6 of 8, none missed logged; Stretching done twice ("other").
    for d in 0..3 {
        dose(db, "taken", "Baclofen", plus(single, d), 8);
        dose(db, "taken", "Baclofen", plus(single, d), 20);
    }
    dose(db, "taken", "Stretching", plus(single, 1), 18);
    dose(db, "late", "Stretching", plus(single, 2), 18);
    dose(db, "missed", "Stretching", plus(single, 3), 18);

    let report = ok_json(db, &["trial", "report", "combo"]);
    assert_eq!(
        report["arm_components"],
        serde_json::json!([["Baclofen"], ["Baclofen", "Stretching"]])
    );
    let adherence = report["adherence"].as_array().unwrap();
    let of = |arm: &str| adherence.iter().find(|a| a["arm"] == arm).unwrap();
    let c = of("Baclofen + Stretching");
    assert_eq!(
        c["components"],
        serde_json::json!([
            {"treatment": "Baclofen", "planned_doses": 8.0, "logged_taken": 7, "logged_missed": 1},
            {"treatment": "Stretching", "planned_doses": 4.0, "logged_taken": 3, "logged_missed": 1},
        ]),
        "{c}"
    );
    assert_eq!(c["planned_doses"], 12.0);
    assert_eq!(c["logged_taken"], 10);
    assert_eq!(c["logged_missed"], 2);
    assert_eq!(c["other_arm_doses_taken"], 0, "vitamin D is in no arm: {c}");
    assert_eq!(c["other"], serde_json::json!([]));
    let s = of("Baclofen");
    assert_eq!(
        s["components"],
        serde_json::json!([
            {"treatment": "Baclofen", "planned_doses": 8.0, "logged_taken": 6, "logged_missed": 0},
        ]),
        "{s}"
    );
    assert_eq!(
        s["other_arm_doses_taken"], 2,
        "taken and late count, missed does not: {s}"
    );
    assert_eq!(s["other"], serde_json::json!([{"treatment": "Stretching", "taken": 2}]));
    let concomitant = report["concomitant_treatments"].as_array().unwrap();
    assert_eq!(concomitant.len(), 1, "{concomitant:?}");
    assert!(concomitant[0].as_str().unwrap().starts_with("Vitamin D"));

    let text = ok_text(db, &["trial", "report", "combo"]);
    let expected_combo = format!(
        "period {} (Baclofen + Stretching): Baclofen: 7 of 8.0 planned taken (88 %), 1 missed; \
         Stretching: 3 of 4.0 planned taken (75 %), 1 missed; other trial treatments' doses taken: none",
        c["period"]
    );
    assert!(text.contains(&expected_combo), "{text}");
    let expected_single = format!(
        "period {} (Baclofen): Baclofen: 6 of 8.0 planned taken (75 %), 0 missed; \
         other trial treatments' doses taken: Stretching 2",
        s["period"]
    );
    assert!(text.contains(&expected_single), "{text}");

    // The iCalendar feed says what to take when.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.ics");
    ok_text(db, &["export", "ical", "--out", &out.display().to_string()]);
    let unfolded = std::fs::read_to_string(&out).unwrap().replace("\r\n ", "");
    assert!(
        unfolded.contains("starts: Baclofen + Stretching: take Baclofen and Stretching"),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("starts: Baclofen: take Baclofen\\; stop Stretching"),
        "{unfolded}"
    );

    // The PDF report's trial section lists adherence per treatment too.
    let pdf = dir.path().join("r.pdf");
    let pdf_s = pdf.display().to_string();
    ok_text(
        db,
        &["report", "--from", "-30", "--out", &pdf_s, "--sections", "trials"],
    );
    let out = std::process::Command::new("pdftotext")
        .args([&pdf_s, "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("Adherence (doses logged per treatment"), "{text}");
    assert!(
        text.contains("Stretching: 3 of 4.0 planned taken (75 %), 1 missed"),
        "{text}"
    );
    assert!(
        text.contains("other trial treatments’ doses taken: Stretching 2")
            || text.contains("other trial treatments' doses taken: Stretching 2"),
        "{text}"
    );
}

#[test]
fn a_combination_trial_on_sqlite() {
    combination_trial(&sqlite_db());
}

#[tokio::test]
async fn a_combination_trial_on_postgres() {
    if let Some(db) = postgres_db("combo").await {
        tokio::task::spawn_blocking(move || combination_trial(&db))
            .await
            .unwrap();
    }
}
