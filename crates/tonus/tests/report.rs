//! The clinician report as a person gets it: a real PDF from the real binary, opened with
//! poppler (pdftotext, pdfinfo) and rendered to PNG pages kept under artifacts/report/.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tonus(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tonus"))
        .args(args)
        .env("TONUS_DATABASE_URL", db)
        .env_remove("TONUS_PATIENT")
        .output()
        .expect("run tonus")
}

fn run_ok(db: &str, args: &[&str]) -> String {
    let out = tonus(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed for this test (Debian poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_year_report_opens_with_every_section_and_renders_to_png() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    run_ok(&db, &["demo", "--days", "365", "--seed", "4"]);
    run_ok(
        &db,
        &[
            "trial",
            "plan",
            "--name",
            "baclofen-trial",
            "--arm",
            "none",
            "--arm",
            "Baclofen",
            "--start",
            "-120",
            "--seed",
            "2",
        ],
    );
    let pdf = dir.path().join("report.pdf");
    let svg = dir.path().join("svg");
    let pdf_s = pdf.display().to_string();
    run_ok(
        &db,
        &[
            "report",
            "--from",
            "-364",
            "--out",
            &pdf_s,
            "--svg-dir",
            &svg.display().to_string(),
        ],
    );

    let info = tool("pdfinfo", &[&pdf_s]);
    let pages: usize = info.lines().find(|l| l.starts_with("Pages:")).unwrap()[6..]
        .trim()
        .parse()
        .unwrap();
    assert!((5..=12).contains(&pages), "{pages} pages");

    let text = tool("pdftotext", &["-layout", &pdf_s, "-"]);
    for section in [
        "Summary for a short appointment",
        "Treatments and doses",
        "Daily episodes per spasm family",
        "Spasticity, pain and the Penn Spasm Frequency Scale",
        "Body regions",
        "Night episodes",
        "MRI, relapses and other clinical events",
        "Exercise load",
        "Personal (n-of-1) trials",
        "baclofen-trial",
        "Self-reported data",
        "not medical advice",
        "Baclofen",
        // The trial page per CENT 2015: allocation with dates, specification, per-period
        // results, other treatments, limitations; planned 120 days into the trial.
        "seed 2 (ChaCha8",
        "Period 1 (block 1):",
        "Planned after the trial started: not pre-specified",
        "Mean per period",
        "Other treatments during the trial",
        "Limitations:",
    ] {
        assert!(text.contains(section), "PDF text lacks {section:?}");
    }
    // The summary page comes first and fits on one page.
    let first_page = text.split('\u{c}').next().unwrap();
    assert!(first_page.contains("Summary for a short appointment") && first_page.contains("per confirmed day"));

    for chart in ["counts", "scores", "psfs", "regions", "night", "exercise"] {
        let s = std::fs::read_to_string(svg.join(format!("{chart}.svg"))).unwrap();
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"), "{chart}");
    }

    let out = artifacts();
    std::fs::copy(&pdf, out.join("report.pdf")).unwrap();
    tool(
        "pdftoppm",
        &["-r", "70", "-png", &pdf_s, &out.join("page").display().to_string()],
    );
    let pngs = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pngs >= pages, "one PNG per page in {}", out.display());
}

#[test]
fn chosen_sections_only_and_bad_input_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    run_ok(&db, &["demo", "--days", "60", "--seed", "5"]);
    let pdf = dir.path().join("r.pdf").display().to_string();
    run_ok(&db, &["report", "--from", "-59", "--out", &pdf, "--sections", "counts"]);
    let text = tool("pdftotext", &[&pdf, "-"]);
    assert!(
        text.contains("Summary for a short appointment"),
        "the summary always comes first"
    );
    assert!(text.contains("Daily episodes per spasm family"));
    assert!(!text.contains("Body regions") && !text.contains("Exercise load"));

    for (args, expected) in [
        (vec!["report", "--sections", "gossip"], "sections must be a list of"),
        (
            vec!["report", "--from", "today", "--to", "-3"],
            "to must be on or after",
        ),
    ] {
        let out = tonus(&db, &args);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(expected), "{args:?}");
    }
}

