//! Where ticks go, what they say, and where labels can sit without touching each other.
//! Pure geometry, tested apart from the SVG it feeds.

use jiff::civil::Date;
use jiff::ToSpan;

/// Smallest gap, in px, kept between two labels on one row.
pub const LABEL_GAP: f64 = 6.0;

/// An upper bound on the width of `text` set at `size` px. The PDF sets chart text in
/// DejaVu Sans Mono (0.602 em a glyph); a browser without it falls back to a proportional
/// font, which is narrower, so a monospace advance with a little slack bounds both. Glyphs
/// from three-byte UTF-8 and beyond (CJK, most emoji) are counted a full em.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| if c.len_utf8() >= 3 { 1.0 } else { 0.62 })
        .sum::<f64>()
        * size
}

/// Ticks for a value axis from 0 to `top`: a round step (1, 2, 2.5 or 5 × 10ⁿ) giving at
/// most six intervals, every label with exactly the decimals its value needs, so 2.5 reads
/// "2.5" and never "2".
pub fn value_ticks(top: f64) -> Vec<(f64, String)> {
    let top = if top.is_finite() && top > 0.0 { top } else { 1.0 };
    let exp = top.log10().floor() as i32;
    let step = (exp - 2..=exp + 1)
        .flat_map(|e| [1.0, 2.0, 2.5, 5.0].map(|m| m * 10f64.powi(e)))
        .find(|step| top / step <= 6.0 + 1e-9)
        .unwrap_or(top);
    let values: Vec<f64> = (0..)
        .map(|k| f64::from(k) * step)
        .take_while(|v| *v <= top * (1.0 + 1e-9))
        .collect();
    let decimals = (0..=6)
        .find(|d| {
            let scale = 10f64.powi(*d);
            values.iter().all(|v| ((v * scale).round() - v * scale).abs() < 1e-6)
        })
        .unwrap_or(6) as usize;
    values.into_iter().map(|v| (v, format!("{v:.decimals$}"))).collect()
}

/// How far apart time ticks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Every {
    Days(i64),
    Weeks(i64),
    Months(i8),
    Years(i16),
}

const GRAINS: [Every; 11] = [
    Every::Days(1),
    Every::Weeks(1),
    Every::Weeks(2),
    Every::Months(1),
    Every::Months(2),
    Every::Months(3),
    Every::Months(6),
    Every::Years(1),
    Every::Years(2),
    Every::Years(5),
    Every::Years(10),
];

