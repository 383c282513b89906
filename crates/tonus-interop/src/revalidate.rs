//! Values that arrive already shaped as domain types (serde from an archive) skipped the
//! domain constructors; these functions rebuild each one through its constructor so a
//! hand-edited or damaged file cannot smuggle in a value the CLI would have refused.

use jiff::Timestamp;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{
    CheckIn, ClinicalEvent, Dose, DoseLog, Episode, EventKind, ExerciseSession, Regimen, Schedule, SideEffect,
    Treatment, ValidationError,
};
use tonus_store::archive::{PatientRecords, RegimenRecords, TreatmentRecords};

use crate::InteropError;

pub(crate) fn episode(e: &Episode) -> Result<Episode, ValidationError> {
    Episode::new(
        e.started_at().clone(),
        e.kind(),
        e.regions().to_vec(),
        e.pain(),
        e.duration_s().map(i64::from),
        e.triggers().to_vec(),
        e.trigger_note(),
        e.notes(),
        e.recorded_at(),
    )
}

pub(crate) fn checkin(c: &CheckIn, zone: &Zone, now: Timestamp) -> Result<CheckIn, ValidationError> {
    CheckInDraft {
        spasticity_nrs: c.spasticity_nrs().map(i64::from),
        pain_nrs: c.pain_nrs().map(i64::from),
        psfs_frequency: c.psfs_frequency().map(|v| i64::from(v.value())),
        psfs_severity: c.psfs_severity().map(|v| i64::from(v.value())),
        night_wakings: c.night_wakings().map(i64::from),
        log_complete: c.log_complete(),
        note: c.note().map(str::to_string),
    }
    .validate(c.date(), zone, now)
}

pub(crate) fn exercise(s: &ExerciseSession, now: Timestamp) -> Result<ExerciseSession, ValidationError> {
    ExerciseSession::new(
        s.at().clone(),
        s.exercise_type(),
        i64::from(s.minutes()),
        i64::from(s.exertion()),
        s.note(),
        now,
    )
}

pub(crate) fn event_kind(k: &EventKind) -> Result<EventKind, ValidationError> {
    Ok(match k {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => EventKind::mri(
            *region,
            lesions_total.map(i64::from),
            lesions_new.map(i64::from),
            lesions_enhancing.map(i64::from),
        )?,
        EventKind::Other { name } => EventKind::other(name)?,
        other => other.clone(),
    })
}

pub(crate) fn event(e: &ClinicalEvent, zone: &Zone, now: Timestamp) -> Result<ClinicalEvent, ValidationError> {
    ClinicalEvent::new(event_kind(e.kind())?, e.on(), e.until(), e.summary(), zone, now)
}

pub(crate) fn dose(d: &DoseLog, now: Timestamp) -> Result<DoseLog, ValidationError> {
    DoseLog::new(d.at().clone(), d.status(), d.note(), now)
}

pub(crate) fn side_effect(s: &SideEffect, now: Timestamp) -> Result<SideEffect, ValidationError> {
    SideEffect::new(
        s.at().clone(),
        s.effect(),
        s.description(),
        s.severity(),
        s.suspected_treatment(),
        s.note(),
        now,
    )
}

pub(crate) fn treatment(t: &Treatment) -> Result<Treatment, ValidationError> {
    Treatment::new(t.name(), t.category(), t.notes())
}

pub(crate) fn regimen(t: &Treatment, r: &Regimen) -> Result<Regimen, ValidationError> {
    let dose = r.dose().map(|d| Dose::new(d.amount(), d.unit())).transpose()?;
    Regimen::new(
        t.category(),
        dose,
        r.route(),
        Schedule::parse(&r.schedule().code())?,
        r.start(),
        r.end(),
    )
}

