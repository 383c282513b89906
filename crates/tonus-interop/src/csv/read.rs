//! Reading CSV. Every row goes through the domain constructors; a bad row is recorded with
//! its line number and the rule it broke, and reading goes on, so one pass reports every
//! problem in the file. Deciding what to write (nothing, or only the good rows) is the
//! caller's: see [`Import::errors`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::input::{parse_date, parse_when};
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, ClinicalEvent, Dose, DoseLog, DoseStatus, Effect, Episode, EventKind, ExerciseSession, ExerciseType,
    LocalInstant, MriRegion, Pain, RecordUid, Regimen, Region, Route, Schedule, Severity, SideEffect, SpasmKind,
    Treatment, Trigger, ValidationError,
};
use tonus_store::archive::{push_with_uid, DoseRef, PatientRecords, RegimenRecords, TreatmentRecords};

use super::Kind;
use crate::{InteropError, RowError};

/// What one file held: the good records, and every bad row.
#[derive(Debug, Clone)]
pub struct Import {
    pub kind: Kind,
    /// Data rows read (good and bad).
    pub rows: u64,
    pub records: PatientRecords,
    /// Doses name their regimen by treatment and start day; see [`resolve_doses`].
    pub doses: Vec<DoseRef>,
    /// Line of each entry of `doses`, to report one that names no regimen.
    pub dose_lines: Vec<u64>,
    pub errors: Vec<RowError>,
}

impl Import {
    /// Good records in this file.
    pub fn good(&self) -> usize {
        self.records.len() + self.doses.len()
    }
}

/// One data row, with cells looked up by column name.
struct Row<'a> {
    record: &'a csv::StringRecord,
    index: &'a HashMap<String, usize>,
}

impl Row<'_> {
    /// The trimmed cell, `None` when the column is absent or the cell empty.
    fn get(&self, col: &str) -> Option<&str> {
        self.index
            .get(col)
            .and_then(|i| self.record.get(*i))
            .map(|s| super::cells::restore(s.trim()))
            .filter(|s| !s.is_empty())
    }

    fn required(&self, col: &str) -> Result<&str, ValidationError> {
        self.get(col)
            .ok_or_else(|| ValidationError::new(col, "given (the cell is empty)", "\"\""))
    }

    fn int(&self, col: &str) -> Result<Option<i64>, ValidationError> {
        self.get(col)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| ValidationError::new(col, "a whole number", format!("{s:?}")))
            })
            .transpose()
    }

    fn required_int(&self, col: &str) -> Result<i64, ValidationError> {
        self.int(col)?
            .ok_or_else(|| ValidationError::new(col, "given (the cell is empty)", "\"\""))
    }

    fn date(&self, col: &str, zone: &Zone, now: Timestamp) -> Result<Option<Date>, ValidationError> {
        self.get(col).map(|s| parse_date(col, s, zone, now)).transpose()
    }

    /// The row's own zone (column `time_zone`), else the patient's.
    fn zone(&self, patient_zone: &Zone) -> Result<Zone, ValidationError> {
        self.get("time_zone")
            .map_or_else(|| Ok(patient_zone.clone()), Zone::parse)
    }

    /// An instant: RFC 3339 with offset, or local wall time read in the row's zone.
    fn instant(&self, col: &str, zone: &Zone, now: Timestamp) -> Result<LocalInstant, ValidationError> {
        let at = parse_when(col, self.required(col)?, zone, now)?;
        Ok(LocalInstant { at, zone: zone.clone() })
    }

    /// The optional `uid` column (issue #13): a record an export wrote keeps its identity.
    fn uid(&self) -> Result<Option<RecordUid>, ValidationError> {
        self.get("uid").map(RecordUid::parse).transpose()
    }

    fn list<T>(
        &self,
        col: &str,
        parse: impl Fn(&str) -> Result<T, ValidationError>,
    ) -> Result<Vec<T>, ValidationError> {
        self.get(col)
            .map(|s| {
                s.split([';', ','])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(&parse)
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }
}

fn parse_bool(col: &str, s: Option<&str>) -> Result<bool, ValidationError> {
    match s.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "no" | "0" | "n") => Ok(false),
        Some("true" | "yes" | "1" | "y") => Ok(true),
        Some(other) => Err(ValidationError::new(col, "true or false", format!("{other:?}"))),
    }
}

