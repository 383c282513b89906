//! Calendar feed secrets: a patient's reminders are served at a URL holding a random secret,
//! so a phone calendar can subscribe without signing in. Only the secret's hash is stored,
//! and revoking a feed makes its URL answer 404 from the next request.

use serde::Serialize;
use tonus_domain::{Id, Patient};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarFeed {
    pub id: Id,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

impl Store {
    pub async fn create_calendar_feed(
        &self,
        patient: &Patient,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Id, StoreError> {
        let id: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("INSERT INTO calendar_feeds (patient_id, token_hash, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                .bind(patient.id).bind(token_hash).bind(now_ms)
                .fetch_one(pool).await.ctx("creating a calendar feed")?
        });
        Ok(id)
    }

    pub async fn list_calendar_feeds(&self, patient: &Patient) -> Result<Vec<CalendarFeed>, StoreError> {
        let rows: Vec<(i64, i64, Option<i64>)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, created_at_ms, revoked_at_ms FROM calendar_feeds WHERE patient_id = $1 ORDER BY id")
                .bind(patient.id).fetch_all(pool).await.ctx("listing calendar feeds")?
        });
        Ok(rows
            .into_iter()
            .map(|(id, created_at_ms, revoked_at_ms)| CalendarFeed {
                id,
                created_at_ms,
                revoked_at_ms,
            })
            .collect())
    }

    /// Revokes one of the patient's feeds; false when it is not theirs or already revoked.
    pub async fn revoke_calendar_feed(&self, patient: &Patient, id: Id, now_ms: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE calendar_feeds SET revoked_at_ms = $3 WHERE patient_id = $1 AND id = $2 AND revoked_at_ms IS NULL")
                .bind(patient.id).bind(id).bind(now_ms)
                .execute(pool).await.ctx("revoking a calendar feed")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// The patient whose live feed has this secret hash.
    pub async fn patient_by_calendar_feed(&self, token_hash: &str) -> Result<Option<Patient>, StoreError> {
        let id: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT patient_id FROM calendar_feeds WHERE token_hash = $1 AND revoked_at_ms IS NULL")
                .bind(token_hash).fetch_optional(pool).await.ctx("finding a calendar feed")?
        });
        match id {
            Some(id) => self.patient_by_id(id).await,
            None => Ok(None),
        }
    }
}
