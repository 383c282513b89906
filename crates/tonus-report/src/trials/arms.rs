//! A trial's arms as sets of treatments. The statistics crate knows an arm only by its label
//! (`TrialDesign::arms`); which treatments make up each arm is kept next to the design in the
//! same stored JSON, under [`COMPONENTS_KEY`]. Trials planned before arms could be
//! combinations have no such key: each of their labels is `none` or one treatment's name,
//! and reads back as exactly that.

use serde::Serialize;
use tonus_domain::arm::{check_distinct, Arm};
use tonus_domain::Patient;
use tonus_stats::design::TrialDesign;
use tonus_store::{Store, StoredTrial};

use super::TrialError;

/// The key of the stored design JSON that lists each arm's treatments, in arm order.
pub const COMPONENTS_KEY: &str = "arm_components";

/// The arms of a stored design, in the design's order. Falls back to reading each label as
/// one treatment (or none) when the components are absent (older trials) or do not match the
/// labels, so a trial always reads back as it was planned.
pub fn arms_of_json(json: &serde_json::Value, design: &TrialDesign) -> Vec<Arm> {
    let stored: Option<Vec<Arm>> = json
        .get(COMPONENTS_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    match stored {
        Some(arms)
            if arms.len() == design.arms.len()
                && arms.iter().zip(&design.arms).all(|(a, label)| a.label() == *label) =>
        {
            arms
        }
        _ => design.arms.iter().map(|label| Arm::single(label)).collect(),
    }
}

/// The arms of a stored trial; see [`arms_of_json`].
pub fn arms_of(t: &StoredTrial, design: &TrialDesign) -> Vec<Arm> {
    arms_of_json(&t.design, design)
}

/// The JSON stored for a design: the statistics crate's fields and the arms' treatments.
pub fn design_json(design: &TrialDesign, arms: &[Arm]) -> Result<serde_json::Value, serde_json::Error> {
    let mut json = serde_json::to_value(design)?;
    if let Some(map) = json.as_object_mut() {
        map.insert(COMPONENTS_KEY.to_string(), serde_json::to_value(arms)?);
    }
    Ok(json)
}

/// Resolves typed arms against the patient's treatments: each component must be one of
/// them, and takes its stored name (so "baclofen" becomes "Baclofen"). A typed text that is
/// exactly an existing treatment's name is that treatment, even when the name holds a `+`.
/// Blank entries are skipped; two arms with the same set are refused.
pub async fn resolve_arms(store: &Store, patient: &Patient, typed: &[String]) -> Result<Vec<Arm>, TrialError> {
    let mut arms = Vec::new();
    for text in typed.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        if text.eq_ignore_ascii_case(tonus_domain::arm::NONE) {
            arms.push(Arm::none());
            continue;
        }
        if let Some(t) = store.treatment_by_name(patient, text).await? {
            arms.push(Arm::of("arm", vec![t.value.name().to_string()])?);
            continue;
        }
        let parsed = Arm::parse("arm", text)?;
        let mut names = Vec::with_capacity(parsed.components().len());
        for c in parsed.components() {
            let t = store.treatment_by_name(patient, c).await?.ok_or_else(|| {
                let value = if parsed.components().len() == 1 {
                    format!("{c:?}")
                } else {
                    format!("{c:?} in {text:?}")
                };
                tonus_domain::ValidationError::new(
                    "arm",
                    "`none` or the name of one of your treatments, or several joined by `+` (add the treatment first)",
                    value,
                )
            })?;
            names.push(t.value.name().to_string());
        }
        arms.push(Arm::of("arm", names)?);
    }
    check_distinct("arms", &arms)?;
    Ok(arms)
}

/// What a period asks: take every treatment of its arm, stop the trial's others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instruction {
    pub take: Vec<String>,
    /// The trial's treatments this arm leaves out.
    pub stop: Vec<String>,
}

/// The instruction for a period of arm `active` (an index into `arms`).
pub fn instruction(arms: &[Arm], active: usize) -> Instruction {
    let Some(arm) = arms.get(active) else {
        return Instruction {
            take: Vec::new(),
            stop: Vec::new(),
        };
    };
    let mut stop: Vec<String> = Vec::new();
    for name in arms.iter().flat_map(|a| a.components()) {
        if !arm.contains(name) && !stop.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            stop.push(name.clone());
        }
    }
    Instruction {
        take: arm.components().to_vec(),
        stop,
    }
}

/// "A", "A and B", "A, B and C".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Instruction {
    /// "take Baclofen and Stretching", "take Baclofen; stop Stretching",
    /// "take none of the trial treatments; stop Baclofen".
    pub fn text(&self) -> String {
        let take = if self.take.is_empty() {
            "take none of the trial treatments".to_string()
        } else {
            format!("take {}", and_list(&self.take))
        };
        if self.stop.is_empty() {
            take
        } else {
            format!("{take}; stop {}", and_list(&self.stop))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arms(texts: &[&str]) -> Vec<Arm> {
        texts.iter().map(|t| Arm::parse("arm", t).unwrap()).collect()
    }

    #[test]
    fn a_period_says_every_component_to_take_and_what_to_stop() {
        let a = arms(&["none", "Baclofen", "Baclofen + Stretching"]);
        assert_eq!(
            instruction(&a, 0).text(),
            "take none of the trial treatments; stop Baclofen and Stretching"
        );
        assert_eq!(instruction(&a, 1).text(), "take Baclofen; stop Stretching");
        assert_eq!(instruction(&a, 2).text(), "take Baclofen and Stretching");
        let three = arms(&["Baclofen + Stretching + Yoga", "none"]);
        assert_eq!(instruction(&three, 0).text(), "take Baclofen, Stretching and Yoga");
        assert_eq!(instruction(&three, 9).take, Vec::<String>::new());
    }

    #[test]
    fn stored_components_read_back_and_old_labels_read_as_single_treatments() {
        let a = arms(&["Baclofen", "Stretching + Baclofen"]);
        let design = TrialDesign::new(a.iter().map(Arm::label).collect(), 1);
        let json = design_json(&design, &a).unwrap();
        assert_eq!(
            json[COMPONENTS_KEY],
            serde_json::json!([["Baclofen"], ["Baclofen", "Stretching"]])
        );
        assert_eq!(design.arms, ["Baclofen", "Baclofen + Stretching"]);
        // The statistics crate still reads the same JSON.
        assert_eq!(serde_json::from_value::<TrialDesign>(json.clone()).unwrap(), design);
        assert_eq!(arms_of_json(&json, &design), a);
        // A trial stored before combinations: no components, labels are whole names.
        let old = TrialDesign::new(vec!["none".into(), "Vitamin B+C".into()], 1);
        let old_json = serde_json::to_value(&old).unwrap();
        let read = arms_of_json(&old_json, &old);
        assert!(read[0].is_none());
        assert_eq!(read[1].components(), ["Vitamin B+C"]);
        // Components that do not match the labels are not trusted.
        let mut odd = json;
        odd[COMPONENTS_KEY] = serde_json::json!([["X"], ["Y"]]);
        assert_eq!(arms_of_json(&odd, &design)[1].components(), ["Baclofen + Stretching"]);
    }
}
