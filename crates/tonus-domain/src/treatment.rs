//! Treatments (what), regimens (how much, how, how often, from when to when) and the dose log
//! (what was actually taken). Combinations are normal: several regimens may run at once.

use jiff::{civil::Date, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{check_text, optional_text};
use crate::time::{end_not_before, LocalInstant};
use crate::vocab::vocabulary;
use crate::ValidationError;

vocabulary! {
    Category, "category" {
        Drug = "drug", "prescription drug";
        Vitamin = "vitamin", "vitamin";
        Supplement = "supplement", "supplement";
        Exercise = "exercise", "exercise programme";
        Other = "other", "other (physiotherapy, cooling, stretching routine…)";
    }
}

impl Category {
    /// Drugs, vitamins and supplements are taken in doses; a regimen of them needs one.
    pub fn needs_dose(self) -> bool {
        matches!(self, Category::Drug | Category::Vitamin | Category::Supplement)
    }
}

vocabulary! {
    Route, "route" {
        Oral = "oral", "oral";
        Subcutaneous = "subcutaneous", "subcutaneous injection";
        Intramuscular = "intramuscular", "intramuscular injection";
        Intravenous = "intravenous", "intravenous infusion";
        Intrathecal = "intrathecal", "intrathecal pump";
        Oromucosal = "oromucosal", "oromucosal spray";
        Transdermal = "transdermal", "transdermal";
        Topical = "topical", "topical";
    }
}

vocabulary! {
    /// Dose units, as UCUM codes.
    Unit, "unit" {
        Mg = "mg", "mg";
        Ug = "ug", "µg";
        G = "g", "g";
        ML = "mL", "mL";
        Iu = "[IU]", "IU";
        Spray = "{spray}", "spray";
        Tablet = "{tablet}", "tablet";
    }
}

impl Unit {
    /// Accepts the UCUM code or the spelling people type (`mcg`, `µg`, `iu`, `ml`, `sprays`).
    pub fn parse_lenient(input: &str) -> Result<Self, ValidationError> {
        let alias = match input.trim().to_ascii_lowercase().as_str() {
            "mcg" | "µg" | "μg" => "ug",
            "iu" | "[iu]" | "i.u." => "[IU]",
            "ml" => "mL",
            "spray" | "sprays" | "puff" | "puffs" => "{spray}",
            "tablet" | "tablets" | "tab" | "tabs" => "{tablet}",
            _ => input,
        };
        Unit::parse(alias)
    }
}

/// An amount with its unit. A number without a unit cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dose {
    amount: f64,
    unit: Unit,
}

impl Dose {
    pub fn new(amount: f64, unit: Unit) -> Result<Self, ValidationError> {
        if !(amount.is_finite() && amount > 0.0 && amount <= 1_000_000.0) {
            return Err(ValidationError::new(
                "dose",
                "a number above 0 and at most 1000000",
                amount,
            ));
        }
        Ok(Self { amount, unit })
    }

    /// Builds a dose from optional command-line parts, rejecting a number without a unit.
    pub fn from_parts(amount: Option<f64>, unit: Option<&str>) -> Result<Option<Self>, ValidationError> {
        match (amount, unit) {
            (None, None) => Ok(None),
            (Some(a), Some(u)) => Ok(Some(Dose::new(a, Unit::parse_lenient(u)?)?)),
            (Some(a), None) => Err(ValidationError::new(
                "unit",
                "given with every dose (mg, ug, g, mL, [IU], {spray}, {tablet})",
                format!("a dose of {a} with no unit"),
            )),
            (None, Some(u)) => Err(ValidationError::new(
                "dose",
                "given when a unit is given",
                format!("unit {u} with no amount"),
            )),
        }
    }

    pub fn amount(&self) -> f64 {
        self.amount
    }
    pub fn unit(&self) -> Unit {
        self.unit
    }
}

impl std::fmt::Display for Dose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.label())
    }
}

/// How often a regimen is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "n", rename_all = "kebab-case")]
pub enum Schedule {
    /// N times a day (tablets, sprays).
    TimesPerDay(u8),
    /// Every N days (some injections).
    EveryDays(u16),
    /// Every N weeks (injections, infusions).
    EveryWeeks(u16),
    /// Only when needed.
    AsNeeded,
}

