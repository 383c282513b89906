//! Web Push reminders: the server's VAPID key, the devices subscribed (one row per browser
//! push subscription, with that device's choices), and the reminders claimed for sending.
//!
//! A reminder is claimed (inserted under a unique key) before it is sent, so two ticks, two
//! processes or a restart never send it twice; a send that failed for a reason worth
//! retrying releases its claim.

use serde::Serialize;
use tonus_domain::{Id, Patient};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// One device's push subscription and choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushSubscription {
    pub id: Id,
    pub patient_id: Id,
    pub endpoint: String,
    /// The browser's P-256 public key and auth secret (base64url), for RFC 8291.
    pub p256dh: String,
    pub auth: String,
    /// What the patient calls the device ("Phone"), shown on the settings page.
    pub label: String,
    /// `tonus_domain::reminders::Choices` as bits.
    pub kinds: i64,
    /// Minutes after local midnight.
    pub checkin_min: i64,
    pub quiet_start_min: Option<i64>,
    pub quiet_end_min: Option<i64>,
    pub created_at_ms: i64,
    pub last_success_ms: Option<i64>,
}

/// What a device sends when it subscribes, or the choices changed on the settings page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushChoices {
    pub label: String,
    pub kinds: i64,
    pub checkin_min: i64,
    pub quiet_start_min: Option<i64>,
    pub quiet_end_min: Option<i64>,
}

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
);

const COLUMNS: &str = "id, patient_id, endpoint, p256dh, auth, label, kinds, checkin_min, quiet_start_min, \
     quiet_end_min, created_at_ms, last_success_ms";

fn from_row(r: Row) -> PushSubscription {
    PushSubscription {
        id: r.0,
        patient_id: r.1,
        endpoint: r.2,
        p256dh: r.3,
        auth: r.4,
        label: r.5,
        kinds: r.6,
        checkin_min: r.7,
        quiet_start_min: r.8,
        quiet_end_min: r.9,
        created_at_ms: r.10,
        last_success_ms: r.11,
    }
}

