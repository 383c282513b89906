//! Chart tests: layout measured from the SVG the way the layout measures it.

use super::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn unknown_days_are_gaps_not_zero() {
    let s = Series {
        name: "twitches".into(),
        color: "#1f77b4",
        points: vec![
            (d("2026-01-01"), Some(3.0)),
            (d("2026-01-02"), None),
            (d("2026-01-03"), Some(1.0)),
        ],
    };
    let svg = daily_chart(
        "t",
        d("2026-01-01"),
        d("2026-01-03"),
        &[s],
        None,
        &[],
        &[],
        &[d("2026-01-02")],
    );
    // Two separate sub-paths (two "M" moves) and no point drawn at zero for the gap.
    let path = svg.split("<path d=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(path.matches('M').count(), 2, "{path}");
    assert!(svg.contains("unknown day"));
}

#[test]
fn isolated_days_are_drawn_as_dots() {
    let s = Series {
        name: "pain".into(),
        color: "#e67e22",
        points: vec![
            (d("2026-01-01"), Some(3.0)),
            (d("2026-01-02"), Some(4.0)),
            (d("2026-01-03"), None),
            (d("2026-01-04"), Some(2.0)),
            (d("2026-01-05"), None),
        ],
    };
    let svg = daily_chart("t", d("2026-01-01"), d("2026-01-05"), &[s], None, &[], &[], &[]);
    // Days 1–2 form a line; day 4 stands alone and needs a dot to be seen at all.
    assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
}

/// Every `<text>` as (left, top, right, bottom, content), measured the way the layout
/// measures it.
fn text_boxes(svg: &str) -> Vec<(f64, f64, f64, f64, String)> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|t| {
            let tag = format!(" {}", t.split('>').next()?);
            let attr = |name: &str| {
                tag.split(&format!(" {name}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
            };
            let x: f64 = attr("x")?.parse().ok()?;
            let y: f64 = attr("y")?.parse().ok()?;
            let size: f64 = attr("font-size").map_or(Some(11.0), |s| s.parse().ok())?;
            let content = t.split('>').nth(1)?.split('<').next()?.to_string();
            let w = text_width(&content, size);
            let left = match attr("text-anchor") {
                Some("middle") => x - w / 2.0,
                Some("end") => x - w,
                _ => x,
            };
            Some((left, y - 0.75 * size, left + w, y + 0.2 * size, content))
        })
        .collect()
}

#[test]
fn no_label_touches_another_or_leaves_the_chart() {
    let from = d("2016-12-05");
    let to = d("2026-12-04");
    let days: Vec<Date> = (0..=(to - from).get_days())
        .map(|i| from.checked_add(jiff::Span::new().days(i)).unwrap())
        .collect();
    let series = |name: &str, k: f64| Series {
        name: name.into(),
        color: "#000",
        points: days
            .iter()
            .enumerate()
            .map(|(i, d)| (*d, Some((i as f64 * k) % 10.0)))
            .collect(),
    };
    let band = |from: &str, to: &str, label: &str, lane: &str| Band {
        from: d(from),
        to: d(to),
        label: label.into(),
        lane: lane.into(),
    };
    // Vitamin D runs through baclofen's start and a dose change: all three stay visible.
    let bands = [
        band("2016-01-01", "2026-12-04", "Vitamin D 20 µg", "Vitamin D"),
        band("2020-03-01", "2021-06-30", "Baclofen 10 mg", "Baclofen"),
        band("2021-07-01", "2026-12-04", "Baclofen 20 mg", "Baclofen"),
        band("2021-07-02", "2021-08-01", "Tizanidine 2 mg", "Tizanidine"),
    ];
    let markers: Vec<Marker> = ["2024-05-01", "2024-05-03", "2024-05-09", "2026-12-03"]
        .iter()
        .map(|on| Marker {
            on: d(on),
            label: format!("MRI: 2 new T2 lesions ({on})"),
            color: "#c0392b",
        })
        .collect();
    let svg = daily_chart(
        "Penn Spasm Frequency Scale: frequency 0–4 and severity 1–3",
        from,
        to,
        &[series("PSFS frequency", 0.37), series("PSFS severity", 0.11)],
        Some(10.0),
        &bands,
        &markers,
        &days[..30],
    );
    let boxes = text_boxes(&svg);
    for (i, a) in boxes.iter().enumerate() {
        assert!(a.0 >= 0.0 && a.2 <= WIDTH, "{a:?} leaves the chart");
        for b in &boxes[i + 1..] {
            let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
            assert!(apart, "{a:?} touches {b:?}");
        }
    }
    let shown: Vec<&str> = boxes.iter().map(|b| b.4.as_str()).collect();
    for label in [
        "2",
        "8",
        "10",
        "2017",
        "2026",
        "Vitamin D 20 µg",
        "Baclofen 10 mg",
        "Baclofen 20 mg",
        "Tizanidine 2 mg",
    ] {
        assert!(shown.contains(&label), "{label} missing from {shown:?}");
    }
    assert!(shown.iter().filter(|s| s.starts_with("MRI")).count() >= 3, "{shown:?}");
    // The chart says in words what it draws.
    assert!(
        svg.contains("<desc>Penn Spasm") && svg.contains("Vitamin D 20 µg from 2016-01-01"),
        "{svg}"
    );
}

#[test]
fn long_labels_are_cut_visibly() {
    assert_eq!(shorten("MRI brain", 48), "MRI brain");
    assert_eq!(shorten("MRI brain: 12 lesions", 10), "MRI brain…");
    assert_eq!(shorten("é".repeat(5).as_str(), 3), "éé…");
}

#[test]
fn text_is_escaped() {
    let svg = bar_chart("<script>", &[("a&b".into(), 2.0)], "#000");
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&lt;script&gt;") && svg.contains("a&amp;b"));
}

#[test]
fn nice_axis() {
    assert_eq!(nice_max(7.3), 10.0);
    assert_eq!(nice_max(1.2), 2.0);
    assert_eq!(nice_max(0.0), 1.0);
    assert_eq!(nice_max(45.0), 50.0);
}
