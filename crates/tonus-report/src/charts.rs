//! Charts as self-contained SVG text: the same bytes go into the web page and the PDF.
//!
//! Hand-written rather than drawn with plotters (the architecture's first choice): plotters
//! needs a font backend to lay out text, which on a headless server means loading font files
//! at run time, while these charts only need a few lines, bars and labels whose text the
//! viewer (browser or typst) sets in its own fonts. Output is deterministic, so it can be
//! compared byte for byte.

use std::fmt::Write as _;

use jiff::civil::Date;

pub const WIDTH: f64 = 720.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 30.0;
const FONT: &str = "DejaVu Sans Mono, Libertinus Serif, sans-serif";

/// A daily series; `None` marks an unknown day (drawn as a gap, never as zero).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(Date, Option<f64>)>,
}

/// A shaded date range (a treatment period).
#[derive(Debug, Clone)]
pub struct Band {
    pub from: Date,
    pub to: Date,
    pub label: String,
}

/// A dated event drawn as a vertical line (MRI, relapse, diagnosis).
#[derive(Debug, Clone)]
pub struct Marker {
    pub on: Date,
    pub label: String,
    pub color: &'static str,
}

pub const BAND_COLORS: [&str; 4] = ["#cfe8cf", "#cfdcf0", "#f3e1c7", "#e6d3ec"];

/// Escapes text for SVG/XML.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn days_between(a: Date, b: Date) -> f64 {
    (b - a).get_days() as f64
}

/// A "nice" axis maximum: 1, 2 or 5 × a power of ten, at least `max`.
fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let exp = max.log10().floor();
    let base = 10f64.powf(exp);
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * base >= max {
            return m * base;
        }
    }
    10.0 * base
}

fn header(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="{FONT}" font-size="11" role="img" aria-label="{t}"><title>{t}</title><rect width="{WIDTH}" height="{height}" fill="white"/><text x="{LEFT}" y="16" font-size="13" font-weight="bold">{t}</text>"#,
        t = esc(title)
    );
}

