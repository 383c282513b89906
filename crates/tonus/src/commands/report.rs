//! `tonus report`: gathers the patient's records for a date range, computes the report with
//! `tonus-report`, and writes the PDF (and optionally the charts as SVG).

use std::time::Instant;

use anyhow::{Context as _, Result};
use tonus_domain::input::parse_date;
use tonus_domain::ValidationError;
use tonus_report::data::PDF_NOTES;
use tonus_report::{gather, render_pdf, Notes, Section};

use crate::cli::ReportArgs;
use crate::context::Ctx;

pub async fn run(ctx: &Ctx, a: ReportArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    let from = parse_date("from", &a.from, &patient.zone, ctx.now)?;
    let to = parse_date("to", &a.to, &patient.zone, ctx.now)?;
    if to < from {
        return Err(ValidationError::new("to", format!("on or after --from ({from})"), to).into());
    }
    if (to - from).get_days() > 3660 {
        return Err(ValidationError::new("from", "at most 10 years before --to", from).into());
    }
    if a.gentle_limit > 10 {
        return Err(ValidationError::new("gentle_limit", "an integer 0–10", a.gentle_limit).into());
    }
    let sections: Vec<Section> = if a.sections.is_empty() {
        Section::ALL.to_vec()
    } else {
        a.sections.iter().map(|s| Section::parse(s)).collect::<Result<_, _>>()?
    };
    let started = Instant::now();
    let trials = tonus_report::trials::summaries(&ctx.store, &patient, from, to, ctx.now).await?;
    let data = gather(
        &ctx.store,
        &patient,
        from,
        to,
        ctx.now,
        &sections,
        a.gentle_limit,
        &trials,
        if a.notes {
            Notes::Newest(PDF_NOTES)
        } else {
            Notes::Hidden
        },
    )
    .await?;
    let episodes = data.summary.involuntary_total + data.summary.stiffness_total;
    if let Some(dir) = &a.svg_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, svg) in &data.charts {
            let path = dir.join(format!("{name}.svg"));
            std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    // Layout is CPU-bound; keep it off the async workers.
    let pdf = tokio::task::spawn_blocking(move || render_pdf(&data))
        .await
        .context("report task")??;
    // A crash never leaves half a PDF under the real name.
    super::backup::write_whole(&a.out, |w| {
        w.write_all(&pdf)
            .with_context(|| format!("writing {}", a.out.display()))
    })?;
    super::report(
        ctx,
        &format!(
            "Wrote {} ({} KiB, {} to {}, {} episodes) in {:.1} s.",
            a.out.display(),
            pdf.len() / 1024,
            from,
            to,
            episodes,
            started.elapsed().as_secs_f64()
        ),
        &serde_json::json!({
            "out": a.out, "bytes": pdf.len(), "from": from, "to": to, "episodes": episodes, "notes": a.notes,
            "sections": sections.iter().map(|s| s.code()).collect::<Vec<_>>(),
            "seconds": started.elapsed().as_secs_f64(),
        }),
    )
}
