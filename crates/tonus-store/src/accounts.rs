//! Accounts of the web app: users and roles, sessions, login attempts, consent (invitations and
//! grants), personal access tokens, and the hash-chained audit log.
//!
//! Secrets never reach this layer in clear: callers pass SHA-256 hashes of session tokens,
//! invitation codes and API tokens, and argon2id hashes of passwords.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

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

pub(crate) type UserRow = (i64, String, String, Option<i64>, i64, Option<i64>);
pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.role, u.patient_id, u.created_at_ms, u.disabled_at_ms";

pub(crate) fn user_from_row(
    (id, username, role, patient_id, created_at_ms, disabled): UserRow,
) -> Result<User, StoreError> {
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

/// A personal access token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub scope: crate::TokenScope,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

/// How stale a token's last-used time may get before a request refreshes it.
pub(crate) const TOKEN_USE_EVERY_MS: i64 = 60_000;

pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

pub(crate) fn is_unique_violation(e: &StoreError) -> bool {
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

    /// Creates an account. A patient account always gets a new, empty patients row in `zone`
    /// (handle: the user name, or `name-2`, `name-3`… when a record of that name exists), in
    /// the same transaction. It never adopts an existing record by name: a record made by the
    /// CLI, an import or a restore would otherwise go to whoever signs up first under its name.
    /// Linking an account to an existing record is `link_patient`, an explicit step.
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
                let mut handle = username.clone();
                for n in 2..=1000 {
                    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM patients WHERE handle = $1")
                        .bind(&handle).fetch_optional(&mut *tx).await.ctx("finding a free patient handle")?;
                    if taken.is_none() {
                        break;
                    }
                    handle = crate::security::numbered_handle(&username, n);
                }
                Some(sqlx::query_scalar("INSERT INTO patients (handle, time_zone, created_at_ms) VALUES ($1, $2, $3) RETURNING id")
                    .bind(&handle).bind(zone.name()).bind(now)
                    .fetch_one(&mut *tx).await.ctx("creating a patient")?)
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

    /// Creates a patient account that owns the existing patients row `patient_id`, whatever
    /// that patient's handle (the demo links its account this way, not by matching names).
    /// Fails with a conflict if the name is taken or the patient already has an account.
    pub async fn create_patient_user(
        &self,
        username: &str,
        password_hash: &str,
        patient_id: Id,
    ) -> Result<User, StoreError> {
        let username = validate_username(username, Role::Patient).map_err(|e| StoreError::Conflict(e.to_string()))?;
        if self.user_by_username(&username).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a user named {username:?} already exists"
            )));
        }
        let now = now_ms();
        let begin = self.write_tx_statement();
        let id: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let owner: Option<String> = sqlx::query_scalar("SELECT username FROM users WHERE patient_id = $1")
                .bind(patient_id).fetch_optional(&mut *tx).await.ctx("finding the patient's account")?;
            if let Some(owner) = owner {
                return Err(StoreError::Conflict(format!(
                    "patient {patient_id} already has the account {owner:?}"
                )));
            }
            let id: i64 = sqlx::query_scalar("INSERT INTO users (username, role, password_hash, patient_id, created_at_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(&username).bind(Role::Patient.code()).bind(password_hash).bind(patient_id).bind(now)
                .fetch_one(&mut *tx).await.ctx("creating a user")?;
            tx.commit().await.ctx("committing")?;
            id
        });
        Ok(User {
            id,
            username,
            role: Role::Patient,
            patient_id: Some(patient_id),
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
        type Row = (i64, i64, String, i64, Option<i64>, Option<i64>, String);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, user_id, name, created_at_ms, last_used_at_ms, revoked_at_ms, scope FROM api_tokens WHERE user_id = $1 ORDER BY id")
                .bind(user_id).fetch_all(pool).await.ctx("listing tokens")?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.0,
                    user_id: r.1,
                    name: r.2,
                    scope: crate::TokenScope::from_stored(&r.6, r.0)?,
                    created_at_ms: r.3,
                    last_used_at_ms: r.4,
                    revoked_at_ms: r.5,
                })
            })
            .collect()
    }

    pub async fn revoke_api_token(&self, user_id: Id, id: Id, now_ms: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET revoked_at_ms = $3 WHERE id = $1 AND user_id = $2 AND revoked_at_ms IS NULL")
                .bind(id).bind(user_id).bind(now_ms).execute(pool).await.ctx("revoking a token")?.rows_affected()
        });
        Ok(n > 0)
    }
}
