//! `tonus serve`: the web application on the same database as the CLI.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use tonus_server::settings::{self, Layer};
use tonus_store::Store;

use crate::cli::{Global, ServeArgs};
use crate::context::user_error;

/// How long closing the database pool may take at shutdown, after the grace period.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The settings layers, lowest precedence first: the file, the environment, the flags.
fn layers(args: &ServeArgs, global: &Global) -> Result<Vec<Layer>> {
    let mut layers = Vec::new();
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| user_error(format!("cannot read the config file {}: {e}", path.display())))?;
        layers.push(Layer::from_toml(&path.display().to_string(), &text).map_err(|e| user_error(e.to_string()))?);
    }
    let env = Layer::from_env(|var| std::env::var(var).ok()).map_err(|e| user_error(e.to_string()))?;
    layers.push(env);
    let mut flags = Layer::new("command line");
    if let Some(v) = args.listen {
        flags.set("listen", v.to_string());
    }
    if args.open_registration {
        flags.set("open_registration", true);
    }
    // Out-of-range numbers become their largest i64 and meet the range rule's message.
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    if let Some(v) = args.idle_minutes {
        flags.set("session.idle_minutes", int(v));
    }
    if let Some(v) = args.max_session_hours {
        flags.set("session.absolute_hours", int(v));
    }
    if let Some(v) = args.api_requests_per_minute {
        flags.set("limits.api_requests_per_minute", i64::from(v));
    }
    // `--database` and TONUS_DATABASE_URL arrive merged by clap; only a flag that differs
    // from the environment is the command line's.
    if let Some(db) = &global.database {
        if std::env::var("TONUS_DATABASE_URL").ok().as_deref() != Some(db.as_str()) {
            flags.set("database_url", db.clone());
        }
    }
    layers.push(flags);
    Ok(layers)
}

pub async fn run(args: ServeArgs, global: &Global) -> Result<()> {
    let resolved = settings::resolve(&layers(&args, global)?).map_err(|e| user_error(e.to_string()))?;
    let config = resolved.config;
    if let Some(url) = &config.fhir_canonical_url {
        tonus_interop::fhir::set_base(url).map_err(|e| user_error(e.to_string()))?;
    }
    tonus_server::init_logging(resolved.log_format);
    // Before anything slow: a SIGTERM from here on shuts down cleanly.
    let shutdown = tonus_server::shutdown_signal();

    let location = match &resolved.database_url {
        Some(url) => url.clone(),
        None => tonus_store::default_sqlite_path().display().to_string(),
    };
    // The server owns its own pool, shared by every request.
    let store = Arc::new(
        Store::open(&location)
            .await
            .with_context(|| format!("opening the database {location}"))?,
    );
    let listener = tonus_server::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match config.metrics_listen {
        Some(m) => Some(
            tonus_server::bind(m)
                .await
                .with_context(|| format!("listening for metrics on {m}"))?,
        ),
        None => None,
    };
    // Tests and scripts read this first line for the address.
    println!(
        "Tonus listening on http://{addr} ({} at {})",
        store.backend_name(),
        store.location()
    );
    if let Some(m) = &metrics_listener {
        println!("Metrics at http://{}/metrics", m.local_addr()?);
    }
    let base = match &config.public_url {
        Some(u) => u.clone(),
        // Browsers keep Secure cookies over plain HTTP for "localhost" (not always for
        // 127.0.0.1), so point people there.
        None if addr.ip().is_loopback() => format!("http://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    };
    if store.count_users().await? == 0 {
        println!(
            "No accounts yet: open {base}/setup to create the administrator, or run `tonus user add --role admin NAME`."
        );
    } else {
        println!("Sign in at {base}/login");
        if store.user_by_username(super::demo::DEMO_USER).await?.is_some() {
            println!(
                "  Demo account: user `{}`, with the password `tonus demo` printed when it made the account.",
                super::demo::DEMO_USER
            );
        }
    }
    if !addr.ip().is_loopback() && config.public_url.as_deref().is_none_or(|u| !u.starts_with("https://")) {
        eprintln!(
            "note: session cookies are Secure: browsers send them only over HTTPS (or to localhost); put Tonus behind a TLS reverse proxy."
        );
    }
    tonus_server::serve_with(listener, metrics_listener, store.clone(), config, shutdown).await?;
    // Requests cut off by the grace period may still hold connections; closing waits for
    // them, so bound it too. Their transactions roll back either way.
    if tokio::time::timeout(CLOSE_TIMEOUT, store.close()).await.is_err() {
        eprintln!(
            "warning: database connections still busy after {} s: exiting without them",
            CLOSE_TIMEOUT.as_secs()
        );
    }
    Ok(())
}
