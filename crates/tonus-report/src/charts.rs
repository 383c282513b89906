//! Charts as self-contained SVG text: the same bytes go into the web page and the PDF.
//!
//! Hand-written rather than drawn with plotters (the architecture's first choice): plotters
//! needs a font backend to lay out text, which on a headless server means loading font files
//! at run time, while these charts only need a few lines, bars and labels whose text the
//! viewer (browser or typst) sets in its own fonts. Output is deterministic, so it can be
//! compared byte for byte.

use std::fmt::Write as _;

use jiff::civil::Date;

use crate::axis::{place_row, stack_rows, text_width, time_ticks, value_ticks, LABEL_GAP};

pub const WIDTH: f64 = 720.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
/// Where the bar chart's rows start, below its title.
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

/// A treatment period, drawn as a bar in its treatment's lane above the plot.
#[derive(Debug, Clone)]
pub struct Band {
    pub from: Date,
    pub to: Date,
    pub label: String,
    /// Periods with the same lane (one treatment at different doses) share a row.
    pub lane: String,
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

/// `desc` is the chart in words: screen readers read it on the web and the PDF carries it as
/// the image's alternative text.
fn header(out: &mut String, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.1}" width="{WIDTH}" height="{height:.1}" font-family="{FONT}" font-size="11" role="img" aria-label="{t}"><title>{t}</title><desc>{d}</desc><rect width="{WIDTH}" height="{height:.1}" fill="white"/><text x="{LEFT}" y="16" font-size="13" font-weight="bold">{t}</text>"#,
        t = esc(title),
        d = esc(desc),
    );
}

/// Rows above the plot, top to bottom: the legend, one lane per treatment, then the labels
/// of dated events, each on the first row where it touches no other.
struct Layout {
    legend: Vec<(f64, f64)>,
    lanes: Vec<String>,
    lanes_top: f64,
    marks_top: f64,
    mark_rows: Vec<Option<usize>>,
    mark_left: Vec<f64>,
    plot_top: f64,
}

const LEGEND_Y: f64 = 32.0;
const ROW: f64 = 14.0;
const LANE_H: f64 = 12.0;
const MARK_ROW_H: f64 = 11.0;
const MAX_MARK_ROWS: usize = 3;
const PLOT_H: f64 = 180.0;
const SMALL: f64 = 9.0;

