//! Reading other systems' resources: partial dates, medication names, SNOMED CT routes and
//! doses, the shapes HL7's examples and EHR exports use that Tonus's own export does not.

use jiff::civil::{date, Date};
use serde_json::Value;
use tonus_domain::{Dose, Route, Unit};

use super::{route_snomed, SNOMED, UCUM};

/// How much of a date a FHIR `date`/`dateTime` gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precision {
    Year,
    Month,
    Day,
}

/// Which end of a partial date's span to take: a start (onset, first day of a regimen) is
/// the span's first day, an end its last, so a period never claims more than was given
/// nor less (a regimen "ended 2020-05" ran through May).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    Start,
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FhirDate {
    pub date: Date,
    pub precision: Precision,
    pub bound: Bound,
}

impl FhirDate {
    /// Says what was stored for a partial date, for the import report; `None` for a full one.
    pub fn partial_note(&self, what: &str, given: &str) -> Option<String> {
        let span = match self.precision {
            Precision::Day => return None,
            Precision::Year => "year",
            Precision::Month => "month",
        };
        Some(format!(
            "{what} {given:?} gives only a {span}; stored as {} (the {} day of that {span})",
            self.date,
            match self.bound {
                Bound::Start => "first",
                Bound::End => "last",
            }
        ))
    }
}

/// A FHIR date or dateTime as a calendar date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a
/// dateTime's date as written (in its own offset, which is the day the source meant).
pub(super) fn fhir_date(text: &str, bound: Bound) -> Option<FhirDate> {
    let num = |s: &str| -> Option<i16> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (d, precision) = match text.len() {
        4 => {
            let y = num(text)?;
            let d = match bound {
                Bound::Start => date(y, 1, 1),
                Bound::End => date(y, 12, 31),
            };
            (d, Precision::Year)
        }
        7 if text.as_bytes()[4] == b'-' => {
            let y = num(&text[..4])?;
            let m = i8::try_from(num(&text[5..])?).ok()?;
            let first = Date::new(y, m, 1).ok()?;
            let d = match bound {
                Bound::Start => first,
                Bound::End => first.last_of_month(),
            };
            (d, Precision::Month)
        }
        n if n >= 10 => (text.get(..10)?.parse().ok()?, Precision::Day),
        _ => return None,
    };
    (1900..=9999).contains(&d.year()).then_some(FhirDate {
        date: d,
        precision,
        bound,
    })
}

/// SNOMED CT route of administration code → Tonus route (the codes Tonus exports).
pub(super) fn route_from_snomed(code: &str) -> Option<Route> {
    Route::ALL.iter().copied().find(|r| route_snomed(*r).0 == code)
}

/// The medication's name: `medicationCodeableConcept` text or first display, else the
/// contained (`#id`) Medication's code, else the reference's display.
pub(super) fn medication_name(r: &Value) -> Option<String> {
    let concept_name = |c: &Value| -> Option<String> {
        c.get("text").and_then(Value::as_str).map(str::to_string).or_else(|| {
            c.get("coding")?
                .as_array()?
                .iter()
                .find_map(|x| x.get("display").and_then(Value::as_str))
                .map(str::to_string)
        })
    };
    if let Some(c) = r.get("medicationCodeableConcept") {
        return concept_name(c).filter(|n| !n.trim().is_empty());
    }
    let reference = r.get("medicationReference")?;
    let contained = reference
        .get("reference")
        .and_then(Value::as_str)
        .and_then(|x| x.strip_prefix('#'))
        .and_then(|id| {
            r.get("contained")?
                .as_array()?
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
        })
        .and_then(|m| m.get("code"))
        .and_then(concept_name);
    contained
        .or_else(|| reference.get("display").and_then(Value::as_str).map(str::to_string))
        .filter(|n| !n.trim().is_empty())
}

/// HL7 v3 orderable drug form, which some systems use as a dose "unit" (1 TAB).
const ORDERABLE_DRUG_FORM: &str = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm";