/// Daily lines over `from..=to` with treatment bands, event markers, and a strip along the
/// bottom marking unknown (unconfirmed) days.
#[allow(clippy::too_many_arguments)] // each is one independent layer of the chart
pub fn daily_chart(
    title: &str,
    from: Date,
    to: Date,
    series: &[Series],
    y_max: Option<f64>,
    bands: &[Band],
    markers: &[Marker],
    unknown: &[Date],
) -> String {
    let height = 240.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = height - TOP - BOTTOM;
    let span = days_between(from, to).max(1.0);
    let x = |d: Date| LEFT + plot_w * days_between(from, d).clamp(0.0, span) / span;
    let data_max = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .fold(0.0f64, f64::max);
    let top = y_max.unwrap_or_else(|| nice_max(data_max));
    let y = |v: f64| TOP + plot_h * (1.0 - (v / top).clamp(0.0, 1.0));
    let mut out = String::new();
    header(&mut out, height, title);

    for (i, b) in bands.iter().enumerate() {
        if b.to < from || b.from > to {
            continue;
        }
        let (x0, x1) = (x(b.from.max(from)), x(b.to.min(to)));
        let _ = write!(
            out,
            r##"<rect x="{x0:.1}" y="{TOP}" width="{w:.1}" height="{plot_h}" fill="{c}" opacity="0.7"><title>{l}</title></rect><text x="{tx:.1}" y="{ty:.1}" font-size="9" fill="#444">{l}</text>"##,
            w = (x1 - x0).max(1.0),
            c = BAND_COLORS[i % BAND_COLORS.len()],
            l = esc(&b.label),
            tx = x0 + 2.0,
            ty = TOP + 10.0 + 10.0 * (i % 3) as f64,
        );
    }
    // Axes and grid.
    for k in 0..=4 {
        let v = top * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#333">{label}</text>"##,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 4.0,
            ty = yy + 4.0,
            label = if top >= 5.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            },
        );
    }
    // Month ticks (or weekly ticks for short ranges).
    let mut d = from;
    let step_days = if span > 120.0 { 0 } else { 7 };
    while d <= to {
        let is_tick = if step_days == 0 {
            d.day() == 1
        } else {
            days_between(from, d) as i64 % step_days == 0
        };
        if is_tick {
            let xx = x(d);
            let label = if step_days == 0 {
                d.strftime("%b %Y").to_string()
            } else {
                d.strftime("%d %b").to_string()
            };
            let _ = write!(
                out,
                r##"<line x1="{xx:.1}" y1="{b}" x2="{xx:.1}" y2="{b2}" stroke="#666"/><text x="{xx:.1}" y="{ty}" text-anchor="middle" fill="#333" font-size="9">{label}</text>"##,
                b = TOP + plot_h,
                b2 = TOP + plot_h + 4.0,
                ty = TOP + plot_h + 15.0,
            );
        }
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    for m in markers.iter().filter(|m| m.on >= from && m.on <= to) {
        let xx = x(m.on);
        let _ = write!(
            out,
            r#"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{b}" stroke="{c}" stroke-width="1.5" stroke-dasharray="4 2"><title>{l}</title></line><text x="{tx:.1}" y="{ty}" font-size="9" fill="{c}">{l}</text>"#,
            b = TOP + plot_h,
            c = m.color,
            l = esc(&m.label),
            tx = xx + 2.0,
            ty = TOP + plot_h - 4.0,
        );
    }
    // Unknown days: a grey tick each, so a gap is visibly "not known", not "none".
    for u in unknown.iter().filter(|u| **u >= from && **u <= to) {
        let xx = x(*u);
        let _ = write!(
            out,
            r##"<rect x="{x0:.1}" y="{yy}" width="{w:.1}" height="4" fill="#999"/>"##,
            x0 = xx - 0.5 * (plot_w / span).max(1.0),
            w = (plot_w / span).max(1.0),
            yy = TOP + plot_h + 1.0,
        );
    }
    for s in series {
        let mut path = String::new();
        let mut dots = String::new();
        let mut pen_down = false;
        let known = |i: usize| {
            s.points
                .get(i)
                .is_some_and(|(d, v)| v.is_some() && *d >= from && *d <= to)
        };
        for (i, (d, v)) in s.points.iter().enumerate() {
            match v {
                Some(v) if known(i) => {
                    let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(*d), y(*v));
                    pen_down = true;
                    // A day between two unknown ones has no line to sit on: draw it as a dot.
                    let joined_before = i > 0 && known(i - 1);
                    if !joined_before && !known(i + 1) {
                        let _ = write!(
                            dots,
                            r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"#,
                            x(*d),
                            y(*v),
                            s.color
                        );
                    }
                }
                _ => pen_down = false,
            }
        }
        let _ = write!(
            out,
            r#"<path d="{p}" fill="none" stroke="{c}" stroke-width="1.4" stroke-linejoin="round"><title>{n}</title></path>{dots}"#,
            p = path.trim_end(),
            c = s.color,
            n = esc(&s.name),
        );
    }
    // Legend.
    let mut lx = WIDTH - RIGHT - 10.0;
    for s in series.iter().rev() {
        let w = 12.0 + 6.5 * s.name.chars().count() as f64;
        lx -= w + 10.0;
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="8" width="10" height="4" fill="{c}"/><text x="{tx:.1}" y="14" font-size="10">{n}</text>"#,
            c = s.color,
            n = esc(&s.name),
            tx = lx + 13.0,
        );
    }
    if !unknown.is_empty() {
        let _ = write!(
            out,
            r##"<rect x="{LEFT}" y="{y0}" width="10" height="4" fill="#999"/><text x="{tx}" y="{ty}" font-size="9" fill="#555">unknown day (not confirmed)</text>"##,
            y0 = height - 7.0,
            tx = LEFT + 13.0,
            ty = height - 2.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one per label (region counts, hours of the day…).
pub fn bar_chart(title: &str, bars: &[(String, f64)], color: &str) -> String {
    let row = 16.0;
    let height = TOP + row * bars.len().max(1) as f64 + 12.0;
    let label_w = 130.0;
    let plot_w = WIDTH - label_w - RIGHT - 40.0;
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-9);
    let mut out = String::new();
    header(&mut out, height, title);
    for (i, (label, v)) in bars.iter().enumerate() {
        let yy = TOP + row * i as f64;
        let w = plot_w * v / max;
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ty:.1}" text-anchor="end" fill="#333">{l}</text><rect x="{bx}" y="{by:.1}" width="{w:.1}" height="{h}" fill="{color}"/><text x="{vx:.1}" y="{ty:.1}" fill="#333">{v}</text>"##,
            lx = label_w - 6.0,
            ty = yy + 11.0,
            l = esc(label),
            bx = label_w,
            by = yy + 2.0,
            h = row - 4.0,
            vx = label_w + w + 4.0,
            v = if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            },
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
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
}
