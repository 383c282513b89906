//! Account-security storage kept apart from `accounts.rs`: the atomic first administrator,
//! the explicit link of an account to an existing patient record.

use tonus_domain::{Id, Patient};

use crate::accounts::{now_ms, user_from_row, Role, User, UserRow, USER_COLUMNS};
use crate::connect::{on_pool, Backend, Store};
use crate::error::{Context, StoreError};

/// `name-n`, cut so it stays within the 64 characters a handle may have.
pub(crate) fn numbered_handle(name: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let keep = 64usize.saturating_sub(suffix.len());
    let base: String = name.chars().take(keep).collect();
    format!("{base}{suffix}")
}

/// What `link_patient` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub user: User,
    pub patient: Patient,
    /// The record the account owned before; it stays, without an account.
    pub previous_patient_id: Option<Id>,
}

impl Store {
    /// Creates the first administrator, or nothing (`None`) when any account exists. The check
    /// and the insert are one statement inside a transaction that excludes other writers of
    /// `users` (SQLite: BEGIN IMMEDIATE; PostgreSQL: a self-exclusive table lock), so
    /// concurrent first visits make exactly one administrator.
    pub async fn create_first_admin(&self, username: &str, password_hash: &str) -> Result<Option<User>, StoreError> {
        let username =
            crate::validate_username(username, Role::Admin).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let now = now_ms();
        const INSERT: &str = "INSERT INTO users (username, role, password_hash, created_at_ms) SELECT $1, 'admin', $2, $3 WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id";
        let id: Option<i64> = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.ctx("starting a transaction")?;
                let id = sqlx::query_scalar(INSERT)
                    .bind(&username)
                    .bind(password_hash)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx("creating the first administrator")?;
                tx.commit().await.ctx("committing")?;
                id
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await.ctx("starting a transaction")?;
                // SHARE ROW EXCLUSIVE conflicts with itself: the second visitor waits here and
                // then sees the first one's row.
                sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await
                    .ctx("locking users")?;
                let id = sqlx::query_scalar(INSERT)
                    .bind(&username)
                    .bind(password_hash)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx("creating the first administrator")?;
                tx.commit().await.ctx("committing")?;
                id
            }
        };
        Ok(id.map(|id| User {
            id,
            username,
            role: Role::Admin,
            patient_id: None,
            created_at_ms: now,
            disabled: false,
        }))
    }

    /// Points a patient account at an existing patient record (the explicit, audited step
    /// that replaces matching by name). Refuses a non-patient account and a record another
    /// account owns.
    pub async fn link_patient(&self, username: &str, handle: &str) -> Result<Linked, StoreError> {
        let user = self
            .user_by_username(username)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("no user named {username:?}")))?;
        if user.role != Role::Patient {
            return Err(StoreError::Conflict(format!(
                "{username:?} is a {} account; only patient accounts own a record",
                user.role
            )));
        }
        let patient = self
            .patient_by_handle(handle)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("no patient named {handle:?}")))?;
        if user.patient_id == Some(patient.id) {
            return Ok(Linked {
                user,
                patient,
                previous_patient_id: None,
            });
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.patient_id = $1");
        let owner: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).fetch_optional(pool).await.ctx("finding the record's account")?
        });
        if let Some(owner) = owner.map(user_from_row).transpose()? {
            return Err(StoreError::Conflict(format!(
                "patient {handle:?} already belongs to the account {:?}",
                owner.username
            )));
        }
        // UNIQUE(patient_id) settles a race with another link to the same record.
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET patient_id = $2 WHERE id = $1")
                .bind(user.id).bind(patient.id).execute(pool).await.ctx("linking a patient")?;
        });
        let previous_patient_id = user.patient_id;
        Ok(Linked {
            user: User {
                patient_id: Some(patient.id),
                ..user
            },
            patient,
            previous_patient_id,
        })
    }
}

/// Recent failed sign-ins, as the throttle needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Failures for this user name, from anywhere.
    pub by_account: i64,
    /// The newest failure for this user name from this address.
    pub last_from_address: Option<i64>,
    /// Failures from this address, for any name, counted up to the limit asked for.
    pub by_address: i64,
    /// When `by_address` reached the limit: the oldest counted failure, whose leaving the
    /// window lifts the address limit.
    pub address_limit_since: Option<i64>,
}

