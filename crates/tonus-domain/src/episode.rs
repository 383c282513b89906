//! Spasm episodes: one spasm or cramp event, with its kind, where, how painful, how long, and
//! what set it off.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{check_range, optional_text};
use crate::time::LocalInstant;
use crate::vocab::vocabulary;
use crate::ValidationError;

/// The two families are analysed separately: a treatment may help one and not the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    InvoluntaryMovement,
    Stiffness,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::InvoluntaryMovement, Family::Stiffness];

    pub fn code(self) -> &'static str {
        match self {
            Family::InvoluntaryMovement => "involuntary-movement",
            Family::Stiffness => "stiffness",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Family::InvoluntaryMovement => "involuntary movement",
            Family::Stiffness => "stiffness",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        let normal = input.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match normal.as_str() {
            "involuntary-movement" | "involuntary" | "movement" => Some(Family::InvoluntaryMovement),
            "stiffness" => Some(Family::Stiffness),
            _ => None,
        }
    }
}

vocabulary! {
    /// Sub-kinds of a spasm, each in one family.
    SpasmKind, "kind" {
        Twitch = "twitch", "twitch";
        /// A jerk or sudden tic.
        Jerk = "jerk", "jerk / sudden tic";
        /// Rhythmic beating.
        Clonus = "clonus", "clonus (rhythmic beating)";
        FlexorSpasm = "flexor-spasm", "flexor spasm (limb pulled in)";
        ExtensorSpasm = "extensor-spasm", "extensor spasm (limb kicked out)";
        Cramp = "cramp", "cramp";
        /// The limb locks, as if paralysed.
        SustainedStiffness = "sustained-stiffness", "sustained stiffness (limb locked)";
    }
}

impl SpasmKind {
    pub fn family(self) -> Family {
        match self {
            SpasmKind::Cramp | SpasmKind::SustainedStiffness => Family::Stiffness,
            _ => Family::InvoluntaryMovement,
        }
    }
}

vocabulary! {
    /// Body regions, a fixed vocabulary so counts per region mean the same for everyone.
    Region, "region" {
        LeftFoot = "left-foot", "left foot";
        RightFoot = "right-foot", "right foot";
        LeftCalf = "left-calf", "left calf";
        RightCalf = "right-calf", "right calf";
        LeftThigh = "left-thigh", "left thigh";
        RightThigh = "right-thigh", "right thigh";
        LeftHip = "left-hip", "left hip";
        RightHip = "right-hip", "right hip";
        LeftHand = "left-hand", "left hand";
        RightHand = "right-hand", "right hand";
        LeftForearm = "left-forearm", "left forearm";
        RightForearm = "right-forearm", "right forearm";
        LeftUpperArm = "left-upper-arm", "left upper arm";
        RightUpperArm = "right-upper-arm", "right upper arm";
        LeftShoulder = "left-shoulder", "left shoulder";
        RightShoulder = "right-shoulder", "right shoulder";
        Back = "back", "back";
        Abdomen = "abdomen", "abdomen";
        Neck = "neck", "neck";
        Jaw = "jaw", "jaw";
    }
}

vocabulary! {
    /// What set an episode off, when the patient knows.
    Trigger, "trigger" {
        Movement = "movement", "movement or transfer";
        Stretch = "stretch", "stretch";
        Waking = "waking", "waking or lying down";
        Heat = "heat", "heat";
        Cold = "cold", "cold";
        Infection = "infection", "infection";
        FullBladder = "full-bladder", "full bladder";
        Constipation = "constipation", "constipation";
        Fatigue = "fatigue", "fatigue";
        Stress = "stress", "stress";
        TightClothing = "tight-clothing", "tight clothing";
        Unknown = "unknown", "unknown";
    }
}

/// Pain on the 0–10 numeric rating scale (0 no pain, 10 worst imaginable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Pain(u8);

