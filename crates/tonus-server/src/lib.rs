//! The Tonus web application: accounts and sessions, consent between patients and clinicians,
//! a hash-chained audit log, the quick-log pages and the JSON API (documented at
//! `/api/openapi.json`). Every asset is served from the binary: no network at run time.

pub mod account;
pub mod api;
pub mod api_dashboard;
pub mod auth;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod exports;
mod html;
pub mod limits;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod security;
pub mod state;
pub mod trials;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonus_store::Store;

pub use config::Config;
pub use routes::{app, route_list};
pub use state::AppState;

/// Logs warnings and errors (and `tonus serve`'s own notes) to standard error. Request
/// tracing stays at debug level, off by default: addresses and paths of health-data pages
/// should not pile up in logs.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Binds the configured address and serves until `shutdown` resolves.
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

/// Resolves on Ctrl-C (SIGINT): `tonus serve` then finishes the requests in flight and exits.
pub async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling on this platform: run until killed.
        std::future::pending::<()>().await;
    }
}

/// Serves on an already bound listener (tests bind port 0 and read the address first).
pub async fn serve_on(
    listener: TcpListener,
    store: Arc<Store>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(store, config);
    let purger = tokio::spawn(purge_sessions(state.clone()));
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    purger.abort();
    served
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
