//! Drugs whose abrupt stop can be dangerous (withdrawal seizures, rebound spasticity,
//! hallucinations). A personal trial that switches away from one of them means stopping it,
//! so the plan and the calendar caution the patient to agree a tapering plan with the
//! prescriber first. Tonus only cautions: it never says how to taper or whether to.

use crate::arm::Arm;

/// A group of drugs that share the caution, by generic and common brand names (matched
/// case-insensitively anywhere in a treatment's name, so "Baclofen 10 mg" matches).
struct Group {
    label: &'static str,
    names: &'static [&'static str],
}

const GROUPS: &[Group] = &[
    Group {
        label: "baclofen",
        names: &[
            "baclofen", "lioresal", "kemstro", "ozobax", "lyvispah", "fleqsuvy", "gablofen",
        ],
    },
    Group {
        label: "tizanidine",
        names: &["tizanidine", "zanaflex", "sirdalud"],
    },
    Group {
        label: "a benzodiazepine",
        names: &[
            "diazepam",
            "valium",
            "clonazepam",
            "klonopin",
            "rivotril",
            "lorazepam",
            "ativan",
            "alprazolam",
            "xanax",
            "clobazam",
            "temazepam",
            "nitrazepam",
            "oxazepam",
            "chlordiazepoxide",
        ],
    },
    Group {
        label: "a gabapentinoid",
        names: &["gabapentin", "neurontin", "gralise", "horizant", "pregabalin", "lyrica"],
    },
];

/// The group a treatment belongs to when stopping it abruptly can be dangerous.
pub fn abrupt_stop_risk(treatment_name: &str) -> Option<&'static str> {
    let name = treatment_name.to_lowercase();
    GROUPS
        .iter()
        .find(|g| g.names.iter().any(|n| name.contains(n)))
        .map(|g| g.label)
}

/// One caution per treatment of a trial that some of its periods go without, when that
/// treatment is a drug that should not be stopped abruptly. A drug in every arm (a shared
/// background of a combination trial) is never stopped, so it needs none.
pub fn trial_cautions(arms: &[Arm]) -> Vec<String> {
    stopped_in_some_period(arms)
        .into_iter()
        .filter_map(|name| abrupt_stop_risk(&name).map(|group| (name, group)))
        .map(|(name, group)| {
            format!(
                "Periods without {name} mean stopping it, and stopping {group} abruptly can be dangerous: \
                 agree a tapering plan with your prescriber before the trial starts. \
                 This is a caution, not medical advice."
            )
        })
        .collect()
}

/// Every treatment of the trial that at least one arm leaves out, in first-seen order.
fn stopped_in_some_period(arms: &[Arm]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in arms.iter().flat_map(|a| a.components()) {
        let missing_somewhere = arms.iter().any(|a| !a.contains(name));
        if missing_somewhere && !out.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            out.push(name.clone());
        }
    }
    out
}

/// A short form for a calendar entry on the day a period without `arm` starts.
pub fn calendar_caution(arm: &str) -> String {
    format!("stopping {arm}: agree a tapering plan with your prescriber first")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arms(names: &[&str]) -> Vec<Arm> {
        names.iter().map(|s| Arm::parse("arm", s).unwrap()).collect()
    }

    #[test]
    fn drugs_in_the_groups_are_recognised_by_generic_or_brand_name_in_any_case() {
        assert_eq!(abrupt_stop_risk("Baclofen 10 mg"), Some("baclofen"));
        assert_eq!(abrupt_stop_risk("LIORESAL"), Some("baclofen"));
        assert_eq!(abrupt_stop_risk("Zanaflex"), Some("tizanidine"));
        assert_eq!(abrupt_stop_risk("clonazepam"), Some("a benzodiazepine"));
        assert_eq!(abrupt_stop_risk("Lyrica 75"), Some("a gabapentinoid"));
        assert_eq!(abrupt_stop_risk("Gabapentin"), Some("a gabapentinoid"));
    }

    #[test]
    fn other_treatments_carry_no_caution() {
        for name in [
            "none",
            "Stretching",
            "Vitamin D",
            "Magnesium",
            "Dantrolene",
            "Nabiximols",
            "Yoga",
        ] {
            assert_eq!(abrupt_stop_risk(name), None, "{name}");
        }
        assert!(trial_cautions(&arms(&["none", "Stretching"])).is_empty());
    }

    #[test]
    fn each_risky_arm_gets_a_caution_that_names_it_and_is_not_advice() {
        let c = trial_cautions(&arms(&["none", "Baclofen", "Clonazepam 0.5 mg"]));
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(
            c[0].starts_with("Periods without Baclofen mean stopping it, and stopping baclofen abruptly"),
            "{}",
            c[0]
        );
        assert!(
            c[1].starts_with(
                "Periods without Clonazepam 0.5 mg mean stopping it, and stopping a benzodiazepine abruptly"
            ),
            "{}",
            c[1]
        );
        for line in &c {
            assert!(line.contains("agree a tapering plan with your prescriber"), "{line}");
            assert!(line.ends_with("This is a caution, not medical advice."), "{line}");
        }
    }

    #[test]
    fn a_combination_cautions_per_component_and_not_for_a_shared_drug() {
        let c = trial_cautions(&arms(&["Baclofen", "Baclofen + Stretching"]));
        assert!(c.is_empty(), "baclofen is in every arm: {c:?}");
        let c = trial_cautions(&arms(&["none", "Stretching + Tizanidine", "Baclofen + Tizanidine"]));
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(
            c[0].starts_with("Periods without Tizanidine mean stopping it"),
            "{}",
            c[0]
        );
        assert!(
            c[1].starts_with("Periods without Baclofen mean stopping it"),
            "{}",
            c[1]
        );
    }
}