/// One data row that passed the domain rules.
#[derive(Debug, Clone)]
/// Each carries the row's uid when the file has one (the optional `uid` column).
pub enum Record {
    Episode(Episode, Option<RecordUid>),
    CheckIn(tonus_domain::CheckIn, Option<RecordUid>),
    Exercise(ExerciseSession, Option<RecordUid>),
    Event(ClinicalEvent, Option<RecordUid>),
    /// Its suspected treatment, when named, is looked up by the store among the patient's.
    SideEffect(SideEffect, Option<RecordUid>),
    /// Its regimen is not looked up here: see [`unknown_regimen`].
    Dose(DoseRef),
    /// One row of a treatments file: the treatment, the regimen when the row has one, the
    /// row's uid (the regimen's, or the treatment's on a row without a regimen) and the
    /// treatment's (column `treatment_uid`).
    Treatment(Treatment, Option<Regimen>, Option<RecordUid>, Option<RecordUid>),
}

/// A CSV file read one row at a time, so an importer can write as it reads and hold only
/// the bad rows, whatever the file's length. The header is read (and the record type
/// decided) when it is opened.
pub struct Rows<R> {
    reader: csv::Reader<R>,
    index: HashMap<String, usize>,
    kind: Kind,
    zone: Zone,
    now: Timestamp,
    record: csv::StringRecord,
    rows: u64,
}

impl<R: Read> Rows<R> {
    /// Reads the header. `zone` is the patient's (for rows without a `time_zone` and for
    /// "today"); `now` bounds "not in the future".
    pub fn new(input: R, zone: &Zone, now: Timestamp) -> Result<Self, InteropError> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let header = reader
            .headers()
            .map_err(|source| InteropError::Csv {
                context: "header",
                source,
            })?
            .clone();
        // A byte-order mark (what `--excel` writes, and what Excel's "CSV UTF-8" saves) is not
        // part of the first column's name.
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 { h.trim_start_matches('\u{feff}') } else { h };
                h.trim().to_ascii_lowercase()
            })
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let kind = Kind::detect(&refs).ok_or_else(|| InteropError::UnknownHeader {
            found: header.iter().collect::<Vec<_>>().join(","),
            expected: Kind::ALL
                .iter()
                .map(|k| format!("{} ({})", k.code(), k.required().join(",")))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        let index: HashMap<String, usize> = names.into_iter().enumerate().map(|(i, n)| (n, i)).collect();
        Ok(Self {
            reader,
            index,
            kind,
            zone: zone.clone(),
            now,
            record: csv::StringRecord::new(),
            rows: 0,
        })
    }

    /// The record type the header names.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Data rows read so far (good and bad).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Reads the rest of the file into an [`Import`], grouping a treatments file's rows by
    /// treatment.
    pub fn into_import(mut self) -> Import {
        let mut out = Import {
            kind: self.kind,
            rows: 0,
            records: PatientRecords::default(),
            doses: Vec::new(),
            dose_lines: Vec::new(),
            errors: Vec::new(),
        };
        let mut treatments = TreatmentGroups::default();
        for (line, result) in self.by_ref() {
            let result = result.and_then(|r| {
                // A row without a uid gets a new one, as the store would give it.
                let new = |u: Option<RecordUid>| u.unwrap_or_else(RecordUid::new);
                let rec = &mut out.records;
                match r {
                    Record::Episode(e, u) => push_with_uid(&mut rec.episodes, &mut rec.uids.episodes, e, new(u)),
                    Record::CheckIn(c, u) => push_with_uid(&mut rec.checkins, &mut rec.uids.checkins, c, new(u)),
                    Record::Exercise(s, u) => push_with_uid(&mut rec.exercise, &mut rec.uids.exercise, s, new(u)),
                    Record::Event(e, u) => push_with_uid(&mut rec.events, &mut rec.uids.events, e, new(u)),
                    Record::SideEffect(s, u) => {
                        push_with_uid(&mut rec.side_effects, &mut rec.uids.side_effects, s, new(u))
                    }
                    Record::Dose(d) => {
                        out.doses.push(d);
                        out.dose_lines.push(line);
                    }
                    Record::Treatment(t, r, u, tu) => return treatments.add(t, r, u, tu),
                }
                Ok(())
            });
            if let Err(error) = result {
                out.errors.push(RowError { line, error });
            }
        }
        out.rows = self.rows;
        out.records.treatments = treatments.into_records();
        out
    }
}

