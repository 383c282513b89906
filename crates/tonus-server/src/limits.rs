//! Limits on what one caller may cost the server: a request allowance per personal access
//! token, and clear answers when the body-size or time limit cuts a request off. (Sign-in
//! attempts are limited separately, by failures recorded in the database.)

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, ErrorMarker};
use crate::state::AppState;

/// Above this many remembered tokens, full buckets are forgotten (they hold nothing a fresh
/// bucket would not), so revoked tokens do not accumulate for the life of the process.
const PRUNE_ABOVE: usize = 1024;

/// A token bucket per token: `per_minute` requests at once, refilled at `per_minute` per
/// minute. Kept in memory: a restart forgets it, which only ever errs towards allowing.
pub struct TokenLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl TokenLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the allowance of the token whose hash is `key`; when there is
    /// none left, the error says how many whole seconds until there is.
    pub fn take(&self, key: &str, now_ms: i64) -> Result<(), AppError> {
        let capacity = f64::from(self.per_minute);
        let per_ms = capacity / 60_000.0;
        // A poisoned lock only means another request panicked mid-update; the map is still
        // usable, and refusing every token request over it would be worse.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| b.tokens + (now_ms - b.at_ms) as f64 * per_ms < capacity);
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at_ms: now_ms,
        });
        let elapsed = (now_ms - b.at_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * per_ms).min(capacity);
        b.at_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait_ms = (1.0 - b.tokens) / per_ms;
        Err(AppError::RateLimited((wait_ms / 1000.0).ceil().max(1.0) as u64))
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

    #[test]
    fn allowance_is_per_token_and_refills() {
        let l = TokenLimiter::new(3);
        for _ in 0..3 {
            assert!(l.take("a", 0).is_ok());
        }
        // 3 per minute: one request back every 20 s.
        match l.take("a", 0) {
            Err(AppError::RateLimited(s)) => assert_eq!(s, 20),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(l.take("b", 0).is_ok(), "another token has its own allowance");
        assert!(l.take("a", 19_000).is_err());
        assert!(l.take("a", 21_000).is_ok());
    }
}
