//! Tonus reports: SVG charts (shared with the web UI) and the clinician report as PDF.

mod axis;
pub mod cache;
pub mod charts;
pub mod data;
pub mod gather;
pub mod harms;
pub mod pdf;
pub mod pooled;
pub mod trial_calendar;
pub mod trials;

pub use cache::{DashboardKey, ReportCache};
pub use data::{build, DayCell, Notes, ReportData, ReportInput, Section, TrialSummary};
pub use gather::gather;
pub use pdf::{render_pdf, ReportError};
