//! The request allowance of personal access tokens: a token bucket per token, kept in the
//! database so that every server process on it spends from the same bucket.
//!
//! [`take`] is the arithmetic as a pure function; [`Store::take_token_allowance`] does the same
//! in one SQL statement (an upsert whose update only happens when a request is left), which is
//! what makes a take atomic across connections and processes. Tests hold the two to the same
//! answers.

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// What is left of one token's allowance, as of `at_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: i64,
}

/// Whether one more request fits in the allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    Granted,
    /// None left: whole seconds (at least 1) until one is.
    Refused {
        retry_after_s: u64,
    },
}

/// Requests refilled per millisecond, and the bucket's size.
fn rates(per_minute: u32) -> (f64, f64) {
    let capacity = f64::from(per_minute.max(1));
    (capacity, capacity / 60_000.0)
}

/// Takes one request from `bucket` (`None`: never used, so full): `per_minute` requests at
/// once, refilled evenly at `per_minute` a minute. Returns the bucket to store and the answer;
/// a refused request leaves the bucket as it was (refilling is linear below the cap, so
/// nothing is lost by not writing the refill down).
///
/// Time never runs backwards for a bucket: with several hosts behind one load balancer a
/// caller's clock may lag another's, and a lagging `now_ms` must not earn extra refill later.
pub fn take(bucket: Option<Bucket>, per_minute: u32, now_ms: i64) -> (Bucket, Allowance) {
    let (capacity, per_ms) = rates(per_minute);
    let Some(b) = bucket else {
        return (
            Bucket {
                tokens: capacity - 1.0,
                at_ms: now_ms,
            },
            Allowance::Granted,
        );
    };
    let tokens = refilled(b, per_ms, capacity, now_ms);
    if tokens >= 1.0 {
        let at_ms = b.at_ms.max(now_ms);
        return (
            Bucket {
                tokens: tokens - 1.0,
                at_ms,
            },
            Allowance::Granted,
        );
    }
    let wait_ms = (1.0 - tokens) / per_ms;
    let retry_after_s = (wait_ms / 1000.0).ceil().max(1.0) as u64;
    (b, Allowance::Refused { retry_after_s })
}

/// Written operation for operation like [`REFILLED`], so both give the same floating-point
/// result.
fn refilled(b: Bucket, per_ms: f64, capacity: f64, now_ms: i64) -> f64 {
    let elapsed = if now_ms > b.at_ms { now_ms - b.at_ms } else { 0 };
    let t = b.tokens + elapsed as f64 * per_ms;
    if t > capacity {
        capacity
    } else {
        t
    }
}

/// [`refilled`] in SQL. `$2` capacity, `$3` now, `$4` refill per millisecond. Plain CASE
/// rather than GREATEST/LEAST or MIN/MAX, which the two backends spell differently.
const ELAPSED: &str = "(CASE WHEN $3 > token_allowance.at_ms THEN $3 - token_allowance.at_ms ELSE 0 END)";

fn take_sql() -> String {
    let refilled_raw = format!("(token_allowance.tokens + {ELAPSED} * $4)");
    let refilled = format!("(CASE WHEN {refilled_raw} > $2 THEN $2 ELSE {refilled_raw} END)");
    // The update happens only when a request is left, so RETURNING yields a row exactly when
    // the request is granted. On PostgreSQL a concurrent upsert of the same token waits for
    // the row lock and then sees the committed bucket; SQLite runs one writer at a time.
    format!(
        "INSERT INTO token_allowance (token_hash, tokens, at_ms) VALUES ($1, $2 - 1.0, $3) \
         ON CONFLICT (token_hash) DO UPDATE SET \
         tokens = {refilled} - 1.0, \
         at_ms = CASE WHEN $3 > token_allowance.at_ms THEN $3 ELSE token_allowance.at_ms END \
         WHERE {refilled} >= 1.0 \
         RETURNING tokens"
    )
}