impl Store {
    /// The server's VAPID private key: `generated` is stored if there is none yet, and the
    /// stored one is returned either way (two processes starting together agree on one).
    pub async fn vapid_private_key(&self, generated: &str, now_ms: i64) -> Result<String, StoreError> {
        let key: String = on_pool!(self, pool => {
            sqlx::query("INSERT INTO push_vapid (id, private_key, created_at_ms) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(generated).bind(now_ms)
                .execute(pool).await.ctx("storing the VAPID key")?;
            sqlx::query_scalar("SELECT private_key FROM push_vapid WHERE id = 1")
                .fetch_one(pool).await.ctx("reading the VAPID key")?
        });
        Ok(key)
    }

    /// Adds a device, or updates it when its endpoint is known. An endpoint that belonged to
    /// another patient (the browser's previous account) is taken over with nothing of theirs:
    /// its row and its claims go.
    pub async fn upsert_push_subscription(
        &self,
        patient: &Patient,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        choices: &PushChoices,
        now_ms: i64,
    ) -> Result<Id, StoreError> {
        // One transaction, and the update only of this patient's own row: two accounts
        // subscribing one browser at the same moment cannot leave it with one patient's id
        // and the other's keys; the loser gets an error and nothing of it is kept.
        let id: Option<i64> = on_pool!(self, pool => {
            let mut tx = pool.begin().await.ctx("starting a transaction")?;
            sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND patient_id <> $2")
                .bind(endpoint).bind(patient.id)
                .execute(&mut *tx).await.ctx("moving a push subscription")?;
            let id = sqlx::query_scalar(
                "INSERT INTO push_subscriptions (patient_id, endpoint, p256dh, auth, label, kinds, checkin_min, \
                 quiet_start_min, quiet_end_min, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, \
                 label = excluded.label, kinds = excluded.kinds, checkin_min = excluded.checkin_min, \
                 quiet_start_min = excluded.quiet_start_min, quiet_end_min = excluded.quiet_end_min \
                 WHERE push_subscriptions.patient_id = excluded.patient_id \
                 RETURNING id")
                .bind(patient.id).bind(endpoint).bind(p256dh).bind(auth).bind(&choices.label)
                .bind(choices.kinds).bind(choices.checkin_min).bind(choices.quiet_start_min)
                .bind(choices.quiet_end_min).bind(now_ms)
                .fetch_optional(&mut *tx).await.ctx("saving a push subscription")?;
            if id.is_some() {
                tx.commit().await.ctx("saving a push subscription")?;
            }
            id
        });
        let id = id.ok_or_else(|| {
            StoreError::Conflict("this browser was just subscribed by another account; try again".into())
        })?;
        Ok(id)
    }

    /// The patient's devices, oldest first.
    pub async fn list_push_subscriptions(&self, patient: &Patient) -> Result<Vec<PushSubscription>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM push_subscriptions WHERE patient_id = $1 ORDER BY id");
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).fetch_all(pool).await.ctx("listing push subscriptions")?
        });
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Every device of every patient whose account is enabled: what the sender walks.
    pub async fn active_push_subscriptions(&self) -> Result<Vec<PushSubscription>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM push_subscriptions s WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.patient_id = s.patient_id AND u.disabled_at_ms IS NOT NULL) ORDER BY id"
        );
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await.ctx("listing push subscriptions to send to")?
        });
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Changes one of the patient's devices; false when it is not theirs.
    pub async fn update_push_choices(
        &self,
        patient: &Patient,
        id: Id,
        choices: &PushChoices,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE push_subscriptions SET label = $3, kinds = $4, checkin_min = $5, quiet_start_min = $6, \
                         quiet_end_min = $7 WHERE patient_id = $1 AND id = $2")
                .bind(patient.id).bind(id).bind(&choices.label).bind(choices.kinds).bind(choices.checkin_min)
                .bind(choices.quiet_start_min).bind(choices.quiet_end_min)
                .execute(pool).await.ctx("changing a push subscription")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Removes one of the patient's devices; false when it is not theirs.
    pub async fn delete_push_subscription(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM push_subscriptions WHERE patient_id = $1 AND id = $2")
                .bind(patient.id).bind(id)
                .execute(pool).await.ctx("removing a push subscription")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Removes a device the push service says is gone (404/410), whoever's it was.
    pub async fn drop_push_subscription(&self, id: Id) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                .bind(id).execute(pool).await.ctx("dropping an expired push subscription")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Claims a reminder for a device; false when it was claimed before (sent, or being sent).
    pub async fn claim_push(&self, subscription: Id, key: &str, due_ms: i64, now_ms: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("INSERT INTO push_sent (subscription_id, reminder_key, due_at_ms, claimed_at_ms) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(subscription).bind(key).bind(due_ms).bind(now_ms)
                .execute(pool).await.ctx("claiming a reminder")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Gives a claim back after a failed send, so a later tick tries again.
    pub async fn release_push(&self, subscription: Id, key: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM push_sent WHERE subscription_id = $1 AND reminder_key = $2")
                .bind(subscription).bind(key).execute(pool).await.ctx("releasing a reminder")?;
        });
        Ok(())
    }

    pub async fn push_delivered(&self, subscription: Id, now_ms: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE push_subscriptions SET last_success_ms = $2 WHERE id = $1")
                .bind(subscription).bind(now_ms).execute(pool).await.ctx("noting a delivered reminder")?;
        });
        Ok(())
    }

    /// Forgets claims of reminders due before `before_ms`: the sender never looks that far
    /// back, so they can no longer prevent a second send.
    pub async fn prune_push_claims(&self, before_ms: i64) -> Result<u64, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM push_sent WHERE due_at_ms < $1")
                .bind(before_ms).execute(pool).await.ctx("pruning reminder claims")?.rows_affected()
        });
        Ok(n)
    }
}