/// Emoji in names and notes print as emoji, not as empty boxes: the report embeds a font that
/// has them and the text layer keeps them.
#[test]
fn emoji_in_names_are_printed_with_an_emoji_font() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    run_ok(&db, &["demo", "--days", "60", "--seed", "6"]);
    let name = "Baclofen 💊 trial 😣";
    run_ok(
        &db,
        &[
            "trial", "plan", "--name", name, "--arm", "none", "--arm", "Baclofen", "--start", "-40", "--seed", "3",
        ],
    );
    let pdf = dir.path().join("r.pdf").display().to_string();
    run_ok(&db, &["report", "--from", "-59", "--out", &pdf, "--sections", "trials"]);
    let fonts = tool("pdffonts", &[&pdf]);
    // typst embeds the colour emoji as a Type 3 font (bitmap glyphs); the text fonts are CID.
    assert!(fonts.contains("Type 3"), "no emoji font embedded:\n{fonts}");
    let text = tool("pdftotext", &[&pdf, "-"]);
    assert!(
        text.contains("💊") && text.contains("😣"),
        "emoji lost from the text layer:\n{text}"
    );
}

/// Side effects have their own section, which says plainly when none were recorded; the
/// patient's notes are printed only with `--notes`, line breaks kept and never read as markup.
#[test]
fn side_effects_section_and_notes_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    run_ok(&db, &["patient", "add", "me", "--tz", "UTC"]);
    run_ok(&db, &["treatment", "add", "Baclofen", "--category", "drug"]);
    let pdf = dir.path().join("r.pdf").display().to_string();
    let text_of = |extra: &[&str]| {
        let mut args = vec!["report", "--from", "-6", "--out", &pdf];
        args.extend_from_slice(extra);
        run_ok(&db, &args);
        tool("pdftotext", &["-layout", &pdf, "-"])
    };
    let empty = text_of(&[]);
    assert!(empty.contains("No side effects recorded in this range"), "{empty}");

    run_ok(
        &db,
        &[
            "side-effect",
            "--effect",
            "drowsiness",
            "--severity",
            "moderate",
            "--treatment",
            "Baclofen",
            "--at",
            "yesterday 21:00",
            "--note",
            "Sleepy after the\nevening dose",
        ],
    );
    run_ok(
        &db,
        &[
            "side-effect",
            "--effect",
            "drowsiness",
            "--severity",
            "severe",
            "--at",
            "yesterday 10:00",
        ],
    );
    run_ok(
        &db,
        &[
            "log",
            "spasm",
            "--kind",
            "cramp",
            "--at",
            "yesterday 03:00",
            "--note",
            "Woke me #strong[twice] $x$",
        ],
    );
    let text = text_of(&[]);
    assert!(text.contains("Side effects"), "{text}");
    assert!(!text.contains("No side effects recorded in this range"), "{text}");
    assert!(
        text.contains("2 recorded: drowsiness 2 (worst severe)"),
        "summary: {text}"
    );
    assert!(text.contains("Baclofen: 1"), "per suspected treatment: {text}");
    assert!(text.contains("no treatment named: 1"), "{text}");
    for private in ["Sleepy after", "Woke me", "Notes written by the patient"] {
        assert!(!text.contains(private), "{private:?} printed without --notes: {text}");
    }

    let with_notes = text_of(&["--notes"]);
    assert!(with_notes.contains("Notes written by the patient"), "{with_notes}");
    let lines: Vec<&str> = with_notes.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| *l == "Sleepy after the")
        .unwrap_or_else(|| panic!("the note keeps its line break: {with_notes}"));
    assert!(lines[at..].contains(&"evening dose"), "{with_notes}");
    assert!(
        with_notes.contains("Woke me #strong[twice] $x$"),
        "a note is printed as typed, never as markup: {with_notes}"
    );
    assert!(with_notes.contains("side effect") && with_notes.contains("episode"));
}