fn layout(series: &[Series], bands: &[&Band], markers: &[&Marker], x: &dyn Fn(Date) -> f64) -> Layout {
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (LEFT, LEGEND_Y);
    for s in series {
        let w = 13.0 + text_width(&s.name, 10.0);
        if lx > LEFT && lx + w > WIDTH - RIGHT {
            (lx, ly) = (LEFT, ly + ROW);
        }
        legend.push((lx, ly));
        lx += w + 14.0;
    }
    let mut lanes: Vec<String> = Vec::new();
    for b in bands {
        if !lanes.contains(&b.lane) {
            lanes.push(b.lane.clone());
        }
    }
    let lanes_top = ly + 6.0;
    let marks_top = lanes_top + LANE_H * lanes.len() as f64 + 2.0;
    // A label starts just right of its line, or ends just left of it near the right edge,
    // so its own line never runs through it.
    let mark_left: Vec<f64> = markers
        .iter()
        .map(|m| {
            let (xx, w) = (x(m.on), text_width(&m.label, SMALL));
            if xx + 2.0 + w > WIDTH - RIGHT {
                (xx - 2.0 - w).max(0.0)
            } else {
                xx + 2.0
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..markers.len()).collect();
    order.sort_by(|a, b| mark_left[*a].total_cmp(&mark_left[*b]));
    let wanted: Vec<(f64, f64)> = order
        .iter()
        .map(|i| (mark_left[*i], text_width(&markers[*i].label, SMALL)))
        .collect();
    let mut mark_rows = vec![None; markers.len()];
    for (i, row) in order.iter().zip(stack_rows(&wanted, MAX_MARK_ROWS)) {
        mark_rows[*i] = row;
    }
    let rows_used = mark_rows.iter().flatten().map(|r| r + 1).max().unwrap_or(0);
    Layout {
        legend,
        lanes,
        lanes_top,
        marks_top,
        mark_rows,
        mark_left,
        plot_top: marks_top + MARK_ROW_H * rows_used as f64 + 4.0,
    }
}

/// Daily lines over `from..=to` with treatment periods as lanes above the plot (so periods
/// that overlap never hide each other), event markers, and a strip along the bottom marking
/// unknown (unconfirmed) days.
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
    let plot_w = WIDTH - LEFT - RIGHT;
    let span = days_between(from, to).max(1.0);
    let x = |d: Date| LEFT + plot_w * days_between(from, d).clamp(0.0, span) / span;
    let bands: Vec<&Band> = bands.iter().filter(|b| b.to >= from && b.from <= to).collect();
    let mut markers: Vec<&Marker> = markers.iter().filter(|m| m.on >= from && m.on <= to).collect();
    markers.sort_by_key(|m| m.on);
    let lay = layout(series, &bands, &markers, &x);
    let plot_top = lay.plot_top;
    let plot_bottom = plot_top + PLOT_H;
    let height = plot_bottom + BOTTOM;
    let data_max = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .fold(0.0f64, f64::max);
    let top = y_max.unwrap_or_else(|| nice_max(data_max));
    let y = |v: f64| plot_top + PLOT_H * (1.0 - (v / top).clamp(0.0, 1.0));
    let mut out = String::new();
    header(
        &mut out,
        height,
        title,
        &describe_daily(title, from, to, series, &bands, &markers, unknown),
    );

    for (s, (lx, ly)) in series.iter().zip(&lay.legend) {
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{ry:.1}" width="10" height="4" fill="{c}"/><text x="{tx:.1}" y="{ly:.1}" font-size="10">{n}</text>"#,
            ry = ly - 6.0,
            c = s.color,
            n = esc(&s.name),
            tx = lx + 13.0,
        );
    }
    let mut lane_label_end = vec![f64::NEG_INFINITY; lay.lanes.len()];
    for b in &bands {
        let lane = lay.lanes.iter().position(|l| *l == b.lane).unwrap_or(0);
        let color = BAND_COLORS[lane % BAND_COLORS.len()];
        let (x0, x1) = (x(b.from.max(from)), x(b.to.min(to)));
        let yy = lay.lanes_top + LANE_H * lane as f64;
        let _ = write!(
            out,
            r#"<rect x="{x0:.1}" y="{yy:.1}" width="{w:.1}" height="{h}" fill="{color}"><title>{l}</title></rect>"#,
            w = (x1 - x0).max(1.0),
            h = LANE_H - 2.0,
            l = esc(&b.label),
        );
        let width = text_width(&b.label, SMALL);
        let left = (x0 + 2.0).min(WIDTH - RIGHT - width).max(0.0);
        if left >= lane_label_end[lane] + LABEL_GAP {
            lane_label_end[lane] = left + width;
            let _ = write!(
                out,
                r##"<text x="{left:.1}" y="{ty:.1}" font-size="{SMALL}" fill="#333">{l}</text>"##,
                ty = yy + LANE_H - 3.5,
                l = esc(&b.label),
            );
        }
    }
    for (v, label) in value_ticks(top) {
        let yy = y(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#333">{label}</text>"##,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 4.0,
            ty = yy + 4.0,
        );
    }
    let ticks = time_ticks(from, to, plot_w, SMALL);
    let wanted: Vec<(f64, f64)> = ticks.iter().map(|(d, l)| (x(*d), text_width(l, SMALL))).collect();
    for (((d, label), centre), (xx, _)) in ticks.iter().zip(place_row(&wanted, 2.0, WIDTH - 2.0)).zip(&wanted) {
        let _ = write!(
            out,
            r##"<line x1="{xx:.1}" y1="{plot_bottom:.1}" x2="{xx:.1}" y2="{b2:.1}" stroke="#666"><title>{d}</title></line>"##,
            b2 = plot_bottom + 4.0,
        );
        if let Some(cx) = centre {
            let _ = write!(
                out,
                r##"<text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" fill="#333" font-size="{SMALL}">{label}</text>"##,
                ty = plot_bottom + 15.0,
            );
        }
    }
    let baseline = |row: &Option<usize>| row.map(|r| lay.marks_top + MARK_ROW_H * (r + 1) as f64 - 2.0);
    for (m, row) in markers.iter().zip(&lay.mark_rows) {
        let xx = x(m.on);
        let _ = write!(
            out,
            r#"<line x1="{xx:.1}" y1="{y1:.1}" x2="{xx:.1}" y2="{plot_bottom:.1}" stroke="{c}" stroke-width="1.5" stroke-dasharray="4 2"><title>{l}</title></line>"#,
            y1 = baseline(row).map_or(plot_top, |b| b - 8.0),
            c = m.color,
            l = esc(&m.label),
        );
    }
    // Labels after every line, on a white halo, so another event's line never hides one.
    for ((m, row), left) in markers.iter().zip(&lay.mark_rows).zip(&lay.mark_left) {
        if let Some(b) = baseline(row) {
            let _ = write!(
                out,
                r#"<text x="{left:.1}" y="{b:.1}" font-size="{SMALL}" fill="{c}" stroke="white" stroke-width="3" paint-order="stroke">{l}</text>"#,
                c = m.color,
                l = esc(&m.label),
            );
        }
    }
    // Unknown days: a grey tick each, so a gap is visibly "not known", not "none".
    for u in unknown.iter().filter(|u| **u >= from && **u <= to) {
        let xx = x(*u);
        let _ = write!(
            out,
            r##"<rect x="{x0:.1}" y="{yy:.1}" width="{w:.1}" height="4" fill="#999"/>"##,
            x0 = xx - 0.5 * (plot_w / span).max(1.0),
            w = (plot_w / span).max(1.0),
            yy = plot_bottom + 1.0,
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

/// At most `max` characters, with an ellipsis when something was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The chart in words: what each line averages and peaks at, the treatment periods and the
/// events, so a reader who cannot see the picture loses nothing the picture shows.
fn describe_daily(
    title: &str,
    from: Date,
    to: Date,
    series: &[Series],
    bands: &[&Band],
    markers: &[&Marker],
    unknown: &[Date],
) -> String {
    let mut text = format!("{title}, {from} to {to}.");
    for s in series {
        let known: Vec<(Date, f64)> = s
            .points
            .iter()
            .filter(|(d, _)| *d >= from && *d <= to)
            .filter_map(|(d, v)| v.map(|v| (*d, v)))
            .collect();
        match known.iter().copied().reduce(|a, b| if b.1 > a.1 { b } else { a }) {
            Some((peak_day, peak)) => {
                let mean = known.iter().map(|p| p.1).sum::<f64>() / known.len() as f64;
                let _ = write!(
                    text,
                    " {}: mean {mean:.1} over {} known days, highest {} on {peak_day}.",
                    s.name,
                    known.len(),
                    number(peak)
                );
            }
            None => {
                let _ = write!(text, " {}: no known days.", s.name);
            }
        }
    }
    if !bands.is_empty() {
        let periods: Vec<String> = bands
            .iter()
            .map(|b| format!("{} from {} to {}", b.label, b.from, b.to))
            .collect();
        let _ = write!(text, " Treatment periods: {}.", periods.join("; "));
    }
    if !markers.is_empty() {
        let events: Vec<String> = markers.iter().map(|m| format!("{} on {}", m.label, m.on)).collect();
        let _ = write!(text, " Events: {}.", events.join("; "));
    }
    let unknown = unknown.iter().filter(|u| **u >= from && **u <= to).count();
    if unknown > 0 {
        let _ = write!(text, " {unknown} days not confirmed (unknown, not zero).");
    }
    text
}

/// Horizontal bars, one per label (region counts, hours of the day…).
pub fn bar_chart(title: &str, bars: &[(String, f64)], color: &str) -> String {
    let row = 16.0;
    let height = TOP + row * bars.len().max(1) as f64 + 12.0;
    let label_w = 130.0;
    let plot_w = WIDTH - label_w - RIGHT - 40.0;
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-9);
    let mut out = String::new();
    let desc: Vec<String> = bars.iter().map(|(l, v)| format!("{l}: {}", number(*v))).collect();
    header(&mut out, height, title, &format!("{title}. {}.", desc.join(", ")));
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
            v = number(*v),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
#[path = "charts_tests.rs"]
mod tests;