impl Store {
    /// Takes one request from the allowance of the token whose hash is `token_hash` (a live
    /// token: the row is tied to it), shared by every process on this database.
    pub async fn take_token_allowance(
        &self,
        token_hash: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> Result<Allowance, StoreError> {
        let (capacity, per_ms) = rates(per_minute);
        let sql = take_sql();
        // On SQLite the take joins the group-commit writer's transaction: as its own commit it
        // would cost every API request an fsync of its own before its episode's.
        let granted = match &self.group {
            Some(group) => {
                group
                    .take_allowance(sql.into(), token_hash, capacity, now_ms, per_ms)
                    .await?
            }
            None => {
                let granted: Option<f64> = on_pool!(self, pool => {
                    sqlx::query_scalar(&sql)
                        .bind(token_hash).bind(capacity).bind(now_ms).bind(per_ms)
                        .fetch_optional(pool).await.ctx("taking from a token's allowance")?
                });
                granted.is_some()
            }
        };
        if granted {
            return Ok(Allowance::Granted);
        }
        // Refused: read the bucket to say how long to wait. Another process may spend from it
        // in between, which only makes the true wait longer than the one we announce; a
        // Retry-After is advice, and the next request is judged afresh.
        let row: Option<(f64, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT tokens, at_ms FROM token_allowance WHERE token_hash = $1")
                .bind(token_hash).fetch_optional(pool).await.ctx("reading a token's allowance")?
        });
        let bucket = row.map(|(tokens, at_ms)| Bucket { tokens, at_ms });
        Ok(match take(bucket, per_minute, now_ms).1 {
            refused @ Allowance::Refused { .. } => refused,
            // The bucket refilled (or vanished with its token) since the upsert: the soonest
            // honest answer is to try again shortly.
            Allowance::Granted => Allowance::Refused { retry_after_s: 1 },
        })
    }

    /// The stored allowance of a token, if it was ever used (for tests and diagnostics).
    pub async fn token_allowance(&self, token_hash: &str) -> Result<Option<Bucket>, StoreError> {
        let row: Option<(f64, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT tokens, at_ms FROM token_allowance WHERE token_hash = $1")
                .bind(token_hash).fetch_optional(pool).await.ctx("reading a token's allowance")?
        });
        Ok(row.map(|(tokens, at_ms)| Bucket { tokens, at_ms }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the pure model over one map of buckets, as the table holds them.
    struct Model(std::collections::HashMap<&'static str, Bucket>, u32);

    impl Model {
        fn take(&mut self, key: &'static str, now_ms: i64) -> Allowance {
            let (b, a) = take(self.0.get(key).copied(), self.1, now_ms);
            self.0.insert(key, b);
            a
        }
    }

    #[test]
    fn allowance_is_per_token_and_refills() {
        let mut l = Model(Default::default(), 3);
        for _ in 0..3 {
            assert_eq!(l.take("a", 0), Allowance::Granted);
        }
        // 3 per minute: one request back every 20 s.
        assert_eq!(l.take("a", 0), Allowance::Refused { retry_after_s: 20 });
        assert_eq!(
            l.take("b", 0),
            Allowance::Granted,
            "another token has its own allowance"
        );
        assert_eq!(l.take("a", 19_000), Allowance::Refused { retry_after_s: 1 });
        assert_eq!(l.take("a", 21_000), Allowance::Granted);
    }

    #[test]
    fn refills_up_to_the_burst_only_and_never_backwards() {
        let mut l = Model(Default::default(), 2);
        assert_eq!(l.take("a", 1_000_000), Allowance::Granted);
        // A caller whose clock lags gets no refill, and does not move the bucket back.
        assert_eq!(l.take("a", 0), Allowance::Granted);
        assert_eq!(l.take("a", 0), Allowance::Refused { retry_after_s: 30 });
        assert_eq!(l.0["a"].at_ms, 1_000_000);
        // An hour idle refills to the burst (2), not to 120.
        for _ in 0..2 {
            assert_eq!(l.take("a", 4_600_000), Allowance::Granted);
        }
        assert!(matches!(l.take("a", 4_600_000), Allowance::Refused { .. }));
    }
}