impl<R: Read> Iterator for Rows<R> {
    /// The row's line (the header is line 1) and its record, or the rule it broke.
    type Item = (u64, Result<Record, ValidationError>);

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.reader.position().line();
        match self.reader.read_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                self.rows += 1;
                let line = e.position().map_or(line, |p| p.line());
                return Some((line, Err(ValidationError::new("row", "a well-formed CSV record", e))));
            }
        }
        self.rows += 1;
        let line = self.record.position().map_or(line, |p| p.line());
        let row = Row {
            record: &self.record,
            index: &self.index,
        };
        let (zone, now) = (&self.zone, self.now);
        let result = row.uid().and_then(|u| match self.kind {
            Kind::Episodes => episode(&row, zone, now).map(|e| Record::Episode(e, u)),
            Kind::Checkins => checkin(&row, zone, now).map(|c| Record::CheckIn(c, u)),
            Kind::Exercise => exercise(&row, zone, now).map(|s| Record::Exercise(s, u)),
            Kind::Events => event(&row, zone, now).map(|e| Record::Event(e, u)),
            Kind::SideEffects => side_effect(&row, zone, now).map(|s| Record::SideEffect(s, u)),
            Kind::Doses => dose(&row, zone, now).map(|d| Record::Dose(DoseRef { uid: u, ..d })),
            Kind::Treatments => {
                let tu = row
                    .get("treatment_uid")
                    .map(|t| {
                        RecordUid::parse(t).map_err(|e| ValidationError {
                            field: "treatment_uid".into(),
                            ..e
                        })
                    })
                    .transpose()?;
                treatment_row(&row, zone, now).map(|(t, r)| Record::Treatment(t, r, u, tu))
            }
        });
        Some((line, result))
    }
}

/// Reads a whole CSV file. The header decides the record type; `zone` is the patient's (for
/// rows without a `time_zone` and for "today"); `now` bounds "not in the future".
pub fn read<R: Read>(input: R, zone: &Zone, now: Timestamp) -> Result<Import, InteropError> {
    Ok(Rows::new(input, zone, now)?.into_import())
}

fn episode(row: &Row, zone: &Zone, now: Timestamp) -> Result<Episode, ValidationError> {
    let zone = row.zone(zone)?;
    let started = row.instant("started_at", &zone, now)?;
    // The episode's own rule bounds the start by the entry time; an import also bounds both
    // by now, so a typo in the year cannot put an episode (or its entry) in the future.
    let started = LocalInstant::past("started_at", started.at, started.zone, now)?;
    // Another app's export may not say when an entry was made; the start is the honest
    // guess (it does not mark the entry as back-filled).
    let recorded = match row.get("recorded_at") {
        Some(s) => {
            LocalInstant::past(
                "recorded_at",
                parse_when("recorded_at", s, &zone, now)?,
                zone.clone(),
                now,
            )?
            .at
        }
        None => started.at,
    };
    Episode::new(
        started,
        SpasmKind::parse(row.required("kind")?)?,
        row.list("regions", Region::parse)?,
        row.int("pain")?.map(Pain::new).transpose()?,
        row.int("duration_s")?,
        row.list("triggers", Trigger::parse)?,
        row.get("trigger_note"),
        row.get("notes"),
        recorded,
    )
}