/// Words of each page as poppler places them: (page, xMin, yMin, xMax, yMax, text).
fn words(pdf: &str) -> Vec<(usize, f64, f64, f64, f64, String)> {
    let html = tool("pdftotext", &["-bbox", pdf, "-"]);
    let mut out = Vec::new();
    for (page, body) in html.split("<page ").skip(1).enumerate() {
        for w in body.split("<word ").skip(1) {
            let num = |name: &str| -> f64 {
                w.split(&format!("{name}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let text = w.split('>').nth(1).unwrap().split('<').next().unwrap().to_string();
            out.push((page, num("xMin"), num("yMin"), num("xMax"), num("yMax"), text));
        }
    }
    out
}

#[test]
fn chart_labels_never_overlap_and_the_pdf_is_pdfa() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    run_ok(&db, &["demo", "--days", "730", "--seed", "7"]);
    // Two MRIs two days apart, with long summaries: their labels must stack, not collide.
    let day = |offset: i64| (jiff::Zoned::now().date() - jiff::Span::new().days(offset)).to_string();
    for (region, date) in [("brain", day(100)), ("cervical-cord", day(98))] {
        let args = [
            "event",
            "mri",
            "--region",
            region,
            "--total",
            "12",
            "--new",
            "1",
            "--enhancing",
            "0",
            "--date",
            &date,
        ];
        run_ok(&db, &args);
    }
    let pdf = dir.path().join("report.pdf").display().to_string();
    run_ok(&db, &["report", "--from", "-729", "--out", &pdf]);

    let words = words(&pdf);
    assert!(
        words.iter().filter(|w| w.5 == "MRI").count() >= 6,
        "both MRI labels on all three event charts"
    );
    for month in ["Jan", "Mar", "Nov"] {
        assert!(words.iter().any(|w| w.5 == month), "month label {month} missing");
    }
    // A label cut at the chart edge ("Dec 202") leaves a year that is not four digits.
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for m in words.iter().filter(|w| months.contains(&w.5.as_str())) {
        let next = words
            .iter()
            .find(|w| w.0 == m.0 && (w.2 - m.2).abs() < 0.5 && w.1 > m.3 && w.1 - m.3 < 6.0);
        if let Some(year) = next.filter(|w| w.5.starts_with('2')) {
            assert!(
                year.5.len() == 4 && year.5.parse::<i32>().is_ok(),
                "cut label {} {}",
                m.5,
                year.5
            );
        }
    }
    // Poppler's boxes include ascent and descent, so neighbouring lines of a paragraph may
    // touch by a hair; labels set on top of each other overlap by far more.
    for (i, a) in words.iter().enumerate() {
        for b in &words[i + 1..] {
            let dx = a.3.min(b.3) - a.1.max(b.1);
            let dy = a.4.min(b.4) - a.2.max(b.2);
            assert!(a.0 != b.0 || dx <= 0.5 || dy <= 2.0, "{a:?} overlaps {b:?}");
        }
    }

    // PDF/A-2a: declared in the XMP metadata, every font embedded with a Unicode map.
    let meta = tool("pdfinfo", &["-meta", &pdf]);
    assert!(
        meta.contains("<pdfaid:part>2</pdfaid:part>") && meta.contains("<pdfaid:conformance>A</pdfaid:conformance>"),
        "no PDF/A-2a identification in {meta}"
    );
    let fonts = tool("pdffonts", &[&pdf]);
    for line in fonts.lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let n = cols.len();
        assert!(
            n >= 5 && cols[n - 5..n - 2] == ["yes", "yes", "yes"],
            "font not embedded with Unicode: {line}"
        );
    }
    let info = tool("pdfinfo", &[&pdf]);
    assert!(info.contains("Tagged:          yes"), "{info}");
}