impl Store {
    /// Failed sign-ins since `since_ms` for this user name and this address.
    pub async fn login_failures(
        &self,
        username: &str,
        address: &str,
        since_ms: i64,
        address_limit: i64,
    ) -> Result<LoginFailures, StoreError> {
        let (by_account, last_from_address, times): (i64, Option<i64>, Vec<i64>) = on_pool!(self, pool => {
            let a: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE username = $1 AND at_ms >= $2 AND outcome = 'failed'")
                .bind(username).bind(since_ms).fetch_one(pool).await.ctx("counting sign-in attempts")?;
            let l: Option<i64> = sqlx::query_scalar("SELECT MAX(at_ms) FROM login_attempts WHERE username = $1 AND address = $2 AND at_ms >= $3 AND outcome = 'failed'")
                .bind(username).bind(address).bind(since_ms).fetch_one(pool).await.ctx("reading sign-in attempts")?;
            let t: Vec<i64> = sqlx::query_scalar("SELECT at_ms FROM login_attempts WHERE address = $1 AND at_ms >= $2 AND outcome = 'failed' ORDER BY at_ms DESC LIMIT $3")
                .bind(address).bind(since_ms).bind(address_limit.max(1)).fetch_all(pool).await.ctx("reading sign-in attempts")?;
            (a, l, t)
        });
        let by_address = times.len() as i64;
        Ok(LoginFailures {
            by_account,
            last_from_address,
            by_address,
            address_limit_since: times.last().copied().filter(|_| by_address >= address_limit),
        })
    }
}

/// What a personal access token may do with the diary. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TokenScope {
    /// Read the diary (GET).
    #[serde(rename = "read")]
    Read,
    /// Read and write the diary: episodes and check-ins.
    #[serde(rename = "read-write")]
    ReadWrite,
}

impl TokenScope {
    pub fn code(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read-write",
        }
    }

    pub fn parse(input: &str) -> Result<Self, tonus_domain::ValidationError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "read" | "read-only" | "readonly" => Ok(TokenScope::Read),
            "read-write" | "readwrite" | "write" => Ok(TokenScope::ReadWrite),
            _ => Err(tonus_domain::ValidationError::new(
                "scope",
                "read or read-write",
                format!("{input:?}"),
            )),
        }
    }

    pub(crate) fn from_stored(code: &str, id: Id) -> Result<Self, StoreError> {
        Self::parse(code).map_err(|source| StoreError::Corrupt {
            table: "api_tokens",
            id,
            source,
        })
    }
}

/// The live token a request presented, and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub id: Id,
    pub name: String,
    pub scope: TokenScope,
    pub user: User,
}

impl Store {
    pub async fn create_scoped_api_token(
        &self,
        user_id: Id,
        name: &str,
        scope: TokenScope,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Id, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("INSERT INTO api_tokens (user_id, name, token_hash, created_at_ms, scope) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(user_id).bind(name).bind(token_hash).bind(now_ms).bind(scope.code())
                .fetch_one(pool).await.ctx("creating a token")?
        }))
    }

    /// The live token with this hash (its name and scope) and its owner, noting its use.
    pub async fn api_token_use(&self, token_hash: &str, now_ms: i64) -> Result<Option<TokenUse>, StoreError> {
        let sql = format!(
            "SELECT t.id, t.name, t.scope, t.last_used_at_ms, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at_ms IS NULL"
        );
        type Row = (
            i64,
            String,
            String,
            Option<i64>,
            i64,
            String,
            String,
            Option<i64>,
            i64,
            Option<i64>,
        );
        let row: Option<Row> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash).fetch_optional(pool).await.ctx("checking a token")?
        });
        let Some((id, name, scope, last_used, a, b, c, d, e, f)) = row else {
            return Ok(None);
        };
        // At most once a minute, as for sessions: the allowance already writes per request.
        if last_used.is_none_or(|t| now_ms - t >= crate::accounts::TOKEN_USE_EVERY_MS) {
            on_pool!(self, pool => {
                sqlx::query("UPDATE api_tokens SET last_used_at_ms = $2 WHERE id = $1")
                    .bind(id).bind(now_ms).execute(pool).await.ctx("noting token use")?;
            });
        }
        Ok(Some(TokenUse {
            id,
            name,
            scope: TokenScope::from_stored(&scope, id)?,
            user: user_from_row((a, b, c, d, e, f))?,
        }))
    }

    /// Revokes every live token of the user (password change, "sign out everywhere").
    pub async fn revoke_all_api_tokens(&self, user_id: Id, now_ms: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET revoked_at_ms = $2 WHERE user_id = $1 AND revoked_at_ms IS NULL")
                .bind(user_id).bind(now_ms).execute(pool).await.ctx("revoking tokens")?.rows_affected()
        }))
    }
}

impl Store {
    /// Marks (`Some(now)`) or clears (`None`) "an administrator set this password".
    pub async fn set_password_reset(&self, user_id: Id, at_ms: Option<i64>) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET password_reset_at_ms = $2 WHERE id = $1")
                .bind(user_id).bind(at_ms).execute(pool).await.ctx("marking a password reset")?;
        });
        Ok(())
    }

    /// Whether the account's password was set by an administrator and not changed since.
    pub async fn password_reset_pending(&self, user_id: Id) -> Result<bool, StoreError> {
        let v: Option<Option<i64>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT password_reset_at_ms FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await.ctx("reading a password reset")?
        });
        Ok(v.flatten().is_some())
    }
}

