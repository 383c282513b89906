//! `tonus audit verify`: walks the audit log's hash chain and names the first row that does
//! not match (exit status 1), so tampering with the database is detectable.

use anyhow::{bail, Result};

use crate::cli::AuditCommand;
use crate::context::Ctx;

pub async fn run(ctx: &Ctx, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Verify => verify(ctx).await,
    }
}

async fn verify(ctx: &Ctx) -> Result<()> {
    let v = ctx.store.verify_audit().await?;
    if let Some((id, why)) = &v.first_bad {
        if ctx.json {
            crate::output::print_json(&v)?;
        }
        bail!("audit log row {id} does not verify: {why}");
    }
    let text = format!(
        "Audit log intact: {} rows; newest hash {}. Keep that hash elsewhere to detect removal of the newest rows.",
        v.rows, v.head
    );
    super::report(ctx, &text, &v)
}
