//! `tonus`: log spasms, check-ins, treatments, exercise and clinical events from a terminal.

mod cli;
mod commands;
mod context;
mod output;
mod prompt;

use std::process::ExitCode;

use clap::Parser;

use crate::context::UserError;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if is_bad_input(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Bad input (exit 2) is anything the user can fix by typing something else; the rest
/// (disk, database, bugs) exits 1.
fn is_bad_input(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<tonus_domain::ValidationError>()
            || cause.is::<UserError>()
            || matches!(
                cause.downcast_ref::<tonus_store::StoreError>(),
                Some(tonus_store::StoreError::Conflict(_))
            )
    })
}
