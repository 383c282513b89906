//! Server settings. Defaults suit a home or clinic installation; tests shorten the windows.

use std::net::SocketAddr;
use std::time::Duration;

use crate::proxy::IpNet;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// A session unused this long is over (the phone left on a table).
    pub session_idle: Duration,
    /// A session is over this long after sign-in, however active.
    pub session_absolute: Duration,
    /// Whether anyone reaching the server may create a patient account at /signup. Off by
    /// default: on a self-hosted instance the administrator creates accounts.
    pub open_registration: bool,
    /// Window over which failed sign-ins are counted.
    pub login_window: Duration,
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    /// Sign-up attempts (made or refused) one client address may make per hour, with open
    /// registration: no mass creation of accounts, no fast probing of names.
    pub signups_per_hour: i64,
    /// How long a consent invitation code stays valid.
    pub invitation_ttl: Duration,
    /// Requests one personal access token may make per minute (a burst of that many, then
    /// refilled evenly): a runaway script must not starve the other users of a small server.
    pub api_requests_per_minute: u32,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// A request not answered within this is cut off with 408 (a stalled client or query).
    pub request_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are believed; from any
    /// other peer those headers are ignored and the peer's address is the client's.
    pub trusted_proxies: Vec<IpNet>,
    /// Where `/metrics` is served; `None` (the default) turns metrics off entirely.
    pub metrics_listen: Option<SocketAddr>,
    /// After a shutdown signal, how long requests in flight may take before the server
    /// exits anyway.
    pub shutdown_grace: Duration,
    /// The address users reach the server at (`https://tonus.example.org`), when it differs
    /// from the listen address (behind a reverse proxy); used to tell where to sign in.
    pub public_url: Option<String>,
    /// The base of Tonus's own FHIR code systems and extensions (`fhir_canonical_url`, else
    /// `public_url` + `/fhir`); `None` keeps the default of `tonus_interop::fhir`.
    pub fhir_canonical_url: Option<String>,
    /// Memory for gathered dashboards kept between views (approximate bytes; 0: none kept).
    pub dashboard_cache_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            session_idle: Duration::from_secs(12 * 3600),
            session_absolute: Duration::from_secs(14 * 24 * 3600),
            open_registration: false,
            login_window: Duration::from_secs(15 * 60),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            signups_per_hour: 10,
            invitation_ttl: Duration::from_secs(7 * 24 * 3600),
            api_requests_per_minute: 600,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            shutdown_grace: Duration::from_secs(10),
            public_url: None,
            fhir_canonical_url: None,
            dashboard_cache_bytes: 8 << 20,
        }
    }
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
