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
/// Line breaks arrive as CRLF from browsers' text areas (and as CR from old Mac files):
/// they are kept, as LF, rather than refused as control characters.
pub fn check_text(field: &str, text: &str, max_chars: usize) -> Result<String, ValidationError> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let trimmed = normalised.trim();
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
    if trimmed.chars().any(is_bidi_override) {
        return Err(ValidationError::new(
            field,
            "text without bidirectional embedding, override or isolate controls (U+202A–202E, U+2066–2069)",
            format!("{trimmed:?}"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Embedding, override and isolate controls change the reading order of whatever follows
/// them, on a page, in a PDF or in a terminal: "report\u{202E}fdp.exe" reads as
/// "reportexe.pdf". The marks U+200E/U+200F only nudge neutral characters and cannot run
/// on, so right-to-left writers may keep using them.
pub fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_of_every_convention_are_kept_as_lf() {
        assert_eq!(
            check_text("notes", "stairs,\r\ntwice\rthen\nrest\r\n", 100).unwrap(),
            "stairs,\ntwice\nthen\nrest"
        );
    }

    #[test]
    fn other_control_characters_are_refused_with_the_field_named() {
        let e = check_text("notes", "bell\u{7}", 100).unwrap_err();
        assert_eq!(e.field, "notes");
        assert!(check_text("notes", "a\u{0}b", 100).is_err());
    }

    #[test]
    fn bidi_overrides_and_isolates_are_refused_but_marks_are_kept() {
        for bad in ["report\u{202E}fdp.exe", "a\u{202A}b", "x\u{2066}y\u{2069}", "\u{2068}z"] {
            let e = check_text("name", bad, 100).unwrap_err();
            assert_eq!(e.field, "name");
            assert!(e.rule.contains("bidirectional"), "{e}");
        }
        assert_eq!(
            check_text("name", "שלום\u{200F} 5 mg", 100).unwrap(),
            "שלום\u{200F} 5 mg"
        );
        assert_eq!(check_text("name", "\u{200E}abc", 100).unwrap(), "\u{200E}abc");
    }

    #[test]
    fn length_counts_characters_after_normalising() {
        assert!(check_text("notes", "ab\r\ncd", 5).is_ok());
        assert!(check_text("notes", "abc\r\ncd", 5).is_err());
    }
}