impl Schedule {
    /// Parses `daily`, `3x-daily`, `twice-daily`, `every-2-days`, `every-6-weeks`, `as-needed`.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let s = input.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let bad = || {
            ValidationError::new(
                "schedule",
                "one of daily, twice-daily, Nx-daily (N 1–12), every-N-days (N 1–365), every-N-weeks (N 1–104), as-needed",
                format!("{input:?}"),
            )
        };
        let num = |t: &str| t.parse::<u16>().map_err(|_| bad());
        let sched = match s.as_str() {
            "daily" | "once-daily" => Schedule::TimesPerDay(1),
            "twice-daily" => Schedule::TimesPerDay(2),
            "as-needed" | "prn" => Schedule::AsNeeded,
            "weekly" => Schedule::EveryWeeks(1),
            _ => {
                if let Some(n) = s.strip_suffix("x-daily") {
                    Schedule::TimesPerDay(u8::try_from(num(n)?).map_err(|_| bad())?)
                } else if let Some(rest) = s.strip_prefix("every-") {
                    if let Some(n) = rest.strip_suffix("-days").or_else(|| rest.strip_suffix("-day")) {
                        Schedule::EveryDays(num(n)?)
                    } else if let Some(n) = rest.strip_suffix("-weeks").or_else(|| rest.strip_suffix("-week")) {
                        Schedule::EveryWeeks(num(n)?)
                    } else {
                        return Err(bad());
                    }
                } else {
                    return Err(bad());
                }
            }
        };
        match sched {
            Schedule::TimesPerDay(n) if !(1..=12).contains(&n) => Err(bad()),
            Schedule::EveryDays(n) if !(1..=365).contains(&n) => Err(bad()),
            Schedule::EveryWeeks(n) if !(1..=104).contains(&n) => Err(bad()),
            ok => Ok(ok),
        }
    }

    /// The canonical code, which [`Schedule::parse`] reads back.
    pub fn code(&self) -> String {
        match self {
            Schedule::TimesPerDay(n) => format!("{n}x-daily"),
            Schedule::EveryDays(n) => format!("every-{n}-days"),
            Schedule::EveryWeeks(n) => format!("every-{n}-weeks"),
            Schedule::AsNeeded => "as-needed".to_string(),
        }
    }

    /// Planned doses per day, for adherence; `None` when taken as needed.
    pub fn doses_per_day(&self) -> Option<f64> {
        match *self {
            Schedule::TimesPerDay(n) => Some(f64::from(n)),
            Schedule::EveryDays(n) => Some(1.0 / f64::from(n)),
            Schedule::EveryWeeks(n) => Some(1.0 / (7.0 * f64::from(n))),
            Schedule::AsNeeded => None,
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code())
    }
}

pub const MAX_NAME_CHARS: usize = 100;

/// A treatment a patient can take: a named drug, vitamin, supplement, exercise programme or other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Treatment {
    name: String,
    category: Category,
    notes: Option<String>,
}

impl Treatment {
    pub fn new(name: &str, category: Category, notes: Option<&str>) -> Result<Self, ValidationError> {
        let name = check_text("name", name, MAX_NAME_CHARS)?;
        if name.is_empty() {
            return Err(ValidationError::new("name", "1–100 characters", "an empty name"));
        }
        Ok(Self {
            name,
            category,
            notes: optional_text("notes", notes, crate::episode::MAX_NOTE_CHARS)?,
        })
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn category(&self) -> Category {
        self.category
    }
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }
}

/// One period of taking a treatment in a given way. Dose changes start a new regimen, so the
/// history shows exactly what was taken when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regimen {
    dose: Option<Dose>,
    route: Option<Route>,
    schedule: Schedule,
    start: Date,
    end: Option<Date>,
}

