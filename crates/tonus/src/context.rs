//! What every command needs: the open store, the patient it acts for, and "now".

use anyhow::{Context as _, Result};
use jiff::Timestamp;
use tonus_domain::time::Zone;
use tonus_domain::Patient;
use tonus_store::Store;

use crate::cli::Global;

/// A mistake the user can fix (unknown id, ambiguous patient…): exits with status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

pub fn user_error(msg: impl Into<String>) -> anyhow::Error {
    UserError(msg.into()).into()
}

pub struct Ctx {
    pub store: Store,
    pub now: Timestamp,
    pub json: bool,
    pub quiet: bool,
    patient_flag: Option<String>,
}

/// The handle given to a patient created implicitly on first use.
pub const DEFAULT_PATIENT: &str = "me";

impl Ctx {
    pub async fn open(global: &Global) -> Result<Self> {
        let location = match &global.database {
            Some(url) => url.clone(),
            None => tonus_store::default_sqlite_path().display().to_string(),
        };
        let store = Store::open(&location)
            .await
            .with_context(|| format!("opening the database {location}"))?;
        Ok(Self {
            store,
            now: Timestamp::now(),
            json: global.json,
            quiet: global.quiet,
            patient_flag: global.patient.clone(),
        })
    }

    /// The handle given with --patient (or TONUS_PATIENT), if any.
    pub fn patient_flag(&self) -> Option<&str> {
        self.patient_flag.as_deref()
    }

    /// The patient this command acts for: `--patient`, else the only one, else a new `me`
    /// in the system's time zone (said on standard error so nobody is surprised).
    pub async fn patient(&self) -> Result<Patient> {
        if let Some(handle) = &self.patient_flag {
            return self.store.patient_by_handle(handle).await?.ok_or_else(|| {
                user_error(format!(
                    "no patient named {handle:?} in {}; create one with `tonus patient add {handle}`",
                    self.store.location()
                ))
            });
        }
        let patients = self.store.list_patients().await?;
        match patients.len() {
            0 => {
                let zone = system_zone();
                let p = self.store.create_patient(DEFAULT_PATIENT, &zone).await?;
                if !self.quiet {
                    eprintln!(
                        "Created patient {:?} (time zone {}) in {}. Change it with `tonus patient zone {} ZONE`.",
                        p.handle,
                        p.zone,
                        self.store.location(),
                        p.handle
                    );
                }
                Ok(p)
            }
            1 => Ok(patients.into_iter().next().context("one patient listed")?),
            _ => {
                let names: Vec<String> = patients.iter().map(|p| p.handle.clone()).collect();
                Err(user_error(format!(
                    "this database has several patients ({}); choose one with --patient NAME or TONUS_PATIENT",
                    names.join(", ")
                )))
            }
        }
    }
}

/// The machine's IANA zone (TZ, then /etc/localtime), or UTC when it has none.
pub fn system_zone() -> Zone {
    jiff::tz::TimeZone::system()
        .iana_name()
        .and_then(|n| Zone::parse(n).ok())
        .unwrap_or_else(Zone::utc)
}