fn checkin(row: &Row, zone: &Zone, now: Timestamp) -> Result<tonus_domain::CheckIn, ValidationError> {
    let date = parse_date("date", row.required("date")?, zone, now)?;
    CheckInDraft {
        spasticity_nrs: row.int("spasticity_nrs")?,
        pain_nrs: row.int("pain_nrs")?,
        psfs_frequency: row.int("psfs_frequency")?,
        psfs_severity: row.int("psfs_severity")?,
        night_wakings: row.int("night_wakings")?,
        log_complete: parse_bool("log_complete", row.get("log_complete"))?,
        note: row.get("note").map(str::to_string),
    }
    .validate(date, zone, now)
}

fn exercise(row: &Row, zone: &Zone, now: Timestamp) -> Result<ExerciseSession, ValidationError> {
    let zone = row.zone(zone)?;
    ExerciseSession::new(
        row.instant("at", &zone, now)?,
        ExerciseType::parse(row.required("type")?)?,
        row.required_int("minutes")?,
        row.required_int("exertion")?,
        row.get("note"),
        now,
    )
}

fn event(row: &Row, zone: &Zone, now: Timestamp) -> Result<ClinicalEvent, ValidationError> {
    let kind = match row.required("kind")?.to_ascii_lowercase().as_str() {
        "mri" => EventKind::mri(
            MriRegion::parse(row.required("mri_region")?)?,
            row.int("lesions_total")?,
            row.int("lesions_new")?,
            row.int("lesions_enhancing")?,
        )?,
        "relapse" => EventKind::Relapse,
        "infection" => EventKind::Infection,
        "diagnosis" => EventKind::Diagnosis,
        "other" => EventKind::other(row.get("name").unwrap_or_default())?,
        other => {
            return Err(ValidationError::new(
                "kind",
                "one of mri, relapse, infection, diagnosis, other",
                format!("{other:?}"),
            ))
        }
    };
    let on = parse_date("date", row.required("date")?, zone, now)?;
    ClinicalEvent::new(kind, on, row.date("until", zone, now)?, row.get("summary"), zone, now)
}

fn side_effect(row: &Row, zone: &Zone, now: Timestamp) -> Result<SideEffect, ValidationError> {
    let zone = row.zone(zone)?;
    SideEffect::new(
        row.instant("at", &zone, now)?,
        Effect::parse(row.required("effect")?)?,
        row.get("description"),
        Severity::parse(row.required("severity")?)?,
        row.get("suspected_treatment"),
        row.get("note"),
        now,
    )
}

fn dose(row: &Row, zone: &Zone, now: Timestamp) -> Result<DoseRef, ValidationError> {
    let treatment = row.required("treatment")?.to_string();
    let regimen_start = parse_date("regimen_start", row.required("regimen_start")?, zone, now)?;
    let zone = row.zone(zone)?;
    let dose = DoseLog::new(
        row.instant("at", &zone, now)?,
        DoseStatus::parse(row.required("status")?)?,
        row.get("note"),
        now,
    )?;
    Ok(DoseRef {
        treatment,
        regimen_start,
        dose,
        uid: None,
    })
}

fn treatment_row(row: &Row, zone: &Zone, now: Timestamp) -> Result<(Treatment, Option<Regimen>), ValidationError> {
    let category = Category::parse(row.required("category")?)?;
    let treatment = Treatment::new(row.required("treatment")?, category, row.get("treatment_notes"))?;
    let start = row.date("start", zone, now)?;
    let schedule = row.get("schedule");
    let regimen_cells = ["dose", "unit", "route", "schedule", "end"];
    let Some(start) = start else {
        if let Some(col) = regimen_cells.iter().find(|c| row.get(c).is_some()) {
            return Err(ValidationError::new(
                "start",
                format!("given when the regimen column {col} is"),
                "\"\"",
            ));
        }
        return Ok((treatment, None));
    };
    let schedule =
        Schedule::parse(schedule.ok_or_else(|| ValidationError::new("schedule", "given when start is", "\"\""))?)?;
    let amount = row
        .get("dose")
        .map(|s| {
            s.parse::<f64>()
                .map_err(|_| ValidationError::new("dose", "a number", format!("{s:?}")))
        })
        .transpose()?;
    let dose: Option<Dose> = Dose::from_parts(amount, row.get("unit"))?;
    let regimen = Regimen::new(
        category,
        dose,
        row.get("route").map(Route::parse).transpose()?,
        schedule,
        start,
        row.date("end", zone, now)?,
    )?;
    Ok((treatment, Some(regimen)))
}