impl Store {
    /// Keeps (or drops) the TOTP secret the server generated for an account that is setting
    /// up its app; the secret never travels back from the browser.
    pub async fn set_totp_pending(&self, user_id: Id, secret: Option<&str>) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET totp_pending = $2 WHERE id = $1")
                .bind(user_id).bind(secret).execute(pool).await.ctx("keeping a TOTP secret")?;
        });
        Ok(())
    }

    pub async fn totp_pending(&self, user_id: Id) -> Result<Option<String>, StoreError> {
        let v: Option<Option<String>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT totp_pending FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await.ctx("reading a TOTP secret")?
        });
        Ok(v.flatten())
    }

    /// Turns two-step sign-in on with the pending secret, the step of the code that proved
    /// it (already used), and fresh recovery codes (hashes), replacing any old ones.
    pub async fn enable_totp(
        &self,
        user_id: Id,
        secret: &str,
        step: i64,
        code_hashes: &[String],
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.ctx("starting a transaction")?;
            sqlx::query("UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = $3 WHERE id = $1")
                .bind(user_id).bind(secret).bind(step).execute(&mut *tx).await.ctx("turning TOTP on")?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user_id).execute(&mut *tx).await.ctx("replacing recovery codes")?;
            for h in code_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user_id).bind(h).execute(&mut *tx).await.ctx("storing a recovery code")?;
            }
            tx.commit().await.ctx("committing")?;
        });
        Ok(())
    }

    /// Records `step` as used if it is newer than the last used one: a TOTP code is accepted
    /// at most once, even by two requests racing (one conditional UPDATE).
    pub async fn accept_totp_step(&self, user_id: Id, step: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)")
                .bind(user_id).bind(step).execute(pool).await.ctx("using a TOTP code")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Spends one unused recovery code (by hash); false if unknown or used.
    pub async fn use_recovery_code(&self, user_id: Id, code_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE recovery_codes SET used_at_ms = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at_ms IS NULL")
                .bind(user_id).bind(code_hash).bind(now_ms).execute(pool).await.ctx("using a recovery code")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// How many recovery codes are left.
    pub async fn recovery_codes_left(&self, user_id: Id) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at_ms IS NULL")
                .bind(user_id).fetch_one(pool).await.ctx("counting recovery codes")?
        }))
    }

    /// Turns two-step sign-in off (secret, pending secret, used step, recovery codes) and
    /// leaves `notice` for the user's next sign-in (when an administrator did it).
    pub async fn remove_totp(&self, user_id: Id, notice: Option<&str>) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            let mut tx = pool.begin().await.ctx("starting a transaction")?;
            let n = sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, notice = COALESCE($2, notice) WHERE id = $1")
                .bind(user_id).bind(notice).execute(&mut *tx).await.ctx("turning TOTP off")?.rows_affected();
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user_id).execute(&mut *tx).await.ctx("removing recovery codes")?;
            tx.commit().await.ctx("committing")?;
            n
        });
        Ok(n > 0)
    }

    /// The message left for the user, removed as it is read.
    pub async fn take_notice(&self, user_id: Id) -> Result<Option<String>, StoreError> {
        let v: Option<Option<String>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT notice FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await.ctx("reading a notice")?
        });
        let Some(notice) = v.flatten() else {
            return Ok(None);
        };
        // Only this notice: one left meanwhile stays for next time.
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET notice = NULL WHERE id = $1 AND notice = $2")
                .bind(user_id).bind(&notice).execute(pool).await.ctx("clearing a notice")?;
        });
        Ok(Some(notice))
    }

    pub async fn has_notice(&self, user_id: Id) -> Result<bool, StoreError> {
        let v: Option<Option<String>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT notice FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await.ctx("reading a notice")?
        });
        Ok(v.flatten().is_some())
    }
}

impl Store {
    /// Whether the account that owns this patient record is disabled (false without one).
    pub async fn patient_owner_disabled(&self, patient_id: Id) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE patient_id = $1 AND disabled_at_ms IS NOT NULL")
                .bind(patient_id).fetch_one(pool).await.ctx("checking the record's account")?
        });
        Ok(n > 0)
    }
}

impl Store {
    /// Notes one sign-up attempt from `address` (made or refused alike).
    pub async fn record_signup_attempt(&self, address: &str, now_ms: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO signup_attempts (address, at_ms) VALUES ($1, $2)")
                .bind(address).bind(now_ms).execute(pool).await.ctx("recording a sign-up attempt")?;
        });
        Ok(())
    }

    /// Sign-up attempts from `address` since `since_ms`, and the oldest of them.
    pub async fn signup_attempts_since(&self, address: &str, since_ms: i64) -> Result<(i64, Option<i64>), StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, (i64, Option<i64>)>("SELECT COUNT(*), MIN(at_ms) FROM signup_attempts WHERE address = $1 AND at_ms >= $2")
                .bind(address).bind(since_ms).fetch_one(pool).await.ctx("counting sign-up attempts")?
        }))
    }
}
