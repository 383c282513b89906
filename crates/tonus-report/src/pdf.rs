//! The clinician report as PDF: typst, used as a library, with fonts compiled into the binary
//! and no package or network access.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use typst::foundations::{Bytes, Dict, IntoValue};
use typst::text::Font;
use typst_as_lib::TypstEngine;

use crate::data::ReportData;

static TEMPLATE: &str = include_str!("../templates/report.typ");

/// Patients put emoji in notes and names (💊, 😣); without a font that has them they would
/// print as empty boxes, and a clinician would not know anything was there. Noto Color Emoji
/// (SIL OFL 1.1, fonts/OFL.txt) covers Unicode's emoji up to Emoji 15.
static EMOJI_FONT: &[u8] = include_bytes!("../fonts/NotoColorEmoji.ttf");

/// Parsed once: the bytes are static, so every report shares them instead of copying some
/// 15 MB of fonts per render.
static FONTS: LazyLock<Vec<Font>> = LazyLock::new(|| {
    typst_assets::fonts()
        .chain([EMOJI_FONT])
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect()
});

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not prepare the report data: {0}")]
    Data(#[from] serde_json::Error),
    #[error("could not lay out the report: {0}")]
    Layout(String),
    #[error("could not write the PDF: {0}")]
    Pdf(String),
}

/// Renders the report to PDF bytes. Slow-ish (tens to hundreds of ms): call it off the async
/// executor (`spawn_blocking`) in a server.
pub fn render_pdf(data: &ReportData) -> Result<Vec<u8>, ReportError> {
    let json = serde_json::to_string(data)?;
    let engine = TypstEngine::builder()
        .main_file(TEMPLATE)
        .fonts(FONTS.iter().cloned())
        .build();
    let mut inputs = Dict::new();
    inputs.insert("data".into(), json.into_value());
    inputs.insert("alt".into(), serde_json::to_string(&alt_texts(data))?.into_value());
    let doc = engine
        .compile_with_input(inputs)
        .output
        .map_err(|e| ReportError::Layout(format!("{e:?}")))?;
    // PDF/A-2a: the archival form records systems accept, with every text mapped to Unicode
    // and the document tagged, so a clinic can file it and a screen reader can read it.
    let options = typst_pdf::PdfOptions {
        standards: typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::A_2a])
            .map_err(|e| ReportError::Pdf(format!("{e:?}")))?,
        timestamp: pdf_timestamp(data.generated_at),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&doc, &options).map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

/// `None` only for a date typst cannot represent; the PDF writer then refuses the document
/// with its own "missing document date" error rather than writing a wrong date.
fn pdf_timestamp(at: jiff::Timestamp) -> Option<typst_pdf::Timestamp> {
    let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
    typst::foundations::Datetime::from_ymd_hms(
        i32::from(utc.year()),
        utc.month().unsigned_abs(),
        utc.day().unsigned_abs(),
        utc.hour().unsigned_abs(),
        utc.minute().unsigned_abs(),
        utc.second().unsigned_abs(),
    )
    .map(typst_pdf::Timestamp::new_utc)
}

/// Each chart's description (its SVG `<desc>`), given to the PDF as the image's alternative
/// text.
fn alt_texts(data: &ReportData) -> BTreeMap<&'static str, String> {
    data.charts
        .iter()
        .filter_map(|(name, svg)| {
            let desc = svg.split_once("<desc>")?.1.split_once("</desc>")?.0;
            let text = desc
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            Some((*name, text))
        })
        .collect()
}
