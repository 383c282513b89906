//! What operators and their machines ask of a running server: liveness (`/healthz`),
//! readiness (`/readyz`) for load balancers, and Prometheus metrics (`/metrics`).
//!
//! The probes sit outside the session, CSRF and page layers: a load balancer has no cookie,
//! and a probe must neither touch the sessions table nor get a CSRF cookie back. Metrics are
//! off unless `metrics_listen` is configured, and are then served on that address only, never
//! on the public listener, so request counts cannot leak to the internet by accident.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tonus_store::Store;

use crate::state::AppState;

/// The probe routes, for the route list the authorization matrix walks.
pub const PROBE_ROUTES: [&str; 2] = ["/healthz", "/readyz"];

/// A readiness check that takes longer than this counts as not ready: a load balancer
/// should move traffic away from a server whose database hangs.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// The liveness and readiness probes, to be merged outside the auth layers.
pub fn probes(state: AppState) -> Router {
    Router::new()
        .route(PROBE_ROUTES[0], get(healthz))
        .route(PROBE_ROUTES[1], get(readyz))
        .with_state(state)
}

/// 200 "ok" while the process serves requests at all.
pub async fn healthz() -> Response {
    plain(StatusCode::OK, "ok".to_string())
}

/// 200 "ready" when the database answers and its schema is current; else 503 and why.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, state.store.readiness()).await {
        Ok(Ok(())) => plain(StatusCode::OK, "ready".to_string()),
        Ok(Err(reason)) => plain(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}")),
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: the database did not answer within {} s",
                READY_TIMEOUT.as_secs()
            ),
        ),
    }
}

fn plain(status: StatusCode, body: String) -> Response {
    let mut res = (status, format!("{body}\n")).into_response();
    // A cached "ok" would hide an outage from whoever asks next.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The route template (`/api/episodes/{id}`), never the raw path: ids in label values
    /// would make one series per record and leak them to whoever reads the metrics.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    /// `hit` or `miss`.
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// Request counts and latencies per route template, method and status, and the database
/// pool's use. Latencies of POST/PUT/DELETE requests are the write latency users see
/// (each such request is one transaction), so no separate write timer is kept.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    dashboard_cache: Family<CacheLabels, Counter>,
    dashboard_cache_bytes: Gauge,
    dashboard_cache_entries: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tonus");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let pool = Family::<PoolLabels, Gauge>::default();
        let pool_max = Gauge::default();
        let dashboard_cache = Family::<CacheLabels, Counter>::default();
        let dashboard_cache_bytes = Gauge::default();
        let dashboard_cache_entries = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response head, by method, route template and status",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Most connections the database pool opens",
            pool_max.clone(),
        );
        registry.register(
            "dashboard_cache_lookups",
            "Dashboard views served from the cache of gathered dashboards (hit) or gathered anew (miss)",
            dashboard_cache.clone(),
        );
        registry.register(
            "dashboard_cache_bytes",
            "Approximate bytes of the gathered dashboards kept (bounded by limits.dashboard_cache_mib)",
            dashboard_cache_bytes.clone(),
        );
        registry.register(
            "dashboard_cache_entries",
            "Gathered dashboards kept",
            dashboard_cache_entries.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool,
            pool_max,
            dashboard_cache,
            dashboard_cache_bytes,
            dashboard_cache_entries,
        }
    }

    /// Counts one dashboard cache lookup.
    pub fn dashboard_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.dashboard_cache.get_or_create(&CacheLabels { result }).inc();
    }

    /// Records what the dashboard cache holds (after an insert).
    pub fn dashboard_cache_size(&self, stats: &tonus_report::cache::CacheStats) {
        self.dashboard_cache_bytes
            .set(i64::try_from(stats.bytes).unwrap_or(i64::MAX));
        self.dashboard_cache_entries
            .set(i64::try_from(stats.entries).unwrap_or(i64::MAX));
    }

    fn observe(&self, method: &'static str, route: String, status: u16, elapsed: Duration) {
        let labels = RequestLabels { method, route, status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// The text exposition (OpenMetrics, which Prometheus reads), with the pool's use as of now.
    pub fn render(&self, store: &Store) -> Result<String, std::fmt::Error> {
        let (size, idle) = store.pool_usage();
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let size = i64::from(size);
        self.pool.get_or_create(&PoolLabels { state: "idle" }).set(idle);
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set((size - idle).max(0));
        self.pool_max.set(i64::from(store.pool_max()));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

fn method_label(m: &Method) -> &'static str {
    // A fixed set: arbitrary method names from clients must not create new series.
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request. Added with `Router::layer`, so it runs after routing and
/// sees the matched route template; requests no route matched share the label `unmatched`.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    metrics.observe(method, route, res.status().as_u16(), started.elapsed());
    res
}

/// The router of the metrics listener: `/metrics` only.
pub fn metrics_app(metrics: Arc<Metrics>, store: Arc<Store>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            let store = store.clone();
            async move {
                match metrics.render(&store) {
                    Ok(body) => (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        body,
                    )
                        .into_response(),
                    Err(e) => {
                        tracing::warn!("encoding metrics: {e}");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }),
    )
}