fn ticks_every(every: Every, from: Date, to: Date) -> Vec<(Date, String)> {
    let mut out = Vec::new();
    let mut push = |d: Date, label: String| {
        if d >= from && d <= to {
            out.push((d, label));
        }
    };
    match every {
        Every::Days(n) | Every::Weeks(n) => {
            let start = if matches!(every, Every::Weeks(_)) {
                let to_monday = (7 - i64::from(from.weekday().to_monday_zero_offset())) % 7;
                from.checked_add(to_monday.days()).unwrap_or(from)
            } else {
                from
            };
            let step = if matches!(every, Every::Weeks(_)) { 7 * n } else { n };
            let mut d = start;
            while d <= to {
                push(d, d.strftime("%-d %b").to_string());
                match d.checked_add(step.days()) {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        }
        Every::Months(n) => {
            let mut d = from.first_of_month();
            let mut first = true;
            while d <= to {
                if (d.month() - 1) % n == 0 {
                    // The year is written where it starts and on the first label, so a reader
                    // always knows which year a month belongs to.
                    let with_year = first || d.month() == 1;
                    if d >= from {
                        first = false;
                    }
                    push(d, d.strftime(if with_year { "%b %Y" } else { "%b" }).to_string());
                }
                match d.checked_add(1.month()) {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        }
        Every::Years(n) => {
            let mut year = from.year();
            while year <= to.year() {
                if year % n == 0 {
                    if let Ok(d) = Date::new(year, 1, 1) {
                        push(d, year.to_string());
                    }
                }
                year += 1;
            }
        }
    }
    out
}

/// Date ticks for `from..=to` drawn `plot_w` px wide with labels of `font` px: the finest
/// grain (days, weeks, months, years) whose neighbouring labels never touch, weeks starting
/// on Monday, months on the 1st, years on 1 January.
pub fn time_ticks(from: Date, to: Date, plot_w: f64, font: f64) -> Vec<(Date, String)> {
    let span = (to - from).get_days().max(1) as f64;
    let px_per_day = plot_w / span;
    let fits = |ticks: &[(Date, String)]| {
        ticks.windows(2).all(|pair| {
            let apart = (pair[1].0 - pair[0].0).get_days() as f64 * px_per_day;
            let needed = (text_width(&pair[0].1, font) + text_width(&pair[1].1, font)) / 2.0;
            apart >= needed + LABEL_GAP
        })
    };
    GRAINS
        .iter()
        .map(|every| ticks_every(*every, from, to))
        .find(|ticks| fits(ticks))
        .unwrap_or_default()
}

/// Centres for labels on one row, each wanted at `(centre, width)` in left-to-right order:
/// moved inside `lo..=hi` when they would stick out (so "Dec 2026" is never cut to
/// "Dec 202"), and `None` for a label that would then touch the one before it.
pub fn place_row(wanted: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Option<f64>> {
    let mut right_edge = f64::NEG_INFINITY;
    wanted
        .iter()
        .map(|(centre, width)| {
            let half = width / 2.0;
            let centre = centre.min(hi - half).max(lo + half);
            if centre - half < right_edge + LABEL_GAP {
                return None;
            }
            right_edge = centre + half;
            Some(centre)
        })
        .collect()
}

/// Rows for left-anchored labels wanted at `(left, width)`: each goes on the first row where
/// it clears the label before it, or `None` once `max_rows` are full.
pub fn stack_rows(wanted: &[(f64, f64)], max_rows: usize) -> Vec<Option<usize>> {
    let mut ends: Vec<f64> = Vec::new();
    wanted
        .iter()
        .map(|(left, width)| {
            let row = ends.iter().position(|end| *left >= end + LABEL_GAP);
            match row {
                Some(r) => {
                    ends[r] = left + width;
                    Some(r)
                }
                None if ends.len() < max_rows => {
                    ends.push(left + width);
                    Some(ends.len() - 1)
                }
                None => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Weekday;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn labels(ticks: &[(f64, String)]) -> Vec<&str> {
        ticks.iter().map(|t| t.1.as_str()).collect()
    }

    #[test]
    fn value_labels_carry_the_decimals_they_need() {
        assert_eq!(labels(&value_ticks(10.0)), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(labels(&value_ticks(4.0)), ["0", "1", "2", "3", "4"]);
        assert_eq!(labels(&value_ticks(2.0)), ["0.0", "0.5", "1.0", "1.5", "2.0"]);
        assert_eq!(labels(&value_ticks(1.0)), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(
            labels(&value_ticks(15.0)),
            ["0.0", "2.5", "5.0", "7.5", "10.0", "12.5", "15.0"]
        );
        assert_eq!(labels(&value_ticks(0.0)), labels(&value_ticks(1.0)));
        assert_eq!(labels(&value_ticks(f64::NAN)), labels(&value_ticks(1.0)));
        // Every label reads back as its own value, whatever the top.
        for top in [0.3, 0.7, 3.0, 7.0, 12.0, 45.0, 123.0, 5000.0, 0.015] {
            let ticks = value_ticks(top);
            assert!((2..=7).contains(&ticks.len()), "{top}: {ticks:?}");
            for (v, l) in ticks {
                assert!((l.parse::<f64>().unwrap() - v).abs() < 1e-9, "{top}: {v} as {l}");
            }
        }
    }

    #[test]
    fn time_ticks_coarsen_with_the_span_and_never_touch() {
        let week = time_ticks(d("2026-03-01"), d("2026-03-07"), 660.0, 9.0);
        assert_eq!(week.len(), 7, "{week:?}");
        let quarter = time_ticks(d("2026-01-01"), d("2026-03-31"), 660.0, 9.0);
        assert!(
            quarter.iter().all(|(d, _)| d.weekday() == Weekday::Monday),
            "{quarter:?}"
        );
        let year = time_ticks(d("2025-12-05"), d("2026-12-04"), 660.0, 9.0);
        assert!(year.iter().all(|(d, _)| d.day() == 1), "{year:?}");
        assert_eq!(year.len(), 12, "{year:?}");
        assert_eq!((year[0].1.as_str(), year[11].1.as_str()), ("Jan 2026", "Dec"));
        let decade = time_ticks(d("2016-12-05"), d("2026-12-04"), 660.0, 9.0);
        assert!(decade
            .iter()
            .all(|(d, l)| d.month() == 1 && d.day() == 1 && l.len() == 4));
        assert!(decade.len() >= 5, "{decade:?}");
        for (from, to) in [
            ("2026-01-01", "2026-01-02"),
            ("2020-02-29", "2026-12-31"),
            ("1990-01-01", "2026-12-31"),
        ] {
            let ticks = time_ticks(d(from), d(to), 660.0, 9.0);
            assert!(!ticks.is_empty(), "{from}..{to}");
            let px = |x: Date| 660.0 * (x - d(from)).get_days() as f64 / (d(to) - d(from)).get_days() as f64;
            for pair in ticks.windows(2) {
                let room = px(pair[1].0) - px(pair[0].0);
                let need = (text_width(&pair[0].1, 9.0) + text_width(&pair[1].1, 9.0)) / 2.0;
                assert!(room >= need, "{pair:?} in {from}..{to}");
            }
        }
    }

    #[test]
    fn labels_are_kept_inside_and_apart() {
        let placed = place_row(&[(2.0, 40.0), (30.0, 40.0), (100.0, 40.0), (719.0, 40.0)], 0.0, 720.0);
        assert_eq!(placed, [Some(20.0), None, Some(100.0), Some(700.0)]);
    }

    #[test]
    fn stacked_labels_use_the_first_free_row() {
        let rows = stack_rows(&[(0.0, 50.0), (20.0, 50.0), (60.0, 10.0), (30.0, 10.0), (35.0, 5.0)], 2);
        assert_eq!(rows, [Some(0), Some(1), Some(0), None, None]);
    }

    #[test]
    fn wide_glyphs_count_wider() {
        assert!(text_width("頭痛", 10.0) > text_width("ab", 10.0));
        assert_eq!(text_width("", 10.0), 0.0);
    }
}
