//! The Tonus JSON archive: a versioned, self-describing copy of one or more patients with
//! every record, readable by any JSON tool and by both storage backends (docs/backup.md).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tonus_store::archive::PatientSnapshot;

use crate::{revalidate, InteropError};

/// The `format` field of every archive, so a stray JSON file is not mistaken for one.
pub const FORMAT: &str = "tonus-archive";
/// Version of the layout written; readers accept this and older versions.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    pub format: String,
    pub version: u32,
    pub created_at: Timestamp,
    /// The Tonus version that wrote it, for support questions (not used when reading).
    pub generator: String,
    pub patients: Vec<PatientSnapshot>,
}

impl Archive {
    pub fn new(patients: Vec<PatientSnapshot>, created_at: Timestamp) -> Self {
        Self {
            format: FORMAT.to_string(),
            version: VERSION,
            created_at,
            generator: format!("tonus {}", env!("CARGO_PKG_VERSION")),
            patients,
        }
    }

    /// Pretty JSON, so a person can read their own archive.
    pub fn to_json(&self) -> Result<String, InteropError> {
        serde_json::to_string_pretty(self).map_err(|source| InteropError::Json {
            what: "the archive",
            source,
        })
    }

    /// Parses an archive and re-checks every record against the domain rules (`now` is the
    /// reference for "not in the future").
    pub fn from_json(text: &str, now: Timestamp) -> Result<Self, InteropError> {
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
            version: Option<u32>,
        }
        let head: Head = serde_json::from_str(text).map_err(|source| InteropError::Json {
            what: "the archive",
            source,
        })?;
        if head.format.as_deref() != Some(FORMAT) {
            return Err(InteropError::NotArchive(format!(
                "its \"format\" is {:?}, expected {FORMAT:?}",
                head.format
            )));
        }
        match head.version {
            Some(v) if v > VERSION => {
                return Err(InteropError::NewerArchive {
                    found: v,
                    supported: VERSION,
                })
            }
            None => return Err(InteropError::NotArchive("it has no \"version\"".into())),
            _ => {}
        }
        let mut archive: Archive = serde_json::from_str(text).map_err(|source| InteropError::Json {
            what: "the archive",
            source,
        })?;
        for (i, p) in archive.patients.iter_mut().enumerate() {
            tonus_domain::patient::validate_handle(&p.handle)
                .map_err(|e| InteropError::invalid(format!("patients[{i}].handle"), e))?;
            p.records = revalidate::records(&format!("patients[{i}]."), &p.records, &p.time_zone, now)?;
        }
        Ok(archive)
    }
}
