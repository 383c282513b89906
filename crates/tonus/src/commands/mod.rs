//! One module per command family; each turns parsed arguments into domain values (so every
//! rule is the domain's), writes them, and reports what was stored.

mod audit;
mod backup;
mod checkin;
mod delete;
mod demo;
mod edit;
mod event;
mod exercise;
mod export;
mod import;
mod import_fhir;
mod list;
mod log;
mod patient;
mod report;
mod serve;
mod side_effect;
mod treatment;
mod trial;
mod user;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::context::Ctx;

pub async fn run(cli: Cli) -> Result<()> {
    // `serve` opens its own database, possibly one named in its settings file: opening the
    // default one here first would create a stray SQLite file.
    let command = match cli.command {
        Command::Serve(a) => return serve::run(a, &cli.global).await,
        other => other,
    };
    canonical_from_env()?;
    let ctx = Ctx::open(&cli.global).await?;
    let result = match command {
        Command::Log(c) => log::run(&ctx, c).await,
        Command::Checkin(a) => checkin::run(&ctx, a).await,
        Command::Treatment(c) => treatment::run(&ctx, c).await,
        Command::Dose(a) => treatment::dose(&ctx, a).await,
        Command::Exercise(a) => exercise::run(&ctx, a).await,
        Command::SideEffect(a) => side_effect::run(&ctx, a).await,
        Command::Event(c) => event::run(&ctx, c).await,
        Command::List(a) => list::run(&ctx, a).await,
        Command::Days(a) => list::days(&ctx, a).await,
        Command::Edit(c) => edit::run(&ctx, c).await,
        Command::Delete(a) => delete::run(&ctx, a).await,
        Command::Patient(c) => patient::run(&ctx, c).await,
        Command::Demo(a) => demo::run(&ctx, a).await,
        Command::Export(c) => export::run(&ctx, c).await,
        Command::Import(c) => import::run(&ctx, c).await,
        Command::Backup(a) => backup::backup(&ctx, a, cli.global.patient.as_deref()).await,
        Command::Restore(a) => backup::restore(&ctx, a, cli.global.patient.as_deref()).await,
        Command::Report(a) => report::run(&ctx, a).await,
        Command::Trial(c) => trial::run(&ctx, c).await,
        Command::Analyse(c) => trial::analyse(&ctx, c).await,
        Command::Serve(a) => serve::run(a, &cli.global).await,
        Command::User(c) => user::run(&ctx, c).await,
        Command::Audit(c) => audit::run(&ctx, c).await,
    };
    ctx.store.close().await;
    result
}

/// Prints a confirmation for people, or the record as JSON for scripts.
fn report<T: serde::Serialize>(ctx: &Ctx, text: &str, json: &T) -> Result<()> {
    if ctx.json {
        crate::output::print_json(json)
    } else {
        println!("{text}");
        Ok(())
    }
}

/// The base of Tonus's own FHIR codes for exports and imports from the command line: as
/// `serve` reads it, from TONUS_FHIR_CANONICAL_URL, else TONUS_PUBLIC_URL + `/fhir`, so
/// the files and the server's FHIR endpoint agree when both are set in the environment.
fn canonical_from_env() -> Result<()> {
    let explicit = std::env::var("TONUS_FHIR_CANONICAL_URL")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let url = match explicit {
        Some(v) => v,
        None => match std::env::var("TONUS_PUBLIC_URL").ok().filter(|v| !v.trim().is_empty()) {
            Some(p) => format!("{}/fhir", p.trim().trim_end_matches('/')),
            None => return Ok(()),
        },
    };
    tonus_interop::fhir::set_base(&url)
        .map_err(|e| crate::context::user_error(format!("TONUS_FHIR_CANONICAL_URL or TONUS_PUBLIC_URL: {e}")))?;
    Ok(())
}