/// Rebuilds every record; the error names where the bad value sits (`prefix.episodes[3]`).
pub(crate) fn records(
    prefix: &str,
    r: &PatientRecords,
    zone: &Zone,
    now: Timestamp,
) -> Result<PatientRecords, InteropError> {
    fn at<'a>(prefix: &'a str, what: &'a str, i: usize) -> impl Fn(ValidationError) -> InteropError + 'a {
        move |e| InteropError::invalid(format!("{prefix}{what}[{i}]"), e)
    }
    let mut out = PatientRecords::default();
    for (i, t) in r.treatments.iter().enumerate() {
        let treatment = treatment(&t.treatment).map_err(at(prefix, "treatments", i))?;
        let mut regimens = Vec::with_capacity(t.regimens.len());
        for (j, rr) in t.regimens.iter().enumerate() {
            let where_ = |e| InteropError::invalid(format!("{prefix}treatments[{i}].regimens[{j}]"), e);
            let regimen = regimen(&treatment, &rr.regimen).map_err(where_)?;
            let doses = rr
                .doses
                .iter()
                .enumerate()
                .map(|(k, d)| {
                    dose(d, now).map_err(|e| {
                        InteropError::invalid(format!("{prefix}treatments[{i}].regimens[{j}].doses[{k}]"), e)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if rr.dose_uids.len() > rr.doses.len() {
                return Err(uids_overflow(
                    &format!("{prefix}treatments[{i}].regimens[{j}].dose_uids"),
                    rr.dose_uids.len(),
                    rr.doses.len(),
                ));
            }
            regimens.push(RegimenRecords {
                uid: rr.uid,
                regimen,
                doses,
                dose_uids: rr.dose_uids.clone(),
            });
        }
        out.treatments.push(TreatmentRecords {
            uid: t.uid,
            treatment,
            regimens,
        });
    }
    for (i, e) in r.episodes.iter().enumerate() {
        out.episodes.push(episode(e).map_err(at(prefix, "episodes", i))?);
    }
    for (i, c) in r.checkins.iter().enumerate() {
        out.checkins
            .push(checkin(c, zone, now).map_err(at(prefix, "checkins", i))?);
    }
    for (i, s) in r.exercise.iter().enumerate() {
        out.exercise.push(exercise(s, now).map_err(at(prefix, "exercise", i))?);
    }
    for (i, e) in r.events.iter().enumerate() {
        out.events.push(event(e, zone, now).map_err(at(prefix, "events", i))?);
    }
    // A suspected treatment is a link to one of this patient's treatments (the store keeps
    // it as a reference), so a name that matches none is refused here, with its path,
    // rather than by the database halfway through a restore.
    let names: std::collections::BTreeSet<String> = out
        .treatments
        .iter()
        .map(|t| t.treatment.name().to_lowercase())
        .collect();
    for (i, s) in r.side_effects.iter().enumerate() {
        let s = side_effect(s, now).map_err(at(prefix, "side_effects", i))?;
        if let Some(name) = s.suspected_treatment() {
            if !names.contains(&name.to_lowercase()) {
                return Err(at(prefix, "side_effects", i)(ValidationError::new(
                    "suspected_treatment",
                    "the name of one of the patient's treatments",
                    format!("{name:?}"),
                )));
            }
        }
        out.side_effects.push(s);
    }
    // Uids name records position for position; more uids than records means a damaged file.
    let u = &r.uids;
    for (what, uids, records) in [
        ("episodes", u.episodes.len(), r.episodes.len()),
        ("checkins", u.checkins.len(), r.checkins.len()),
        ("exercise", u.exercise.len(), r.exercise.len()),
        ("events", u.events.len(), r.events.len()),
        ("side_effects", u.side_effects.len(), r.side_effects.len()),
    ] {
        if uids > records {
            return Err(uids_overflow(&format!("{prefix}uids.{what}"), uids, records));
        }
    }
    out.uids = r.uids.clone();
    out.identity = match &r.identity {
        Some(identity) => Some(
            identity
                .revalidated()
                .map_err(|e| InteropError::invalid(format!("{prefix}identity"), e))?,
        ),
        None => None,
    };
    Ok(out)
}

fn uids_overflow(path: &str, uids: usize, records: usize) -> InteropError {
    InteropError::invalid(
        path.to_string(),
        ValidationError::new(
            "uids",
            format!("at most one uid per record ({records} records)"),
            format!("{uids} uids"),
        ),
    )
}
