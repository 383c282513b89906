//! Accounts of the web app: users and roles, sessions, login attempts, consent (invitations and
//! grants), personal access tokens, and the hash-chained audit log.
//!
//! Secrets never reach this layer in clear: callers pass SHA-256 hashes of session tokens,
//! invitation codes and API tokens, and argon2id hashes of passwords.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tonus_domain::time::Zone;
use tonus_domain::{Id, Patient, ValidationError};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// What an account may do. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Patient,
    Clinician,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Patient, Role::Clinician, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "patient" => Ok(Role::Patient),
            "clinician" => Ok(Role::Clinician),
            "admin" | "administrator" => Ok(Role::Admin),
            _ => Err(ValidationError::new(
                "role",
                "one of patient, clinician, admin",
                format!("{input:?}"),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Checks a user name: 3–64 characters of a–z, 0–9, `.`, `_`, `-`, and for clinicians and
/// administrators also `@`, so a clinician can be found by an e-mail-like handle. A patient's
/// user name doubles as the handle of their patients row, which does not allow `@`.
pub fn validate_username(name: &str, role: Role) -> Result<String, ValidationError> {
    let n = name.trim();
    let ok = (3..=64).contains(&n.len())
        && n.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, '.' | '_' | '-')
                || (c == '@' && role != Role::Patient)
        });
    if !ok {
        let rule = if role == Role::Patient {
            "3–64 characters of a–z, 0–9, '.', '_' or '-'"
        } else {
            "3–64 characters of a–z, 0–9, '.', '_', '-' or '@'"
        };
        return Err(ValidationError::new("username", rule, format!("{name:?}")));
    }
    Ok(n.to_string())
}

/// An account, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub role: Role,
    /// The patients row a patient account owns.
    pub patient_id: Option<Id>,
    pub created_at_ms: i64,
    pub disabled: bool,
}

type UserRow = (i64, String, String, Option<i64>, i64, Option<i64>);
const USER_COLUMNS: &str = "u.id, u.username, u.role, u.patient_id, u.created_at_ms, u.disabled_at_ms";

fn user_from_row((id, username, role, patient_id, created_at_ms, disabled): UserRow) -> Result<User, StoreError> {
    let role = Role::parse(&role).map_err(|source| StoreError::Corrupt {
        table: "users",
        id,
        source,
    })?;
    Ok(User {
        id,
        username,
        role,
        patient_id,
        created_at_ms,
        disabled: disabled.is_some(),
    })
}

/// A signed-in browser, as listed on the sessions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: Id,
    pub user_id: Id,
    #[serde(skip)]
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub expires_at_ms: i64,
    pub address: String,
    pub user_agent: String,
}

type SessionRow = (i64, i64, String, i64, i64, i64, String, String);
const SESSION_COLUMNS: &str =
    "s.id, s.user_id, s.csrf_token, s.created_at_ms, s.last_seen_at_ms, s.expires_at_ms, s.address, s.user_agent";

fn session_from_row(r: SessionRow) -> Session {
    Session {
        id: r.0,
        user_id: r.1,
        csrf_token: r.2,
        created_at_ms: r.3,
        last_seen_at_ms: r.4,
        expires_at_ms: r.5,
        address: r.6,
        user_agent: r.7,
    }
}

/// A new session's fields.
pub struct NewSession<'a> {
    pub user_id: Id,
    pub token_hash: &'a str,
    pub csrf_token: &'a str,
    pub now_ms: i64,
    pub expires_at_ms: i64,
    pub address: &'a str,
    pub user_agent: &'a str,
}

/// A clinician's access to a patient, live or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub id: Id,
    pub patient_id: Id,
    pub patient_handle: String,
    pub clinician_id: Id,
    pub clinician_username: String,
    pub via: String,
    pub granted_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

type ConsentRow = (i64, i64, String, i64, String, String, i64, Option<i64>);
const CONSENT_SELECT: &str = "SELECT c.id, c.patient_id, p.handle, c.clinician_id, u.username, c.via, c.granted_at_ms, c.revoked_at_ms FROM consents c JOIN patients p ON p.id = c.patient_id JOIN users u ON u.id = c.clinician_id";