/// Rows of the treatments file grouped by treatment, in first-seen order.
#[derive(Default)]
struct TreatmentGroups {
    order: Vec<TreatmentRecords>,
    by_name: BTreeMap<String, usize>,
}

impl TreatmentGroups {
    /// `uid` is the regimen's on a row with one, else the treatment's; `treatment_uid` the
    /// treatment's.
    fn add(
        &mut self,
        t: Treatment,
        r: Option<Regimen>,
        uid: Option<RecordUid>,
        treatment_uid: Option<RecordUid>,
    ) -> Result<(), ValidationError> {
        let key = t.name().to_lowercase();
        let i = match self.by_name.get(&key) {
            Some(i) => {
                let first = &self.order[*i].treatment;
                if first.category() != t.category() || first.notes() != t.notes() {
                    return Err(ValidationError::new(
                        "category",
                        format!(
                            "the same on every row of treatment {:?} (first row: {}, notes {:?})",
                            first.name(),
                            first.category(),
                            first.notes().unwrap_or_default()
                        ),
                        format!("{}, notes {:?}", t.category(), t.notes().unwrap_or_default()),
                    ));
                }
                *i
            }
            None => {
                self.order.push(TreatmentRecords {
                    uid: None,
                    treatment: t,
                    regimens: Vec::new(),
                });
                self.by_name.insert(key, self.order.len() - 1);
                self.order.len() - 1
            }
        };
        self.order[i].uid = self.order[i].uid.or(treatment_uid);
        let Some(r) = r else {
            self.order[i].uid = self.order[i].uid.or(uid);
            return Ok(());
        };
        {
            self.order[i].regimens.push(RegimenRecords {
                uid,
                regimen: r,
                doses: Vec::new(),
                dose_uids: Vec::new(),
            });
        }
        Ok(())
    }

    fn into_records(self) -> Vec<TreatmentRecords> {
        self.order
    }
}

/// Moves every dose whose regimen is not among `known` (treatment name, start day) into the
/// errors, so a dose row naming a missing regimen is reported with its line, not later as a
/// database error. `known` should hold the stored regimens and those being imported.
pub fn resolve_doses(import: &mut Import, known: &BTreeSet<(String, Date)>) {
    let doses = std::mem::take(&mut import.doses);
    let lines = std::mem::take(&mut import.dose_lines);
    for (d, line) in doses.into_iter().zip(lines) {
        if known.contains(&(d.treatment.trim().to_lowercase(), d.regimen_start)) {
            import.doses.push(d);
            import.dose_lines.push(line);
        } else {
            import.errors.push(RowError {
                line,
                error: unknown_regimen(&d),
            });
        }
    }
    import.errors.sort_by_key(|e| e.line);
}

/// What a dose row naming no regimen known to the import (stored, or in a treatments file
/// imported with it) is reported as.
pub fn unknown_regimen(d: &DoseRef) -> ValidationError {
    ValidationError::new(
        "regimen_start",
        format!(
            "the start day of a regimen of {:?} (stored or in the treatments file)",
            d.treatment
        ),
        d.regimen_start,
    )
}

/// What a side-effect row whose suspected treatment is not one of the patient's (stored, or
/// in a treatments file imported with it) is reported as: the row and column, like any
/// other rule, rather than a database error that stops the whole import.
pub fn unknown_treatment(name: &str) -> ValidationError {
    ValidationError::new(
        "suspected_treatment",
        "the name of one of the patient's treatments (stored or in the treatments file)",
        format!("{name:?}"),
    )
}
