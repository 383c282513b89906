//! Exercise sessions. Gentle exercise helps some spasms; too much can bring them on, so the
//! perceived exertion is kept and load is minutes × exertion.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{check_range, optional_text};
use crate::time::LocalInstant;
use crate::vocab::vocabulary;
use crate::ValidationError;

vocabulary! {
    ExerciseType, "type" {
        Yoga = "yoga", "yoga";
        Pilates = "pilates", "Pilates";
        Water = "water", "water exercise";
        Stretching = "stretching", "stretching";
        Walking = "walking", "walking";
        Cycling = "cycling", "cycling";
        Strength = "strength", "strength";
        Other = "other", "other";
    }
}

/// Default upper bound of "gentle" on the 0–10 exertion scale (light to moderate is about 2–4).
pub const DEFAULT_GENTLE_LIMIT: u8 = 4;
pub const MAX_MINUTES: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseSession {
    at: LocalInstant,
    exercise_type: ExerciseType,
    minutes: u16,
    exertion: u8,
    note: Option<String>,
}

impl ExerciseSession {
    pub fn new(
        at: LocalInstant,
        exercise_type: ExerciseType,
        minutes: i64,
        exertion: i64,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let at = LocalInstant::past("at", at.at, at.zone, now)?;
        let minutes = check_range("minutes", minutes, 1, MAX_MINUTES)? as u16;
        let exertion = check_range("exertion", exertion, 0, 10)? as u8;
        Ok(Self {
            at,
            exercise_type,
            minutes,
            exertion,
            note: optional_text("note", note, crate::episode::MAX_NOTE_CHARS)?,
        })
    }
    pub fn at(&self) -> &LocalInstant {
        &self.at
    }
    pub fn exercise_type(&self) -> ExerciseType {
        self.exercise_type
    }
    pub fn minutes(&self) -> u16 {
        self.minutes
    }
    pub fn exertion(&self) -> u8 {
        self.exertion
    }
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
    /// Minutes × exertion: the load related to next-day spasms.
    pub fn load(&self) -> u32 {
        u32::from(self.minutes) * u32::from(self.exertion)
    }
    /// Beyond the patient's own gentle limit.
    pub fn beyond_gentle(&self, limit: u8) -> bool {
        self.exertion > limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;

    #[test]
    fn bounds_and_flags() {
        let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let at = LocalInstant {
            at: "2026-11-20T09:00:00Z".parse().unwrap(),
            zone: Zone::utc(),
        };
        assert_eq!(
            ExerciseSession::new(at.clone(), ExerciseType::Yoga, 0, 3, None, now)
                .unwrap_err()
                .to_string(),
            "minutes must be an integer 1–600, got 0"
        );
        assert_eq!(
            ExerciseSession::new(at.clone(), ExerciseType::Yoga, 30, 11, None, now)
                .unwrap_err()
                .field,
            "exertion"
        );
        let s = ExerciseSession::new(at, ExerciseType::Water, 40, 5, None, now).unwrap();
        assert_eq!(s.load(), 200);
        assert!(s.beyond_gentle(DEFAULT_GENTLE_LIMIT));
        assert!(!s.beyond_gentle(5));
    }
}
