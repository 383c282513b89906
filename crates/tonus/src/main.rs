//! `tonus`: log spasms, check-ins, treatments, exercise and clinical events from a terminal.

mod cli;
mod commands;
mod context;
mod output;
mod prompt;

use std::process::ExitCode;

use clap::Parser;

use crate::context::UserError;

/// Rust ignores SIGPIPE, so writing to a closed pipe (`tonus list | head -1`) makes
/// `println!` panic. A command-line tool should instead end quietly, as the shell expects
/// (status 141), so the default action is put back before anything is written.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}

fn main() -> ExitCode {
    restore_sigpipe();
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
    let result = runtime.block_on(commands::run(cli));
    // Tasks still running (requests `serve` abandoned after its grace period) must not keep
    // the process alive: give them a moment, then exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
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
                Some(tonus_store::StoreError::Conflict(_) | tonus_store::StoreError::Invalid(_))
            )
    })
}
