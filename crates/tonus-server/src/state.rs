//! Shared state of every request: the store and the settings.

use std::sync::Arc;

use tonus_report::ReportCache;
use tonus_store::{AuditEvent, Store};

use crate::config::Config;
use crate::error::AppResult;
use crate::limits::TokenLimiter;
use crate::ops::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub token_limiter: Arc<TokenLimiter>,
    /// Present only when metrics are served (`metrics_listen`); otherwise nothing is counted.
    pub metrics: Option<Arc<Metrics>>,
    /// Gathered dashboards kept between views, keyed by the patient's data version
    /// (`service::exports::gather`); sized by `config.dashboard_cache_bytes`.
    pub dashboards: Arc<ReportCache>,
    /// The Web Push sender and its VAPID key, loaded (or made) on first use.
    push: Arc<tokio::sync::OnceCell<Arc<crate::push::Sender>>>,
}

impl AppState {
    pub fn new(store: Arc<Store>, config: Config) -> Self {
        Self::with_metrics(store, config, None)
    }

    pub fn with_metrics(store: Arc<Store>, config: Config, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            store,
            token_limiter: Arc::new(TokenLimiter::new(config.api_requests_per_minute)),
            dashboards: Arc::new(ReportCache::new(config.dashboard_cache_bytes)),
            config: Arc::new(config),
            metrics,
            push: Arc::default(),
        }
    }

    /// The push sender, made on first use from the stored VAPID key (or a new one).
    pub async fn push_sender(&self) -> anyhow::Result<Arc<crate::push::Sender>> {
        let sender = self
            .push
            .get_or_try_init(|| async {
                let contact = crate::push::contact(self.config.public_url.as_deref());
                let vapid = crate::push::Vapid::load(&self.store, contact).await?;
                anyhow::Ok(Arc::new(crate::push::Sender::new(vapid)?))
            })
            .await?;
        Ok(sender.clone())
    }

    /// Appends an audit event; failing to audit fails the request, since an unaudited
    /// clinician view or consent change must not happen silently.
    pub async fn audit(
        &self,
        actor: (Option<i64>, &str),
        patient_id: Option<i64>,
        action: &str,
        address: &str,
        detail: &str,
    ) -> AppResult<()> {
        self.store
            .append_audit(&AuditEvent {
                at_ms: jiff::Timestamp::now().as_millisecond(),
                actor_id: actor.0,
                actor: actor.1.to_string(),
                patient_id,
                action: action.to_string(),
                address: address.to_string(),
                detail: detail.to_string(),
            })
            .await?;
        Ok(())
    }
}
