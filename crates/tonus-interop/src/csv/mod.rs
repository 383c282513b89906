//! CSV: one file per record type, with a header naming the columns (docs/csv.md). The
//! header tells an importer which record type a file holds, so files can be imported in any
//! order and with any column order; unknown columns are refused rather than ignored, so a
//! misspelt column never silently drops data. Cells a spreadsheet would run as a formula
//! are written with a leading apostrophe and read back without it (cells.rs).

mod cells;
mod read;
mod write;

pub use read::{read, resolve_doses, unknown_regimen, unknown_treatment, Import, Record, Rows};
pub use write::{write, write_all, write_styled, Style};

/// The record types, one CSV layout each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Treatments and their regimens (one row per regimen).
    Treatments,
    Episodes,
    Checkins,
    Doses,
    Exercise,
    Events,
    /// Side effects; after treatments, whose names they may give as the suspected one.
    SideEffects,
}

impl Kind {
    /// Import order: treatments before doses, which refer to their regimens, and before
    /// side effects, which may name one as suspected.
    pub const ALL: [Kind; 7] = [
        Kind::Treatments,
        Kind::Episodes,
        Kind::Checkins,
        Kind::Doses,
        Kind::Exercise,
        Kind::Events,
        Kind::SideEffects,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Treatments => "treatments",
            Kind::Episodes => "episodes",
            Kind::Checkins => "checkins",
            Kind::Doses => "doses",
            Kind::Exercise => "exercise",
            Kind::Events => "events",
            Kind::SideEffects => "side-effects",
        }
    }

    /// The file name an export of all types uses.
    pub fn file_name(self) -> String {
        format!("{}.csv", self.code())
    }

    /// Every column, in the order exports write them. `uid`, the record's identity (issue
    /// #13), comes last so readers of the older layout keep working; it is optional.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Episodes => &[
                "started_at",
                "time_zone",
                "kind",
                "family",
                "regions",
                "pain",
                "duration_s",
                "triggers",
                "trigger_note",
                "notes",
                "recorded_at",
                "uid",
            ],
            Kind::Checkins => &[
                "date",
                "spasticity_nrs",
                "pain_nrs",
                "psfs_frequency",
                "psfs_severity",
                "night_wakings",
                "log_complete",
                "note",
                "uid",
            ],
            Kind::Treatments => &[
                "treatment",
                "category",
                "treatment_notes",
                "dose",
                "unit",
                "route",
                "schedule",
                "start",
                "end",
                "treatment_uid",
                "uid",
            ],
            Kind::Doses => &["treatment", "regimen_start", "at", "time_zone", "status", "note", "uid"],
            Kind::Exercise => &["at", "time_zone", "type", "minutes", "exertion", "note", "uid"],
            Kind::Events => &[
                "kind",
                "date",
                "until",
                "mri_region",
                "lesions_total",
                "lesions_new",
                "lesions_enhancing",
                "name",
                "summary",
                "uid",
            ],
            Kind::SideEffects => &[
                "at",
                "time_zone",
                "effect",
                "description",
                "severity",
                "suspected_treatment",
                "note",
                "uid",
            ],
        }
    }

    /// Columns a file of this type must have; the others may be left out.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Episodes => &["started_at", "kind"],
            Kind::Checkins => &["date"],
            Kind::Treatments => &["treatment", "category"],
            Kind::Doses => &["treatment", "regimen_start", "at", "status"],
            Kind::Exercise => &["at", "type", "minutes", "exertion"],
            Kind::Events => &["kind", "date"],
            Kind::SideEffects => &["at", "effect", "severity"],
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The type whose required columns are all present and which knows every column given.
    pub fn detect(header: &[&str]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.required().iter().all(|r| header.contains(r)) && header.iter().all(|h| k.columns().contains(h)))
    }
}
