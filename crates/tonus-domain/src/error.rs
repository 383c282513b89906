//! One error type for every rejected value, so each front end (CLI, API, importers) can tell the
//! user which field broke which rule, and with what value.

use std::fmt;

/// A value that broke a domain rule. Displayed as `FIELD must be RULE, got VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub field: String,
    pub rule: String,
    pub value: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>, value: impl fmt::Display) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
            value: value.to_string(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be {}, got {}", self.field, self.rule, self.value)
    }
}

/// Checks that `value` is within `lo..=hi`, naming `field` in the error.
pub(crate) fn check_range<T>(field: &str, value: T, lo: T, hi: T) -> Result<T, ValidationError>
where
    T: PartialOrd + fmt::Display + Copy,
{
    if value < lo || value > hi {
        return Err(ValidationError::new(field, format!("an integer {lo}–{hi}"), value));
    }
    Ok(value)
}

/// Bounds free text so a note can never fill the database; trims surrounding white space.
pub(crate) fn check_text(field: &str, text: &str, max_chars: usize) -> Result<String, ValidationError> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(ValidationError::new(
            field,
            format!("at most {max_chars} characters"),
            format!("{count} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new(
            field,
            "text without control characters",
            format!("{trimmed:?}"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Like [`check_text`] but an empty result becomes `None`.
pub(crate) fn optional_text(
    field: &str,
    text: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, ValidationError> {
    match text {
        None => Ok(None),
        Some(t) => {
            let t = check_text(field, t, max_chars)?;
            Ok((!t.is_empty()).then_some(t))
        }
    }
}