impl Regimen {
    pub fn new(
        category: Category,
        dose: Option<Dose>,
        route: Option<Route>,
        schedule: Schedule,
        start: Date,
        end: Option<Date>,
    ) -> Result<Self, ValidationError> {
        if category.needs_dose() && dose.is_none() {
            return Err(ValidationError::new(
                "dose",
                format!(
                    "given for a {} (amount and unit, e.g. --dose 10 --unit mg)",
                    category.label()
                ),
                "no dose",
            ));
        }
        let end = end_not_before("end", start, end)?;
        Ok(Self {
            dose,
            route,
            schedule,
            start,
            end,
        })
    }

    /// The same regimen ended on `end`.
    pub fn ended(&self, end: Date) -> Result<Self, ValidationError> {
        Ok(Self {
            end: end_not_before("end", self.start, Some(end))?,
            ..self.clone()
        })
    }

    pub fn dose(&self) -> Option<Dose> {
        self.dose
    }
    pub fn route(&self) -> Option<Route> {
        self.route
    }
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }
    pub fn start(&self) -> Date {
        self.start
    }
    pub fn end(&self) -> Option<Date> {
        self.end
    }
    /// Whether the regimen was running on `day` (the end day is included).
    pub fn active_on(&self, day: Date) -> bool {
        day >= self.start && self.end.is_none_or(|e| day <= e)
    }
}

vocabulary! {
    DoseStatus, "status" {
        Taken = "taken", "taken";
        Late = "late", "taken late";
        Missed = "missed", "missed";
    }
}

/// A scheduled dose: taken, taken late, or missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseLog {
    at: LocalInstant,
    status: DoseStatus,
    note: Option<String>,
}

impl DoseLog {
    pub fn new(
        at: LocalInstant,
        status: DoseStatus,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let at = LocalInstant::past("at", at.at, at.zone, now)?;
        Ok(Self {
            at,
            status,
            note: optional_text("note", note, crate::episode::MAX_NOTE_CHARS)?,
        })
    }
    pub fn at(&self) -> &LocalInstant {
        &self.at
    }
    pub fn status(&self) -> DoseStatus {
        self.status
    }
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dose_without_unit_is_rejected() {
        let err = Dose::from_parts(Some(10.0), None).unwrap_err();
        assert_eq!(err.field, "unit");
        assert!(err.to_string().contains("no unit"), "{err}");
    }

    #[test]
    fn unit_aliases() {
        assert_eq!(Unit::parse_lenient("mcg").unwrap(), Unit::Ug);
        assert_eq!(Unit::parse_lenient("IU").unwrap(), Unit::Iu);
        assert_eq!(Unit::parse_lenient("ml").unwrap(), Unit::ML);
        assert!(Unit::parse_lenient("spoon").is_err());
    }

    #[test]
    fn drug_regimen_needs_a_dose() {
        let d: Date = "2026-01-01".parse().unwrap();
        let err = Regimen::new(Category::Drug, None, None, Schedule::TimesPerDay(1), d, None).unwrap_err();
        assert_eq!(err.field, "dose");
        assert!(Regimen::new(Category::Exercise, None, None, Schedule::EveryWeeks(1), d, None).is_ok());
    }

    #[test]
    fn end_before_start_is_rejected() {
        let dose = Dose::new(5.0, Unit::Mg).unwrap();
        let err = Regimen::new(
            Category::Drug,
            Some(dose),
            Some(Route::Oral),
            Schedule::TimesPerDay(3),
            "2026-02-01".parse().unwrap(),
            Some("2026-01-01".parse().unwrap()),
        )
        .unwrap_err();
        assert_eq!(err.field, "end");
    }

    proptest! {
        #[test]
        fn schedule_codes_round_trip(kind in 0u8..4, n in 1u16..=104) {
            let s = match kind {
                0 => Schedule::TimesPerDay((n % 12 + 1) as u8),
                1 => Schedule::EveryDays(n),
                2 => Schedule::EveryWeeks(n),
                _ => Schedule::AsNeeded,
            };
            prop_assert_eq!(Schedule::parse(&s.code()).unwrap(), s);
        }

        #[test]
        fn doses_accept_only_positive_finite(a in proptest::num::f64::ANY) {
            prop_assert_eq!(Dose::new(a, Unit::Mg).is_ok(), a.is_finite() && a > 0.0 && a <= 1_000_000.0);
        }
    }
}
