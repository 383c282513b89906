//! The dashboard: one view of a patient's record over a chosen range (charts with treatment
//! bands and event markers, a calendar that tells unknown days from spasm-free days, the
//! treatment history and clinical events). The patient sees it at /dashboard; a consented
//! clinician sees the same at /clinician/patients/{id}.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::{Date, Weekday};
use tonus_report::data::{EventRow, NoteRow, SideEffectRow, SuspectedTreatment, TreatmentRow};
use tonus_report::harms::HarmCount;
use tonus_report::{DayCell, ReportData, Section};

use super::exports::RangeQuery;
use super::{render, Nav};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::AppResult;
use crate::service::{exports, Own};
use crate::state::AppState;

/// Charts of the report shown on the dashboard, in order, with their headings.
pub(crate) const DASHBOARD_CHARTS: [(&str, &str); 4] = [
    ("counts", "Episodes per day"),
    ("scores", "Spasticity and pain"),
    ("psfs", "Penn Spasm Frequency Scale"),
    ("exercise", "Exercise load"),
];

/// Takes the named charts out of the report data, skipping any it did not draw.
pub(crate) fn take_charts(data: &mut ReportData, keys: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    keys.iter()
        .filter_map(|(key, title)| data.charts.remove(key).map(|svg| (*title, svg)))
        .collect()
}

/// One day in the calendar grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: String,
    pub day: i8,
    /// CSS class: `unknown`, `unknown-logged`, `zero` or `some-1`…`some-4` (by count).
    pub class: &'static str,
    /// What the cell shows: the count, "?" for an unknown day without entries.
    pub text: String,
    /// Full sentence for screen readers and the tooltip.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarMonth {
    pub title: String,
    /// Monday-first weeks; `None` pads days outside the range.
    pub weeks: Vec<Vec<Option<CalendarDay>>>,
}

fn calendar_day(cell: &DayCell) -> CalendarDay {
    let total = cell.involuntary + cell.stiffness;
    let date = cell.date.strftime("%A %-d %B %Y");
    let counts = format!(
        "{} involuntary movement{}, {} stiffness",
        cell.involuntary,
        if cell.involuntary == 1 { "" } else { "s" },
        cell.stiffness
    );
    let (class, text, label) = match (cell.confirmed, total) {
        (false, 0) => (
            "unknown",
            "?".to_string(),
            format!("{date}: unknown, day not confirmed"),
        ),
        (false, n) => (
            "unknown-logged",
            n.to_string(),
            format!("{date}: {counts} logged, day not confirmed (may be incomplete)"),
        ),
        (true, 0) => ("zero", "0".to_string(), format!("{date}: confirmed, no episodes")),
        (true, n) => (
            match n {
                1..=2 => "some-1",
                3..=5 => "some-2",
                6..=9 => "some-3",
                _ => "some-4",
            },
            n.to_string(),
            format!("{date}: confirmed, {counts}"),
        ),
    };
    CalendarDay {
        date: cell.date.to_string(),
        day: cell.date.day(),
        class,
        text,
        label,
    }
}

/// Lays the days out as month grids, Monday first. Days are expected in date order.
pub fn calendar(days: &[DayCell]) -> Vec<CalendarMonth> {
    let mut months: Vec<CalendarMonth> = Vec::new();
    let mut current: Option<(i16, i8)> = None;
    for cell in days {
        let d: Date = cell.date;
        if current != Some((d.year(), d.month())) {
            current = Some((d.year(), d.month()));
            months.push(CalendarMonth {
                title: d.strftime("%B %Y").to_string(),
                weeks: vec![vec![None; 7]],
            });
        }
        let Some(month) = months.last_mut() else {
            continue;
        };
        let column = usize::from(d.weekday().to_monday_zero_offset().unsigned_abs());
        if d.weekday() == Weekday::Monday && month.weeks.last().is_some_and(|w| w.iter().any(Option::is_some)) {
            month.weeks.push(vec![None; 7]);
        }
        if let Some(week) = month.weeks.last_mut() {
            week[column] = Some(calendar_day(cell));
        }
    }
    months
}

