//! `tonus serve`: the web application on the same database as the CLI.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use tonus_store::Store;

use crate::cli::{Global, ServeArgs};

pub async fn run(args: ServeArgs, global: &Global) -> Result<()> {
    let location = match &global.database {
        Some(url) => url.clone(),
        None => tonus_store::default_sqlite_path().display().to_string(),
    };
    // The server owns its own pool (shared by every request); the command's context keeps
    // its own, idle meanwhile.
    let store = Arc::new(
        Store::open(&location)
            .await
            .with_context(|| format!("opening the database {location}"))?,
    );
    let config = tonus_server::Config {
        listen: args.listen,
        open_registration: args.open_registration,
        session_idle: std::time::Duration::from_secs(args.idle_minutes.max(1) * 60),
        session_absolute: std::time::Duration::from_secs(args.max_session_hours.max(1) * 3600),
        api_requests_per_minute: args.api_requests_per_minute,
        ..tonus_server::Config::default()
    };
    tonus_server::init_logging();
    let listener = tonus_server::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "Tonus listening on http://{addr} ({} at {})",
        store.backend_name(),
        store.location()
    );
    if store.count_users().await? == 0 {
        println!(
            "No accounts yet: open http://{addr}/setup to create the administrator, or run `tonus user add --role admin NAME`."
        );
    }
    if !addr.ip().is_loopback() {
        eprintln!(
            "note: session cookies are Secure: browsers send them only over HTTPS (or to localhost); put Tonus behind a TLS reverse proxy."
        );
    }
    tonus_server::serve_on(listener, store.clone(), config, tonus_server::shutdown_signal()).await?;
    store.close().await;
    Ok(())
}