fn consent_from_row(r: ConsentRow) -> Consent {
    Consent {
        id: r.0,
        patient_id: r.1,
        patient_handle: r.2,
        clinician_id: r.3,
        clinician_username: r.4,
        via: r.5,
        granted_at_ms: r.6,
        revoked_at_ms: r.7,
    }
}

/// What redeeming an invitation code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// A new grant for this patient.
    Granted { consent_id: Id, patient_id: Id },
    /// The clinician already had live access; the code is spent all the same.
    AlreadyGranted { patient_id: Id },
    /// Unknown, used or expired: indistinguishable on purpose.
    Invalid,
}

/// A personal access token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

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

/// Serialises appends inside one process, so the usual case never even meets the UNIQUE
/// constraint on `prev_hash` that guards against other processes.
static AUDIT_APPEND: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn is_unique_violation(e: &StoreError) -> bool {
    match e {
        StoreError::Db {
            source: sqlx::Error::Database(d),
            ..
        } => d.is_unique_violation(),
        _ => false,
    }
}

impl Store {
    // ----- users -----

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await.ctx("counting users")?
        }))
    }

    /// Creates an account. A patient account links to the patients row whose handle is the
    /// user name, creating it (in `zone`) when missing; both happen in one transaction.
    pub async fn create_user(
        &self,
        username: &str,
        role: Role,
        password_hash: &str,
        zone: &Zone,
    ) -> Result<User, StoreError> {
        let username = validate_username(username, role).map_err(|e| StoreError::Conflict(e.to_string()))?;
        if self.user_by_username(&username).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a user named {username:?} already exists"
            )));
        }
        let now = now_ms();
        // Reads, then writes: on SQLite a deferred transaction would fail at once with
        // "database is locked" if another connection wrote in between, so take the lock first.
        let begin = self.write_tx_statement();
        let (id, patient_id): (i64, Option<i64>) = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let patient_id: Option<i64> = if role == Role::Patient {
                let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM patients WHERE handle = $1")
                    .bind(&username).fetch_optional(&mut *tx).await.ctx("finding a patient")?;
                match existing {
                    Some(id) => Some(id),
                    None => Some(sqlx::query_scalar("INSERT INTO patients (handle, time_zone, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                        .bind(&username).bind(zone.name()).bind(now)
                        .fetch_one(&mut *tx).await.ctx("creating a patient")?),
                }
            } else {
                None
            };
            let id: i64 = sqlx::query_scalar("INSERT INTO users (username, role, password_hash, patient_id, created_at_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(&username).bind(role.code()).bind(password_hash).bind(patient_id).bind(now)
                .fetch_one(&mut *tx).await.ctx("creating a user")?;
            tx.commit().await.ctx("committing")?;
            (id, patient_id)
        });
        Ok(User {
            id,
            username,
            role,
            patient_id,
            created_at_ms: now,
            disabled: false,
        })
    }

    pub async fn user_by_id(&self, id: Id) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await.ctx("reading a user")?
        });
        row.map(user_from_row).transpose()
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(username.trim()).fetch_optional(pool).await.ctx("finding a user")?
        });
        row.map(user_from_row).transpose()
    }

    /// The account and its password hash, for signing in.
    pub async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1");
        type Row = (i64, String, String, Option<i64>, i64, Option<i64>, String);
        let row: Option<Row> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(username.trim()).fetch_optional(pool).await.ctx("finding a user")?
        });
        row.map(|(a, b, c, d, e, f, hash)| Ok((user_from_row((a, b, c, d, e, f))?, hash)))
            .transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id");
        let rows: Vec<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await.ctx("listing users")?
        });
        rows.into_iter().map(user_from_row).collect()
    }

    pub async fn set_password_hash(&self, user_id: Id, password_hash: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user_id).bind(password_hash).execute(pool).await.ctx("changing a password")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// The password hash of an account, for re-authentication of a signed-in user.
    pub async fn password_hash(&self, user_id: Id) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await.ctx("reading a password hash")?
        }))
    }

    /// The base32 TOTP secret of an account with two-step sign-in turned on.
    pub async fn totp_secret(&self, user_id: Id) -> Result<Option<String>, StoreError> {
        let v: Option<Option<String>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await.ctx("reading a TOTP secret")?
        });
        Ok(v.flatten())
    }

    /// Turns two-step sign-in on (`Some(secret)`) or off (`None`).
    pub async fn set_totp_secret(&self, user_id: Id, secret: Option<&str>) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE users SET totp_secret = $2 WHERE id = $1")
                .bind(user_id).bind(secret).execute(pool).await.ctx("setting a TOTP secret")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Disables (`Some(now)`) or re-enables (`None`) an account. A disabled account cannot sign
    /// in and its API tokens stop working; callers end its sessions.
    pub async fn set_disabled(&self, user_id: Id, at_ms: Option<i64>) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE users SET disabled_at_ms = $2 WHERE id = $1")
                .bind(user_id).bind(at_ms).execute(pool).await.ctx("disabling an account")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// The patients row with this id (no ownership check: callers decide who may see it).
    pub async fn patient_by_id(&self, id: Id) -> Result<Option<Patient>, StoreError> {
        let row: Option<(i64, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, handle, time_zone FROM patients WHERE id = $1")
                .bind(id).fetch_optional(pool).await.ctx("finding a patient")?
        });
        row.map(|(id, handle, zone)| {
            let zone = Zone::parse(&zone).map_err(|source| StoreError::Corrupt {
                table: "patients",
                id,
                source,
            })?;
            Ok(Patient { id, handle, zone })
        })
        .transpose()
    }

    // ----- sessions -----

    pub async fn create_session(&self, s: &NewSession<'_>) -> Result<Id, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at_ms, last_seen_at_ms, expires_at_ms, address, user_agent) VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id")
                .bind(s.token_hash).bind(s.user_id).bind(s.csrf_token).bind(s.now_ms).bind(s.expires_at_ms)
                .bind(s.address).bind(s.user_agent)
                .fetch_one(pool).await.ctx("creating a session")?
        }))
    }

    /// The session and its user for a token hash, whatever its age: the caller applies the
    /// idle and absolute limits (and deletes what is too old).
    pub async fn session_by_token_hash(&self, token_hash: &str) -> Result<Option<(Session, User)>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        );
        type Row = (
            i64,
            i64,
            String,
            i64,
            i64,
            i64,
            String,
            String,
            i64,
            String,
            String,
            Option<i64>,
            i64,
            Option<i64>,
        );
        let row: Option<Row> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash).fetch_optional(pool).await.ctx("reading a session")?
        });
        row.map(|r| {
            let session = session_from_row((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7));
            let user = user_from_row((r.8, r.9, r.10, r.11, r.12, r.13))?;
            Ok((session, user))
        })
        .transpose()
    }

    pub async fn touch_session(&self, id: Id, now_ms: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at_ms = $2 WHERE id = $1")
                .bind(id).bind(now_ms).execute(pool).await.ctx("refreshing a session")?;
        });
        Ok(())
    }

    /// Deletes one of the user's sessions (scoped by user so nobody ends another's session).
    pub async fn delete_session(&self, user_id: Id, id: Id) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
                .bind(id).bind(user_id).execute(pool).await.ctx("ending a session")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// "Sign out everywhere": ends every session of the user; returns how many.
    pub async fn delete_user_sessions(&self, user_id: Id) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id).execute(pool).await.ctx("ending sessions")?.rows_affected()
        }))
    }

    /// Ends every session of the user but `keep` (the one that asked, after a password change).
    pub async fn delete_other_sessions(&self, user_id: Id, keep: Id) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id).bind(keep).execute(pool).await.ctx("ending other sessions")?.rows_affected()
        }))
    }

    pub async fn list_sessions(&self, user_id: Id) -> Result<Vec<Session>, StoreError> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 ORDER BY s.last_seen_at_ms DESC");
        let rows: Vec<SessionRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await.ctx("listing sessions")?
        });
        Ok(rows.into_iter().map(session_from_row).collect())
    }

    /// Removes sessions past their absolute expiry or idle since before `idle_before_ms`.
    pub async fn purge_sessions(&self, now_ms: i64, idle_before_ms: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1 OR last_seen_at_ms < $2")
                .bind(now_ms).bind(idle_before_ms).execute(pool).await.ctx("purging sessions")?.rows_affected()
        }))
    }

    // ----- login attempts -----

    pub async fn record_login_attempt(
        &self,
        username: &str,
        address: &str,
        ok: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO login_attempts (username, address, at_ms, outcome) VALUES ($1, $2, $3, $4)")
                .bind(username).bind(address).bind(now_ms).bind(if ok { "ok" } else { "failed" })
                .execute(pool).await.ctx("recording a sign-in attempt")?;
        });
        Ok(())
    }

    /// Failed sign-ins since `since_ms` for (this user name, this address).
    pub async fn failed_logins_since(
        &self,
        username: &str,
        address: &str,
        since_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let (by_user, by_address): (i64, i64) = on_pool!(self, pool => {
            let u: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE username = $1 AND at_ms >= $2 AND outcome = 'failed'")
                .bind(username).bind(since_ms).fetch_one(pool).await.ctx("counting sign-in attempts")?;
            let a: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE address = $1 AND at_ms >= $2 AND outcome = 'failed'")
                .bind(address).bind(since_ms).fetch_one(pool).await.ctx("counting sign-in attempts")?;
            (u, a)
        });
        Ok((by_user, by_address))
    }

    // ----- consent -----

    pub async fn create_invitation(
        &self,
        patient_id: Id,
        code_hash: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<Id, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO invitations (patient_id, code_hash, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(patient_id).bind(code_hash).bind(now_ms).bind(expires_at_ms)
                .fetch_one(pool).await.ctx("creating an invitation")?
        }))
    }

    /// Spends an unexpired, unused invitation and grants its patient's data to the clinician,
    /// in one transaction: the conditional UPDATE is what makes a code single-use.
    pub async fn redeem_invitation(
        &self,
        code_hash: &str,
        clinician_id: Id,
        now_ms: i64,
    ) -> Result<Redeemed, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.ctx("starting a transaction")?;
            let patient: Option<i64> = sqlx::query_scalar("UPDATE invitations SET redeemed_at_ms = $3, redeemed_by = $2 WHERE code_hash = $1 AND redeemed_at_ms IS NULL AND expires_at_ms > $3 RETURNING patient_id")
                .bind(code_hash).bind(clinician_id).bind(now_ms)
                .fetch_optional(&mut *tx).await.ctx("redeeming an invitation")?;
            let outcome = match patient {
                None => Redeemed::Invalid,
                Some(patient_id) => {
                    let live: Option<i64> = sqlx::query_scalar("SELECT id FROM consents WHERE patient_id = $1 AND clinician_id = $2 AND revoked_at_ms IS NULL")
                        .bind(patient_id).bind(clinician_id).fetch_optional(&mut *tx).await.ctx("reading consent")?;
                    match live {
                        Some(_) => Redeemed::AlreadyGranted { patient_id },
                        None => {
                            let consent_id: i64 = sqlx::query_scalar("INSERT INTO consents (patient_id, clinician_id, via, granted_at_ms) VALUES ($1, $2, 'invitation', $3) RETURNING id")
                                .bind(patient_id).bind(clinician_id).bind(now_ms)
                                .fetch_one(&mut *tx).await.ctx("granting consent")?;
                            Redeemed::Granted { consent_id, patient_id }
                        }
                    }
                }
            };
            tx.commit().await.ctx("committing")?;
            outcome
        }))
    }

    /// Grants directly (the patient typed the clinician's handle). `None` when already live.
    pub async fn grant_consent(
        &self,
        patient_id: Id,
        clinician_id: Id,
        via: &str,
        now_ms: i64,
    ) -> Result<Option<Id>, StoreError> {
        if self.has_consent(clinician_id, patient_id).await? {
            return Ok(None);
        }
        let id = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO consents (patient_id, clinician_id, via, granted_at_ms) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(patient_id).bind(clinician_id).bind(via).bind(now_ms)
                .fetch_one(pool).await.ctx("granting consent")?
        });
        Ok(Some(id))
    }

    /// Every grant of a patient, live first, then by date.
    pub async fn consents_of_patient(&self, patient_id: Id) -> Result<Vec<Consent>, StoreError> {
        let sql = format!("{CONSENT_SELECT} WHERE c.patient_id = $1 ORDER BY c.revoked_at_ms IS NOT NULL, c.granted_at_ms DESC, c.id DESC");
        let rows: Vec<ConsentRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient_id).fetch_all(pool).await.ctx("listing consent")?
        });
        Ok(rows.into_iter().map(consent_from_row).collect())
    }

    /// Live grants a clinician holds.
    pub async fn consents_of_clinician(&self, clinician_id: Id) -> Result<Vec<Consent>, StoreError> {
        let sql = format!("{CONSENT_SELECT} WHERE c.clinician_id = $1 AND c.revoked_at_ms IS NULL ORDER BY p.handle");
        let rows: Vec<ConsentRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(clinician_id).fetch_all(pool).await.ctx("listing consent")?
        });
        Ok(rows.into_iter().map(consent_from_row).collect())
    }

    /// Revokes one of the patient's live grants; returns the clinician it named.
    pub async fn revoke_consent(&self, patient_id: Id, consent_id: Id, now_ms: i64) -> Result<Option<Id>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("UPDATE consents SET revoked_at_ms = $3 WHERE id = $2 AND patient_id = $1 AND revoked_at_ms IS NULL RETURNING clinician_id")
                .bind(patient_id).bind(consent_id).bind(now_ms)
                .fetch_optional(pool).await.ctx("revoking consent")?
        }))
    }

    /// Whether the clinician holds live access to the patient. Asked on every request.
    pub async fn has_consent(&self, clinician_id: Id, patient_id: Id) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM consents WHERE clinician_id = $1 AND patient_id = $2 AND revoked_at_ms IS NULL")
                .bind(clinician_id).bind(patient_id).fetch_one(pool).await.ctx("checking consent")?
        });
        Ok(n > 0)
    }

    // ----- personal access tokens -----

    pub async fn create_api_token(
        &self,
        user_id: Id,
        name: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Id, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO api_tokens (user_id, name, token_hash, created_at_ms) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(user_id).bind(name).bind(token_hash).bind(now_ms)
                .fetch_one(pool).await.ctx("creating a token")?
        }))
    }

    pub async fn list_api_tokens(&self, user_id: Id) -> Result<Vec<ApiToken>, StoreError> {
        type Row = (i64, i64, String, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, user_id, name, created_at_ms, last_used_at_ms, revoked_at_ms FROM api_tokens WHERE user_id = $1 ORDER BY id")
                .bind(user_id).fetch_all(pool).await.ctx("listing tokens")?
        });
        Ok(rows
            .into_iter()
            .map(|r| ApiToken {
                id: r.0,
                user_id: r.1,
                name: r.2,
                created_at_ms: r.3,
                last_used_at_ms: r.4,
                revoked_at_ms: r.5,
            })
            .collect())
    }

    pub async fn revoke_api_token(&self, user_id: Id, id: Id, now_ms: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET revoked_at_ms = $3 WHERE id = $1 AND user_id = $2 AND revoked_at_ms IS NULL")
                .bind(id).bind(user_id).bind(now_ms).execute(pool).await.ctx("revoking a token")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// The owner of a live token, noting its use.
    pub async fn user_by_api_token(&self, token_hash: &str, now_ms: i64) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT t.id, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at_ms IS NULL"
        );
        type Row = (i64, i64, String, String, Option<i64>, i64, Option<i64>);
        let row: Option<Row> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash).fetch_optional(pool).await.ctx("checking a token")?
        });
        let Some((token_id, a, b, c, d, e, f)) = row else {
            return Ok(None);
        };
        on_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET last_used_at_ms = $2 WHERE id = $1")
                .bind(token_id).bind(now_ms).execute(pool).await.ctx("noting token use")?;
        });
        Ok(Some(user_from_row((a, b, c, d, e, f))?))
    }

    // ----- audit log -----

    /// Appends one event to the hash chain.
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError> {
        let _guard = AUDIT_APPEND.lock().await;
        let mut last_err = None;
        // Another process (the CLI next to the server) may append between our read and write;
        // the UNIQUE prev_hash then rejects ours and we read the new head and try again.
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
        let prev: Option<String> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_optional(pool).await.ctx("reading the audit head")?
        });
        let prev_hash = prev.unwrap_or_else(|| AUDIT_GENESIS.to_string());
        let hash = audit_hash(&prev_hash, e);
        let id: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("INSERT INTO audit_log (at_ms, actor_id, actor, patient_id, action, address, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                .bind(e.at_ms).bind(e.actor_id).bind(&e.actor).bind(e.patient_id).bind(&e.action)
                .bind(&e.address).bind(&e.detail).bind(&prev_hash).bind(&hash)
                .fetch_one(pool).await.ctx("appending to the audit log")?
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
