//! SNOMED CT codes for what a patient names in their own words: the common MS spasticity
//! drugs (by substance) and the body regions of the diary (with their side). Every code was
//! checked against a published source; docs/fhir.md lists them with the source of each.

use tonus_domain::Region;

/// A drug Tonus can code: the SNOMED CT substance (code, preferred term) and the names a
/// patient may type for it (generic first, then common brand names).
struct Drug {
    code: &'static str,
    display: &'static str,
    names: &'static [&'static str],
}

/// Substances, not products: a patient's "Baclofen 10 mg" names the substance and a dose
/// Tonus records separately, and IPS allows substance codes for a medication. Nabiximols
/// (Sativex) is left out on purpose: it is a combination of two substances with no single
/// substance code, and no product code could be verified, so it is sent as text.
const DRUGS: &[Drug] = &[
    Drug {
        code: "387342009",
        display: "Baclofen",
        names: &["baclofen", "lioresal", "lyflex", "gablofen", "ozobax"],
    },
    Drug {
        code: "373440006",
        display: "Tizanidine",
        names: &["tizanidine", "zanaflex", "sirdalud"],
    },
    Drug {
        code: "386845007",
        display: "Gabapentin",
        names: &["gabapentin", "neurontin"],
    },
    Drug {
        code: "415160008",
        display: "Pregabalin",
        names: &["pregabalin", "lyrica"],
    },
    Drug {
        code: "372819007",
        display: "Dantrolene",
        names: &["dantrolene", "dantrium"],
    },
    Drug {
        code: "387264003",
        display: "Diazepam",
        names: &["diazepam", "valium"],
    },
    Drug {
        code: "387383007",
        display: "Clonazepam",
        names: &["clonazepam", "rivotril", "klonopin"],
    },
    Drug {
        code: "108890005",
        display: "Botulinum toxin type A",
        names: &[
            "botulinum toxin",
            "botulinum toxin type a",
            "botulinum toxin a",
            "onabotulinumtoxina",
            "abobotulinumtoxina",
            "incobotulinumtoxina",
            "botox",
            "dysport",
            "xeomin",
        ],
    },
];

/// The SNOMED CT substance of a drug the patient named, when the name is (or starts with,
/// as in "Baclofen 10 mg" or "Botox injection") one of the known names. Anything else,
/// including a combination ("baclofen + stretching" is two treatments, not a drug), is not
/// coded: a wrong code in a clinic's record is worse than plain text.
pub fn medication_snomed(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.trim().to_lowercase();
    if name.contains('+') || name.contains(" and ") || name.contains(',') || name.contains('/') {
        return None;
    }
    DRUGS
        .iter()
        .find(|d| {
            d.names.iter().any(|n| {
                name.strip_prefix(n)
                    .is_some_and(|rest| rest.is_empty() || !rest.starts_with(|c: char| c.is_alphanumeric()))
            })
        })
        .map(|d| (d.code, d.display))
}

/// The SNOMED CT body structure of a diary region, with its side where it has one: the
/// lateralised structure concepts say left or right in the code itself, which every
/// receiver reads, where a separate laterality qualifier would need post-coordination.
pub fn region_snomed(region: Region) -> (&'static str, &'static str) {
    use Region::*;
    match region {
        LeftFoot => ("22335008", "Structure of left foot"),
        RightFoot => ("7769000", "Structure of right foot"),
        LeftCalf => ("722115008", "Structure of calf of left lower leg"),
        RightCalf => ("722116009", "Structure of calf of right lower leg"),
        LeftThigh => ("61396006", "Structure of left thigh"),
        RightThigh => ("11207009", "Structure of right thigh"),
        LeftHip => ("287679003", "Left hip region structure"),
        RightHip => ("287579007", "Right hip region structure"),
        LeftHand => ("85151006", "Structure of left hand"),
        RightHand => ("78791008", "Structure of right hand"),
        LeftForearm => ("66480008", "Structure of left forearm"),
        RightForearm => ("64262003", "Structure of right forearm"),
        LeftUpperArm => ("368208006", "Left upper arm structure"),
        RightUpperArm => ("368209003", "Right upper arm structure"),
        LeftShoulder => ("91775009", "Structure of left shoulder region"),
        RightShoulder => ("91774008", "Structure of right shoulder region"),
        Back => ("77568009", "Structure of back of trunk"),
        Abdomen => ("113345001", "Abdominal structure"),
        Neck => ("45048000", "Neck structure"),
        Jaw => ("661005", "Jaw region structure"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_and_brands_are_coded_and_other_text_is_not() {
        assert_eq!(medication_snomed("Baclofen"), Some(("387342009", "Baclofen")));
        assert_eq!(medication_snomed("  baclofen 10 mg "), Some(("387342009", "Baclofen")));
        assert_eq!(medication_snomed("Lioresal"), Some(("387342009", "Baclofen")));
        assert_eq!(medication_snomed("Botox injection").map(|c| c.0), Some("108890005"));
        assert_eq!(medication_snomed("Dantrolene").map(|c| c.0), Some("372819007"));
        assert_eq!(medication_snomed("Lyrica").map(|c| c.0), Some("415160008"));
        for uncoded in [
            "Sativex",
            "nabiximols",
            "Vitamin D",
            "Baclofen + Stretching",
            "baclofen and tizanidine",
            "baclofenx",
            "Stretching",
            "",
        ] {
            assert_eq!(medication_snomed(uncoded), None, "{uncoded}");
        }
    }

    #[test]
    fn every_region_has_a_distinct_code_and_paired_regions_name_their_side() {
        let mut seen = std::collections::HashSet::new();
        for r in Region::ALL {
            let (code, display) = region_snomed(*r);
            assert!(seen.insert(code), "{code} used twice");
            assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
            let side = r.code().split('-').next().unwrap_or_default();
            if side == "left" || side == "right" {
                assert!(display.to_lowercase().contains(side), "{r:?}: {display}");
            }
        }
    }
}