/// Another system's dose: a `doseQuantity` in a UCUM unit Tonus records, or tablets coded
/// as the v3 orderable drug form `TAB`. `Err` says why not (a range, an unknown unit).
pub(super) fn dose(dosage: Option<&Value>) -> Result<Option<Dose>, String> {
    let Some(dr) = dosage.and_then(|d| d.pointer("/doseAndRate/0")) else {
        return Ok(None);
    };
    let Some(q) = dr.get("doseQuantity") else {
        return Err(if dr.get("doseRange").is_some() {
            "the dose is a range; Tonus records one dose per regimen".into()
        } else {
            "the dose is not a quantity".into()
        });
    };
    let value = q.get("value").and_then(Value::as_f64).ok_or("the dose has no value")?;
    let code = q.get("code").and_then(Value::as_str).unwrap_or_default();
    let unit = match q.get("system").and_then(Value::as_str) {
        Some(ORDERABLE_DRUG_FORM) if code == "TAB" => Unit::Tablet,
        Some(UCUM) | None => {
            Unit::parse(code).map_err(|_| format!("the dose unit {code:?} is not one Tonus records"))?
        }
        Some(other) => return Err(format!("the dose unit {code:?} of {other} is not one Tonus records")),
    };
    Dose::new(value, unit).map(Some).map_err(|e| e.to_string())
}

/// The route: Tonus's own code, else a SNOMED CT route code Tonus knows. `Err` names a
/// route given but not understood (so it is reported, never silently dropped).
pub(super) fn route(dosage: Option<&Value>, tonus_system: &str) -> Result<Option<Route>, String> {
    let Some(concept) = dosage.and_then(|d| d.get("route")) else {
        return Ok(None);
    };
    if let Some(code) = super::import::code_in(Some(concept), tonus_system) {
        return Route::parse(code).map(Some).map_err(|e| e.to_string());
    }
    if let Some(r) = super::import::code_in(Some(concept), SNOMED).and_then(route_from_snomed) {
        return Ok(Some(r));
    }
    let said = concept
        .get("text")
        .or_else(|| concept.pointer("/coding/0/display"))
        .or_else(|| concept.pointer("/coding/0/code"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    Err(format!("the route {said:?} is not one Tonus records"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_take_the_first_or_last_day_of_their_span() {
        let d = |t, b| fhir_date(t, b).map(|f| (f.date, f.precision));
        assert_eq!(d("2012", Bound::Start), Some((date(2012, 1, 1), Precision::Year)));
        assert_eq!(d("2012", Bound::End), Some((date(2012, 12, 31), Precision::Year)));
        assert_eq!(d("2024-02", Bound::Start), Some((date(2024, 2, 1), Precision::Month)));
        assert_eq!(d("2024-02", Bound::End), Some((date(2024, 2, 29), Precision::Month)));
        assert_eq!(d("2013-04-02", Bound::End), Some((date(2013, 4, 2), Precision::Day)));
        assert_eq!(
            d("1979-01-02T11:44:52-05:00", Bound::Start),
            Some((date(1979, 1, 2), Precision::Day))
        );
        for bad in ["", "12", "2012-13", "2012-1", "20x2", "1850"] {
            assert_eq!(d(bad, Bound::Start), None, "{bad}");
        }
        let note = fhir_date("2012", Bound::Start)
            .unwrap()
            .partial_note("onset", "2012")
            .unwrap();
        assert!(
            note.contains("stored as 2012-01-01 (the first day of that year)"),
            "{note}"
        );
        let note = fhir_date("2020-05", Bound::End)
            .unwrap()
            .partial_note("end", "2020-05")
            .unwrap();
        assert!(
            note.contains("stored as 2020-05-31 (the last day of that month)"),
            "{note}"
        );
    }

    #[test]
    fn snomed_routes_map_to_tonus_routes() {
        assert_eq!(route_from_snomed("26643006"), Some(Route::Oral));
        assert_eq!(route_from_snomed("47625008"), Some(Route::Intravenous));
        assert_eq!(route_from_snomed("34206005"), Some(Route::Subcutaneous));
        assert_eq!(route_from_snomed("78421000"), Some(Route::Intramuscular));
        assert_eq!(route_from_snomed("72607000"), Some(Route::Intrathecal));
        assert_eq!(route_from_snomed("45890007"), Some(Route::Transdermal));
        assert_eq!(route_from_snomed("1"), None);
    }
}
