//! Cells a spreadsheet would run as a formula. Excel, LibreOffice and Google Sheets treat a
//! cell that starts with `=`, `+`, `-` or `@` (some also after a leading tab or carriage
//! return) as a formula, so a note like `=HYPERLINK(…)` would become a live link or worse
//! when a clinician opens the export (OWASP "CSV injection"). Such cells are written with a
//! leading apostrophe, the spreadsheets' own "this is text" mark, and the importer removes
//! it again, so a round trip gives back exactly what was typed.
//!
//! To keep that exact, a cell that already starts with an apostrophe followed by one of
//! those characters (or another apostrophe) gets one more; an apostrophe before anything
//! else ("'tis") is left alone both ways.

use std::borrow::Cow;

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn escapable(c: char) -> bool {
    FORMULA_STARTS.contains(&c) || c == '\''
}

/// The cell as written to a file.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let mut chars = cell.chars();
    let needs_mark = match chars.next() {
        Some(c) if FORMULA_STARTS.contains(&c) => true,
        Some('\'') => chars.next().is_some_and(escapable),
        _ => false,
    };
    if needs_mark {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as read from a file: undoes [`neutralise`].
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(escapable) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_a_text_mark() {
        assert_eq!(neutralise("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        for s in ["+1", "-2 after stretching", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(s), format!("'{s}"));
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in ["", "calf cramp", "'tis", "'", "2026-01-02T03:04:05+01:00", "a=b"] {
            assert_eq!(neutralise(s), s);
            assert_eq!(restore(s), s);
        }
    }

    #[test]
    fn round_trip_is_exact() {
        for s in ["=1+1", "'=1+1", "''=1", "''", "'@", "-", "'", "'x", "plain", "+"] {
            assert_eq!(restore(&neutralise(s)), s, "{s:?}");
        }
    }
}