impl Pain {
    pub fn new(value: i64) -> Result<Self, ValidationError> {
        check_range("pain", value, 0, 10).map(|v| Self(v as u8))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Pain {
    type Error = ValidationError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Pain> for u8 {
    fn from(p: Pain) -> u8 {
        p.0
    }
}

/// Longest episode we accept: a day. Anything longer is a typing slip, not a spasm.
pub const MAX_DURATION_SECONDS: i64 = 86_400;
pub const MAX_NOTE_CHARS: usize = 2_000;
pub const MAX_TRIGGER_NOTE_CHARS: usize = 200;

/// Unvalidated episode fields as a front end collects them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EpisodeDraft {
    pub kind: String,
    pub regions: Vec<String>,
    pub pain: Option<i64>,
    pub duration_s: Option<i64>,
    pub triggers: Vec<String>,
    pub trigger_note: Option<String>,
    pub notes: Option<String>,
}

/// A spasm episode that passed every rule. Fields are private: the only way in is
/// [`Episode::new`] (or [`EpisodeDraft::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    started_at: LocalInstant,
    kind: SpasmKind,
    regions: Vec<Region>,
    pain: Option<Pain>,
    duration_s: Option<u32>,
    triggers: Vec<Trigger>,
    trigger_note: Option<String>,
    notes: Option<String>,
    recorded_at: Timestamp,
}

/// An episode entered more than this long after it started is marked as back-filled.
pub const BACKFILL_AFTER_SECONDS: i64 = 3_600;

impl Episode {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        started_at: LocalInstant,
        kind: SpasmKind,
        regions: Vec<Region>,
        pain: Option<Pain>,
        duration_s: Option<i64>,
        triggers: Vec<Trigger>,
        trigger_note: Option<&str>,
        notes: Option<&str>,
        recorded_at: Timestamp,
    ) -> Result<Self, ValidationError> {
        let started_at = LocalInstant::past("started_at", started_at.at, started_at.zone, recorded_at)?;
        let duration_s = match duration_s {
            None => None,
            Some(d) if (0..=MAX_DURATION_SECONDS).contains(&d) => Some(d as u32),
            Some(d) => {
                return Err(ValidationError::new(
                    "duration",
                    "between 0 seconds and 24 hours",
                    format!("{d} s"),
                ))
            }
        };
        Ok(Self {
            started_at,
            kind,
            regions: dedup_sorted(regions),
            pain,
            duration_s,
            triggers: dedup_sorted(triggers),
            trigger_note: optional_text("trigger_note", trigger_note, MAX_TRIGGER_NOTE_CHARS)?,
            notes: optional_text("notes", notes, MAX_NOTE_CHARS)?,
            recorded_at,
        })
    }

    pub fn started_at(&self) -> &LocalInstant {
        &self.started_at
    }
    pub fn kind(&self) -> SpasmKind {
        self.kind
    }
    pub fn family(&self) -> Family {
        self.kind.family()
    }
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }
    pub fn pain(&self) -> Option<Pain> {
        self.pain
    }
    pub fn duration_s(&self) -> Option<u32> {
        self.duration_s
    }
    pub fn triggers(&self) -> &[Trigger] {
        &self.triggers
    }
    pub fn trigger_note(&self) -> Option<&str> {
        self.trigger_note.as_deref()
    }
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }
    pub fn recorded_at(&self) -> Timestamp {
        self.recorded_at
    }
    /// Entered well after it happened: shown as such, since recall is less reliable.
    pub fn backfilled(&self) -> bool {
        self.recorded_at.as_second() - self.started_at.at.as_second() > BACKFILL_AFTER_SECONDS
    }
}

impl EpisodeDraft {
    /// Validates every field, reporting the first one that breaks a rule.
    pub fn validate(&self, started_at: LocalInstant, recorded_at: Timestamp) -> Result<Episode, ValidationError> {
        let kind = SpasmKind::parse(&self.kind)?;
        let regions = self
            .regions
            .iter()
            .map(|r| Region::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        let pain = self.pain.map(Pain::new).transpose()?;
        let triggers = self
            .triggers
            .iter()
            .map(|t| Trigger::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        Episode::new(
            started_at,
            kind,
            regions,
            pain,
            self.duration_s,
            triggers,
            self.trigger_note.as_deref(),
            self.notes.as_deref(),
            recorded_at,
        )
    }
}

fn dedup_sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-20T12:00:00Z".parse().unwrap()
    }

    fn at(s: &str) -> LocalInstant {
        LocalInstant {
            at: s.parse().unwrap(),
            zone: Zone::parse("Europe/Paris").unwrap(),
        }
    }

