//! Limits on what one caller may cost the server: a request allowance per personal access
//! token, and clear answers when the body-size or time limit cuts a request off. (Sign-in
//! attempts are limited separately, by failures recorded in the database.)

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tonus_store::{Allowance, Store};

use crate::error::{AppError, ErrorMarker};
use crate::state::AppState;

/// A token bucket per token: `per_minute` requests at once, refilled at `per_minute` per
/// minute. The buckets live in the database (`tonus_store::allowance`), not in this process:
/// several server processes behind one load balancer must not each grant the full allowance,
/// and a restart must not hand a runaway script a fresh one.
pub struct TokenLimiter {
    per_minute: u32,
}

impl TokenLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
        }
    }

    /// Takes one request from the allowance of the token whose hash is `key`; when there is
    /// none left, the error says how many whole seconds until there is.
    pub async fn take(&self, store: &Store, key: &str, now_ms: i64) -> Result<(), AppError> {
        match store.take_token_allowance(key, self.per_minute, now_ms).await? {
            Allowance::Granted => Ok(()),
            Allowance::Refused { retry_after_s } => Err(AppError::RateLimited(retry_after_s)),
        }
    }
}

/// The body-size and timeout layers, and the router for a known path with another method,
/// answer with a bare status (an empty or plain-text body); this gives those answers the same
/// JSON error body as every other error, and the marker that makes the HTML layer render a
/// page for browsers.
pub async fn explain(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.extensions().get::<ErrorMarker>().is_some() {
        return res;
    }
    let error = match res.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge(state.config.max_body_bytes),
        StatusCode::REQUEST_TIMEOUT => AppError::Timeout(state.config.request_timeout.as_secs().max(1)),
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        _ => return res,
    };
    let mut out = error.into_response();
    if let Some(allow) = res.headers().get(axum::http::header::ALLOW) {
        out.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    // Keep what the inner layers decided about the session (e.g. a cleared cookie).
    for v in res.headers().get_all(axum::http::header::SET_COOKIE) {
        out.headers_mut().append(axum::http::header::SET_COOKIE, v.clone());
    }
    out
}

/// Whether reading a body failed because it exceeded a limit (ours or the outer layer's),
/// rather than because the connection broke.
pub fn is_length_limit(e: &axum::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonus_domain::time::Zone;
    use tonus_store::Role;

    /// The arithmetic is tested without I/O in `tonus_store::allowance`; this checks the
    /// limiter answers from the shared table, and two stores on one file (as two processes
    /// would open it) spend from one bucket.
    #[tokio::test]
    async fn allowance_is_per_token_refills_and_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tonus.db");
        let one = Store::open_sqlite(&path).await.unwrap();
        let two = Store::open_sqlite(&path).await.unwrap();
        let user = one
            .create_user("anne", Role::Patient, "hash", &Zone::utc())
            .await
            .unwrap();
        one.create_api_token(user.id, "a", "a", 0).await.unwrap();
        one.create_api_token(user.id, "b", "b", 0).await.unwrap();
        let l = TokenLimiter::new(3);
        for store in [&one, &two, &one] {
            assert!(l.take(store, "a", 0).await.is_ok());
        }
        // 3 per minute: one request back every 20 s.
        match l.take(&two, "a", 0).await {
            Err(AppError::RateLimited(s)) => assert_eq!(s, 20),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(
            l.take(&two, "b", 0).await.is_ok(),
            "another token has its own allowance"
        );
        assert!(l.take(&one, "a", 19_000).await.is_err());
        assert!(l.take(&two, "a", 21_000).await.is_ok());
    }
}
