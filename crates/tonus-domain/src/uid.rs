//! Record identity. Every stored record gets a random UUID when it is created, and keeps it
//! through export, import, backup and restore: FHIR ids and `identifier`s are made from it,
//! so an export names the same record the same way however the others change, and an
//! import can tell a record it already holds from a new one (issue #13).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ValidationError;

/// The URN prefix FHIR uses for a UUID (`urn:uuid:…`, RFC 4122 / RFC 3986).
const URN: &str = "urn:uuid:";

/// A record's stable identity: a version-4 UUID, written lower-case and hyphenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordUid(Uuid);

impl RecordUid {
    /// A new random uid (UUID version 4: 122 random bits, so two never meet in practice).
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Reads a uid in the 8-4-4-4-12 hexadecimal form (either case), or as a `urn:uuid:` URN.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let t = text.trim();
        let bare = t.strip_prefix(URN).unwrap_or(t);
        // Only the hyphenated form: the other forms uuid accepts (32 bare digits, braces)
        // are not what Tonus writes, nor what FHIR allows in an id.
        if bare.len() != 36 {
            return Err(Self::invalid(text));
        }
        Uuid::try_parse(bare).map(Self).map_err(|_| Self::invalid(text))
    }

    fn invalid(text: &str) -> ValidationError {
        ValidationError::new("uid", "a UUID (8-4-4-4-12 hexadecimal digits)", format!("{text:?}"))
    }

    /// The uid as a URN, `urn:uuid:…`: a FHIR Bundle entry's `fullUrl` and identifier value.
    pub fn urn(&self) -> String {
        format!("{URN}{self}")
    }
}

impl fmt::Display for RecordUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl std::str::FromStr for RecordUid {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_uids_differ_and_read_back() {
        let a = RecordUid::new();
        let b = RecordUid::new();
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(RecordUid::parse(&text).unwrap(), a);
        assert_eq!(RecordUid::parse(&a.urn()).unwrap(), a);
        assert_eq!(RecordUid::parse(&text.to_uppercase()).unwrap(), a);
    }

    #[test]
    fn other_text_is_refused_naming_the_field() {
        for bad in [
            "",
            "episode-1",
            "0123456789abcdef0123456789abcdef",
            "{01234567-89ab-cdef-0123-456789abcdef}",
        ] {
            let e = RecordUid::parse(bad).unwrap_err();
            assert_eq!(e.field, "uid", "{bad}");
        }
    }
}
