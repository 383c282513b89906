//! The Tonus web application: accounts and sessions, consent between patients and clinicians,
//! a hash-chained audit log, the quick-log pages and the JSON API (documented at
//! `/api/openapi.json`). Every asset is served from the binary: no network at run time.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod fhir;
mod html;
pub mod limits;
pub mod openapi;
pub mod ops;
pub mod proxy;
pub mod push;
pub mod routes;
pub mod security;
pub mod service;
pub mod settings;
pub mod state;
pub mod web;

/// The TOTP helpers under their earlier path (tests and tools use them).
pub use service::account;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonus_store::Store;

pub use config::Config;
pub use routes::{app, route_list};
pub use state::AppState;

/// Logs warnings and errors (and `tonus serve`'s own notes) to standard error, as text or as
/// one JSON object a line. Request tracing stays at debug level, off by default: addresses
/// and paths of health-data pages should not pile up in logs.
pub fn init_logging(format: settings::LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr);
    let _ = match format {
        settings::LogFormat::Text => builder.try_init(),
        settings::LogFormat::Json => builder.json().try_init(),
    };
}

/// Binds the configured addresses (the application's, and the metrics one when set) and
/// serves until `shutdown` resolves.
pub async fn serve(
    store: Arc<Store>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    serve_on(listener, store, config, shutdown).await
}

/// Binds `addr` (port 0 picks a free port; read it back with `local_addr`).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Resolves on SIGTERM (what service managers and container runtimes send) or SIGINT
/// (Ctrl-C). The handlers are installed when this is called, not when the future is first
/// polled, so a signal that arrives while the server is still starting is not lost (and does
/// not kill the process with the default action). Call it inside the runtime.
#[cfg(unix)]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = int.recv() => tracing::info!("SIGINT received"),
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("cannot install signal handlers ({e}): stop the server by killing it");
                std::future::pending::<()>().await
            }
        }
    }
}

/// Resolves on Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling on this platform: run until killed.
            std::future::pending::<()>().await;
        }
    }
}

/// Serves on an already bound listener (tests bind port 0 and read the address first);
/// binds `config.metrics_listen` itself when set.
pub async fn serve_on(
    listener: TcpListener,
    store: Arc<Store>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let metrics = match config.metrics_listen {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    serve_with(listener, metrics, store, config, shutdown).await
}

/// Serves the application on `listener` and, given `metrics_listener`, `/metrics` on it.
///
/// When `shutdown` resolves both stop accepting connections, close idle keep-alive ones and
/// let the requests in flight finish; this returns once they have, or after
/// `config.shutdown_grace` with whatever is still running abandoned. A request is answered
/// only after its transaction committed, so a client that got its answer has its write, and
/// one cut off by the grace period got no answer (and its transaction rolls back).
pub async fn serve_with(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    store: Arc<Store>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use std::future::IntoFuture;

    let grace = config.shutdown_grace;
    let metrics = metrics_listener.as_ref().map(|_| Arc::new(ops::Metrics::new()));
    let state = AppState::with_metrics(store.clone(), config, metrics.clone());
    let purger = tokio::spawn(purge_sessions(state.clone()));
    // Reminders are sent from here, so a server that serves also reminds. Without its key
    // the server still serves; the pages say reminders are unavailable.
    let reminders = match state.push_sender().await {
        Ok(sender) => Some(tokio::spawn(
            push::scheduler::Scheduler::new(store.clone(), sender).run(),
        )),
        Err(e) => {
            tracing::error!("push reminders are off: {e:#}");
            None
        }
    };

    // One signal, fanned out to both servers and the grace timer.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown.await;
        tracing::info!(
            "shutting down: no new connections; finishing requests in flight (at most {} s)",
            grace.as_secs_f64()
        );
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        // An error means the sender is gone, which only happens once we are stopping anyway.
        let _ = rx.wait_for(|stop| *stop).await;
    };

    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let main = axum::serve(listener, app)
        .with_graceful_shutdown(stopped(stop_rx.clone()))
        .into_future();
    let metrics_server = async {
        match (metrics_listener, metrics) {
            (Some(l), Some(m)) => {
                axum::serve(l, ops::metrics_app(m, store))
                    .with_graceful_shutdown(stopped(stop_rx.clone()))
                    .await
            }
            _ => Ok(()),
        }
    };
    let deadline = async {
        stopped(stop_rx.clone()).await;
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        r = async { tokio::try_join!(main, metrics_server) } => r.map(|_| ()),
        () = deadline => {
            tracing::warn!(
                "requests still in flight {} s after the shutdown signal: exiting without them",
                grace.as_secs_f64()
            );
            Ok(())
        }
    };
    signal.abort();
    purger.abort();
    if let Some(r) = reminders {
        r.abort();
    }
    result
}

/// Deletes expired and idle sessions every ten minutes. Requests already refuse them; this
/// keeps the sessions page and the table from filling with dead rows.
async fn purge_sessions(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = jiff::Timestamp::now().as_millisecond();
        let idle_before = now - config::ms(state.config.session_idle);
        if let Err(e) = state.store.purge_sessions(now, idle_before).await {
            tracing::warn!("purging sessions: {e}");
        }
    }
}
