//! Errors of import and export. A bad value names where it was (archive path, CSV line,
//! FHIR resource) and which domain rule it broke.

use std::fmt;

use tonus_domain::ValidationError;

/// One rejected CSV row: the line it starts on and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub error: ValidationError,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    #[error("{what} is not valid JSON: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("not a Tonus archive: {0}")]
    NotArchive(String),
    #[error("archive version {found} was written by a newer Tonus (this one reads up to {supported})")]
    NewerArchive { found: u32, supported: u32 },
    #[error("{path}: {source}")]
    Invalid {
        path: String,
        #[source]
        source: ValidationError,
    },
    #[error("CSV {context}: {source}")]
    Csv {
        context: &'static str,
        #[source]
        source: csv::Error,
    },
    #[error("CSV header {found:?} matches no Tonus record type; expected the header of one of: {expected}")]
    UnknownHeader { found: String, expected: String },
    #[error("FHIR {0}")]
    Fhir(String),
    #[error("writing {what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl InteropError {
    pub(crate) fn invalid(path: impl Into<String>, source: ValidationError) -> Self {
        Self::Invalid {
            path: path.into(),
            source,
        }
    }
}
