//! A patient: the owner of every health record. Several live in one database.

use serde::{Deserialize, Serialize};

use crate::time::Zone;
use crate::{Id, ValidationError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub id: Id,
    pub handle: String,
    pub zone: Zone,
}

/// Checks a patient handle: 1–64 characters of lower-case letters, digits, `-`, `_` or `.`,
/// so it can be typed on a command line and used in a URL.
pub fn validate_handle(handle: &str) -> Result<String, ValidationError> {
    let h = handle.trim();
    let ok = !h.is_empty()
        && h.len() <= 64
        && h.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(ValidationError::new(
            "patient",
            "1–64 characters of a–z, 0–9, '-', '_' or '.'",
            format!("{handle:?}"),
        ));
    }
    Ok(h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert!(validate_handle("me").is_ok());
        assert!(validate_handle("anne-marie.2").is_ok());
        assert_eq!(validate_handle("Anne").unwrap_err().field, "patient");
        assert!(validate_handle("").is_err());
        assert!(validate_handle(&"a".repeat(65)).is_err());
    }
}