    #[test]
    fn pain_out_of_range_names_field_value_and_rule() {
        let err = Pain::new(11).unwrap_err();
        assert_eq!(err.to_string(), "pain must be an integer 0–10, got 11");
    }

    #[test]
    fn unknown_region_lists_the_vocabulary() {
        let err = Region::parse("left-elbow").unwrap_err();
        assert_eq!(err.field, "region");
        assert!(err.rule.contains("left-calf"));
    }

    #[test]
    fn kinds_belong_to_their_family() {
        assert_eq!(SpasmKind::Cramp.family(), Family::Stiffness);
        assert_eq!(SpasmKind::SustainedStiffness.family(), Family::Stiffness);
        assert_eq!(SpasmKind::Twitch.family(), Family::InvoluntaryMovement);
        assert_eq!(SpasmKind::Clonus.family(), Family::InvoluntaryMovement);
    }

    #[test]
    fn vocabulary_parse_is_lenient_about_case_and_separators() {
        assert_eq!(Region::parse("Left_Upper Arm").unwrap(), Region::LeftUpperArm);
        assert_eq!(SpasmKind::parse("FLEXOR spasm").unwrap(), SpasmKind::FlexorSpasm);
    }

    #[test]
    fn backfilled_when_entered_late() {
        let e = EpisodeDraft {
            kind: "cramp".into(),
            ..Default::default()
        }
        .validate(at("2026-11-20T03:10:00Z"), now())
        .unwrap();
        assert!(e.backfilled());
        let e = EpisodeDraft {
            kind: "cramp".into(),
            ..Default::default()
        }
        .validate(at("2026-11-20T11:59:00Z"), now())
        .unwrap();
        assert!(!e.backfilled());
    }

    #[test]
    fn duration_bounds() {
        let d = EpisodeDraft {
            kind: "cramp".into(),
            duration_s: Some(86_401),
            ..Default::default()
        };
        assert_eq!(
            d.validate(at("2026-11-20T03:10:00Z"), now()).unwrap_err().field,
            "duration"
        );
        let d = EpisodeDraft {
            kind: "cramp".into(),
            duration_s: Some(-1),
            ..Default::default()
        };
        assert!(d.validate(at("2026-11-20T03:10:00Z"), now()).is_err());
    }

    proptest! {
        #[test]
        fn pain_accepts_exactly_0_to_10(v in -1000i64..1000) {
            prop_assert_eq!(Pain::new(v).is_ok(), (0..=10).contains(&v));
        }

        #[test]
        fn any_kind_code_round_trips(i in 0usize..SpasmKind::ALL.len()) {
            let k = SpasmKind::ALL[i];
            prop_assert_eq!(SpasmKind::parse(k.code()).unwrap(), k);
        }

        #[test]
        fn arbitrary_strings_are_either_a_code_or_rejected(s in "\\PC{0,20}") {
            match Region::parse(&s) {
                Ok(r) => prop_assert_eq!(r.code(), s.trim().to_ascii_lowercase().replace(['_', ' '], "-")),
                Err(e) => prop_assert_eq!(e.field, "region"),
            }
        }

        #[test]
        fn long_notes_are_rejected(extra in 1usize..50) {
            let notes = "x".repeat(MAX_NOTE_CHARS + extra);
            let d = EpisodeDraft { kind: "twitch".into(), notes: Some(notes), ..Default::default() };
            prop_assert_eq!(d.validate(at("2026-11-20T03:10:00Z"), now()).unwrap_err().field, "notes");
        }

        #[test]
        fn episodes_serialise_and_deserialise_unchanged(pain in proptest::option::of(0i64..=10), dur in proptest::option::of(0i64..=86_400), ri in proptest::collection::vec(0usize..Region::ALL.len(), 0..4)) {
            let d = EpisodeDraft {
                kind: "jerk".into(),
                regions: ri.iter().map(|i| Region::ALL[*i].code().to_string()).collect(),
                pain,
                duration_s: dur,
                ..Default::default()
            };
            let e = d.validate(at("2026-11-19T03:10:00Z"), now()).unwrap();
            let json = serde_json::to_string(&e).unwrap();
            let back: Episode = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, e);
        }
    }
}
