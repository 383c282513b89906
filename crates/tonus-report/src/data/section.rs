//! The report's sections: their codes, titles and order.

/// Report sections, in the order they appear. The one-page summary always comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Summary,
    Treatments,
    Counts,
    Scores,
    Regions,
    Night,
    Events,
    SideEffects,
    Exercise,
    Trials,
}

impl Section {
    pub const ALL: [Section; 10] = [
        Section::Summary,
        Section::Treatments,
        Section::Counts,
        Section::Scores,
        Section::Regions,
        Section::Night,
        Section::Events,
        Section::SideEffects,
        Section::Exercise,
        Section::Trials,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Section::Summary => "summary",
            Section::Treatments => "treatments",
            Section::Counts => "counts",
            Section::Scores => "scores",
            Section::Regions => "regions",
            Section::Night => "night",
            Section::Events => "events",
            Section::SideEffects => "side-effects",
            Section::Exercise => "exercise",
            Section::Trials => "trials",
        }
    }

    pub fn parse(s: &str) -> Result<Self, tonus_domain::ValidationError> {
        Self::ALL
            .iter()
            .copied()
            .find(|x| x.code() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|x| x.code()).collect();
                tonus_domain::ValidationError::new(
                    "sections",
                    format!("a list of {}", codes.join(", ")),
                    format!("{s:?}"),
                )
            })
    }
}
