//! The hash-chained audit log: every access to a patient's data and every change to accounts
//! and consent, each row hashed with the one before so a changed or removed row shows.

use serde::Serialize;
use sha2::{Digest, Sha256};
use tonus_domain::Id;

use crate::accounts::is_unique_violation;
use crate::connect::{on_pool, Backend, Store};
use crate::error::{Context, StoreError};

/// One audit event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at_ms: i64,
    pub actor_id: Option<Id>,
    /// The user name (or what was typed, for a failed sign-in) at the time.
    pub actor: String,
    pub patient_id: Option<Id>,
    pub action: String,
    pub address: String,
    pub detail: String,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: Id,
    pub at_ms: i64,
    pub actor_id: Option<Id>,
    pub actor: String,
    pub patient_id: Option<Id>,
    pub action: String,
    pub address: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

type AuditRow = (
    i64,
    i64,
    Option<i64>,
    String,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
);
const AUDIT_COLUMNS: &str = "id, at_ms, actor_id, actor, patient_id, action, address, detail, prev_hash, hash";

fn audit_from_row(r: AuditRow) -> AuditRecord {
    AuditRecord {
        id: r.0,
        at_ms: r.1,
        actor_id: r.2,
        actor: r.3,
        patient_id: r.4,
        action: r.5,
        address: r.6,
        detail: r.7,
        prev_hash: r.8,
        hash: r.9,
    }
}

/// The `prev_hash` of the first row.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the previous hash and a canonical JSON array of the row's fields. JSON gives
/// unambiguous escaping, so no two different rows share a canonical form.
pub fn audit_hash(prev_hash: &str, e: &AuditEvent) -> String {
    let canonical = serde_json::json!([
        "tonus-audit-v1",
        e.at_ms,
        e.actor_id,
        e.actor,
        e.patient_id,
        e.action,
        e.address,
        e.detail
    ])
    .to_string();
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Result of checking the whole audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub rows: u64,
    /// Hash of the last row: record it elsewhere to detect removal of the newest rows too.
    pub head: String,
    /// The first row that does not match, and why.
    pub first_bad: Option<(Id, String)>,
}

/// The lock every audit append holds on PostgreSQL, from reading the head to committing the
/// row after it. Transaction-scoped, so an error or a dropped connection releases it. Keyed by
/// schema as well, so instances living in different schemas of one database do not queue on
/// each other. An advisory lock needs no privilege on the table (an installation may grant
/// only INSERT and SELECT on `audit_log`, which `LOCK TABLE` would not be allowed with).
/// (`coalesce`: the function is strict, and a NULL key would silently take no lock.)
const PG_AUDIT_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('tonus.audit_log'), hashtext(coalesce(current_schema(), '')))";

impl Store {
    /// Appends one event to the hash chain.
    ///
    /// Several server processes (and the CLI) may append at once. Reading the head and
    /// inserting the row after it happen in one transaction under a lock every writer of this
    /// database takes (SQLite: the write lock, taken at BEGIN IMMEDIATE; PostgreSQL: an
    /// advisory lock), so appends queue instead of racing for the same head. The UNIQUE
    /// `prev_hash` stays as the backstop against a writer that takes no lock (an older version
    /// during a rolling upgrade): the loser reads the new head and tries again.
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError> {
        // This process's appends queue here, each holding no connection while it waits.
        let _guard = self.audit_append.lock().await;
        let mut last_err = None;
        for _ in 0..5 {
            match self.try_append_audit(event).await {
                Ok(r) => return Ok(r),
                Err(e) if is_unique_violation(&e) => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| StoreError::Conflict("the audit log is busy".to_string())))
    }

    async fn try_append_audit(&self, e: &AuditEvent) -> Result<AuditRecord, StoreError> {
        let begin = self.write_tx_statement();
        let lock = match self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(_) => Some(PG_AUDIT_LOCK),
        };
        let (id, prev_hash, hash): (i64, String, String) = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting an audit append")?;
            if let Some(lock) = lock {
                sqlx::query(lock).execute(&mut *tx).await.ctx("locking the audit log")?;
            }
            let prev: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx).await.ctx("reading the audit head")?;
            let prev_hash = prev.unwrap_or_else(|| AUDIT_GENESIS.to_string());
            let hash = audit_hash(&prev_hash, e);
            let id: i64 = sqlx::query_scalar("INSERT INTO audit_log (at_ms, actor_id, actor, patient_id, action, address, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                .bind(e.at_ms).bind(e.actor_id).bind(&e.actor).bind(e.patient_id).bind(&e.action)
                .bind(&e.address).bind(&e.detail).bind(&prev_hash).bind(&hash)
                .fetch_one(&mut *tx).await.ctx("appending to the audit log")?;
            tx.commit().await.ctx("committing an audit append")?;
            (id, prev_hash, hash)
        });
        Ok(AuditRecord {
            id,
            at_ms: e.at_ms,
            actor_id: e.actor_id,
            actor: e.actor.clone(),
            patient_id: e.patient_id,
            action: e.action.clone(),
            address: e.address.clone(),
            detail: e.detail.clone(),
            prev_hash,
            hash,
        })
    }

    /// Audit rows about one patient (or all with `None`), newest first.
    pub async fn list_audit(&self, patient_id: Option<Id>, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = match patient_id {
            Some(p) => {
                let sql =
                    format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE patient_id = $1 ORDER BY id DESC LIMIT $2");
                on_pool!(self, pool => {
                    sqlx::query_as(&sql).bind(p).bind(limit).fetch_all(pool).await.ctx("reading the audit log")?
                })
            }
            None => {
                let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1");
                on_pool!(self, pool => {
                    sqlx::query_as(&sql).bind(limit).fetch_all(pool).await.ctx("reading the audit log")?
                })
            }
        };
        Ok(rows.into_iter().map(audit_from_row).collect())
    }

    /// Walks the chain from the first row, in pages, and names the first row whose link or
    /// content does not match. Deleting or editing any row but the newest breaks a link.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT 1000");
        let mut expected_prev = AUDIT_GENESIS.to_string();
        let mut after = 0i64;
        let mut rows = 0u64;
        loop {
            let page: Vec<AuditRow> = on_pool!(self, pool => {
                sqlx::query_as(&sql).bind(after).fetch_all(pool).await.ctx("reading the audit log")?
            });
            if page.is_empty() {
                break;
            }
            for r in page.into_iter().map(audit_from_row) {
                rows += 1;
                after = r.id;
                if r.prev_hash != expected_prev {
                    return Ok(AuditVerification {
                        rows,
                        head: expected_prev,
                        first_bad: Some((
                            r.id,
                            "its link does not match the row before it (a row was removed or changed)".to_string(),
                        )),
                    });
                }
                let event = AuditEvent {
                    at_ms: r.at_ms,
                    actor_id: r.actor_id,
                    actor: r.actor.clone(),
                    patient_id: r.patient_id,
                    action: r.action.clone(),
                    address: r.address.clone(),
                    detail: r.detail.clone(),
                };
                if audit_hash(&r.prev_hash, &event) != r.hash {
                    return Ok(AuditVerification {
                        rows,
                        head: expected_prev,
                        first_bad: Some((
                            r.id,
                            "its content does not match its hash (the row was changed)".to_string(),
                        )),
                    });
                }
                expected_prev = r.hash;
            }
        }
        Ok(AuditVerification {
            rows,
            head: expected_prev,
            first_bad: None,
        })
    }
}