/// Everything the dashboard shows, ready for the template.
pub struct Dashboard {
    pub from: String,
    pub to: String,
    /// Where the range form submits (the page's own path).
    pub action: String,
    /// Calendar days link to that day's check-in (the patient's own dashboard only).
    pub checkin_links: bool,
    pub summary: Vec<(&'static str, String)>,
    pub charts: Vec<(&'static str, String)>,
    pub months: Vec<CalendarMonth>,
    pub treatments: Vec<TreatmentRow>,
    pub events: Vec<EventRow>,
    /// Side effects in range, oldest first, with their summaries.
    pub side_effects: Vec<SideEffectRow>,
    pub by_effect: Vec<HarmCount>,
    pub by_treatment: Vec<SuspectedTreatment>,
    /// Episode, check-in and side-effect notes, newest first, and how many more were left out.
    pub notes: Vec<NoteRow>,
    pub notes_more: usize,
    /// Where the report download goes (`/report.pdf`, or the clinician's path for the patient).
    pub report_action: String,
    pub notice: &'static str,
}

fn per_day(v: Option<f64>) -> String {
    v.map_or_else(|| "no confirmed days".to_string(), |x| format!("{x:.1}"))
}

fn mean_or_dash(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |x| format!("{x:.1}"))
}

impl Dashboard {
    pub fn from_report(mut data: ReportData, action: String) -> Self {
        let s = &data.summary;
        let summary = vec![
            ("Days confirmed complete", format!("{} of {}", s.confirmed_days, s.days)),
            (
                "Involuntary movements per confirmed day",
                per_day(s.involuntary_per_day),
            ),
            ("Stiffness episodes per confirmed day", per_day(s.stiffness_per_day)),
            (
                "Episodes logged (all days)",
                format!("{} involuntary, {} stiffness", s.involuntary_total, s.stiffness_total),
            ),
            ("Mean pain of episodes (0–10)", mean_or_dash(s.mean_episode_pain)),
            ("Mean spasticity NRS (0–10)", mean_or_dash(s.mean_spasticity_nrs)),
            (
                "Active treatments",
                if s.active_treatments.is_empty() {
                    "none recorded".to_string()
                } else {
                    s.active_treatments.join("; ")
                },
            ),
            ("Relapses in range", s.relapses.to_string()),
            ("Side effects", s.side_effects.clone()),
        ];
        let charts = take_charts(&mut data, &DASHBOARD_CHARTS);
        let side_effects = std::mem::take(&mut data.side_effects);
        let notes = std::mem::take(&mut data.notes);
        Dashboard {
            report_action: if action == "/dashboard" {
                "/report.pdf".to_string()
            } else {
                format!("{action}/report.pdf")
            },
            from: data.from.clone(),
            to: data.to.clone(),
            checkin_links: action == "/dashboard",
            action,
            summary,
            charts,
            months: calendar(&data.days),
            treatments: std::mem::take(&mut data.treatments),
            events: std::mem::take(&mut data.events),
            side_effects: side_effects.rows,
            by_effect: side_effects.by_effect,
            by_treatment: side_effects.by_treatment,
            notes: notes.rows,
            notes_more: notes.more,
            notice: data.notice,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    dash: Dashboard,
}

/// GET /dashboard: the patient's own dashboard.
pub async fn dashboard(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let data = exports::dashboard(&me, q.from.as_deref(), q.to.as_deref(), &Section::ALL).await?;
    let dash = Dashboard::from_report(data, "/dashboard".to_string());
    render(
        &DashboardPage {
            nav: Nav::new(Some(&pa.auth), &csrf),
            dash,
        },
        StatusCode::OK,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(date: &str, confirmed: bool, involuntary: usize, stiffness: usize) -> DayCell {
        DayCell {
            date: date.parse().unwrap(),
            confirmed,
            involuntary,
            stiffness,
        }
    }

    #[test]
    fn unknown_days_are_never_shown_as_zero() {
        assert_eq!(calendar_day(&cell("2026-11-02", false, 0, 0)).class, "unknown");
        assert_eq!(calendar_day(&cell("2026-11-02", false, 0, 0)).text, "?");
        assert_eq!(calendar_day(&cell("2026-11-02", true, 0, 0)).class, "zero");
        let logged = calendar_day(&cell("2026-11-02", false, 1, 2));
        assert_eq!((logged.class, logged.text.as_str()), ("unknown-logged", "3"));
        assert!(logged.label.contains("not confirmed"), "{}", logged.label);
        let busy = calendar_day(&cell("2026-11-02", true, 7, 3));
        assert_eq!(busy.class, "some-4");
        assert!(busy
            .label
            .starts_with("Monday 2 November 2026: confirmed, 7 involuntary movements, 3 stiffness"));
    }

    #[test]
    fn months_are_monday_first_grids() {
        // 2026-10-30 is a Friday; 2026-11-01 a Sunday; 2026-11-02 a Monday.
        let days: Vec<DayCell> = ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02", "2026-11-09"]
            .iter()
            .map(|d| cell(d, true, 0, 0))
            .collect();
        let months = calendar(&days);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].title, "October 2026");
        assert_eq!(months[0].weeks.len(), 1);
        assert_eq!(months[0].weeks[0][4].as_ref().map(|d| d.day), Some(30));
        assert_eq!(months[0].weeks[0][5].as_ref().map(|d| d.day), Some(31));
        assert!(months[0].weeks[0][6].is_none());
        let nov = &months[1];
        assert_eq!(nov.weeks.len(), 3, "Sunday 1st, then the weeks of the 2nd and the 9th");
        assert_eq!(nov.weeks[0][6].as_ref().map(|d| d.day), Some(1));
        assert_eq!(nov.weeks[1][0].as_ref().map(|d| d.day), Some(2));
        assert_eq!(nov.weeks[2][0].as_ref().map(|d| d.day), Some(9));
    }
}
