//! A personal-trial arm: the set of treatments taken together during its periods, or none
//! ("Baclofen", "Baclofen + Stretching", "none"). Order and case do not make a different arm:
//! "stretching + Baclofen" is the same arm as "Baclofen + Stretching". The statistics only see
//! an arm's label (its canonical display form); what to take and whose doses count for
//! adherence come from its components.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::check_text;
use crate::treatment::MAX_NAME_CHARS;
use crate::ValidationError;

/// The arm without any trial treatment, as typed and as displayed.
pub const NONE: &str = "none";

/// Joins the components of a combination arm, as typed.
pub const SEPARATOR: char = '+';

/// At most this many treatments in one arm: more is almost surely a typing slip, and every
/// component adds a line to each calendar entry.
pub const MAX_COMPONENTS: usize = 8;

/// The treatments of one arm, in canonical order (case-insensitive alphabetical), each once.
/// Empty means "none".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Arm {
    components: Vec<String>,
}

/// The comparison key of a treatment name: case does not make a different treatment.
fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Arm {
    /// The arm without any trial treatment.
    pub fn none() -> Self {
        Self { components: Vec::new() }
    }

    /// Parses what a person types: `none`, one treatment name, or names joined by `+`.
    /// `field` names the input in errors (e.g. `arm`).
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let text = check_text(field, text, MAX_COMPONENTS * (MAX_NAME_CHARS + 3))?;
        if text.is_empty() {
            return Err(ValidationError::new(
                field,
                "`none` or treatment names joined by `+`",
                "an empty arm",
            ));
        }
        let parts: Vec<&str> = text.split(SEPARATOR).map(str::trim).collect();
        if parts.len() == 1 && parts[0].eq_ignore_ascii_case(NONE) {
            return Ok(Self::none());
        }
        if parts.iter().any(|p| p.eq_ignore_ascii_case(NONE)) {
            return Err(ValidationError::new(
                field,
                "either `none` alone or treatments joined by `+` (`none` cannot be combined with a treatment)",
                format!("{text:?}"),
            ));
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err(ValidationError::new(
                field,
                "treatment names joined by `+`, with a name on each side of every `+`",
                format!("{text:?}"),
            ));
        }
        Self::of(field, parts.into_iter().map(String::from).collect())
    }

    /// An arm of exactly these treatments (already resolved names, e.g. as stored): each name
    /// 1–100 characters, none repeated (case-insensitive), at most [`MAX_COMPONENTS`]. An empty
    /// list is the "none" arm.
    pub fn of(field: &str, names: Vec<String>) -> Result<Self, ValidationError> {
        let mut components: Vec<String> = Vec::with_capacity(names.len());
        for name in names {
            let name = check_text(field, &name, MAX_NAME_CHARS)?;
            if name.is_empty() {
                return Err(ValidationError::new(
                    field,
                    "treatment names of 1–100 characters",
                    "an empty name",
                ));
            }
            if name.eq_ignore_ascii_case(NONE) {
                return Err(ValidationError::new(
                    field,
                    "either `none` alone or treatments joined by `+` (`none` cannot be combined with a treatment)",
                    format!("{name:?}"),
                ));
            }
            if components.iter().any(|c| key(c) == key(&name)) {
                return Err(ValidationError::new(
                    field,
                    "a set of distinct treatments (each named once; case does not matter)",
                    format!("{name:?} twice"),
                ));
            }
            components.push(name);
        }
        if components.len() > MAX_COMPONENTS {
            return Err(ValidationError::new(
                field,
                format!("at most {MAX_COMPONENTS} treatments combined"),
                components.len(),
            ));
        }
        components.sort_by_key(|c| (key(c), c.clone()));
        Ok(Self { components })
    }

    /// Reads an arm label stored before arms could be combinations: `none` or one treatment's
    /// name, taken whole (a `+` in an old name is part of the name, not a separator).
    pub fn single(label: &str) -> Self {
        let label = label.trim();
        if label.eq_ignore_ascii_case(NONE) || label.is_empty() {
            return Self::none();
        }
        Self {
            components: vec![label.to_string()],
        }
    }

    /// The treatments, in canonical order; empty for "none".
    pub fn components(&self) -> &[String] {
        &self.components
    }

    pub fn is_none(&self) -> bool {
        self.components.is_empty()
    }

    /// Whether `treatment` is one of this arm's (case-insensitive).
    pub fn contains(&self, treatment: &str) -> bool {
        let k = key(treatment);
        self.components.iter().any(|c| key(c) == k)
    }

    /// Same treatments, whatever the case.
    pub fn same_set(&self, other: &Arm) -> bool {
        self.components.len() == other.components.len()
            && self
                .components
                .iter()
                .zip(&other.components)
                .all(|(a, b)| key(a) == key(b))
    }

    /// The canonical display form: `none`, `Baclofen`, `Baclofen + Stretching`. This is the
    /// label the statistics and every report use.
    pub fn label(&self) -> String {
        if self.is_none() {
            NONE.to_string()
        } else {
            self.components.join(" + ")
        }
    }
}

impl fmt::Display for Arm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl TryFrom<Vec<String>> for Arm {
    type Error = ValidationError;
    fn try_from(names: Vec<String>) -> Result<Self, Self::Error> {
        Self::of("arm", names)
    }
}

impl From<Arm> for Vec<String> {
    fn from(a: Arm) -> Self {
        a.components
    }
}

/// Checks a trial's arms together: at least one, and no two with the same set of treatments
/// or the same label (reports could not tell them apart). `field` names the input in errors.
pub fn check_distinct(field: &str, arms: &[Arm]) -> Result<(), ValidationError> {
    for (i, a) in arms.iter().enumerate() {
        if let Some(b) = arms[..i]
            .iter()
            .find(|b| b.same_set(a) || key(&b.label()) == key(&a.label()))
        {
            return Err(ValidationError::new(
                field,
                "distinct sets of treatments (order and case do not matter)",
                format!("{:?} repeats {:?}", a.label(), b.label()),
            ));
        }
    }
    Ok(())
}

/// Parses every typed arm (blank entries skipped, as a trailing comma leaves) and checks them
/// together with [`check_distinct`].
pub fn parse_arms(field: &str, texts: &[String]) -> Result<Vec<Arm>, ValidationError> {
    let arms = texts
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Arm::parse(field, t))
        .collect::<Result<Vec<_>, _>>()?;
    check_distinct(field, &arms)?;
    Ok(arms)
}

#[cfg(test)]
#[path = "arm_tests.rs"]
mod tests;
