//! Accounts coming into being and signing in: first-visit set-up, sign-up, creation by an
//! administrator, password (and second-factor) checks with throttling, sessions opened.

use tonus_domain::time::Zone;
use tonus_domain::ValidationError;
use tonus_store::{NewSession, Role, User};

use super::{now_ms, Actor};
use crate::auth::ClientAddr;
use crate::config::ms;
use crate::error::{AppError, AppResult};
use crate::security::{check_password_rules, hash_password, random_hex, sha256_hex, verify_password};
use crate::state::AppState;

/// A new account as typed.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub role: Role,
    /// IANA time zone of a patient; empty means UTC.
    pub time_zone: &'a str,
}

/// Checks every rule, hashes, creates, audits (in the name of `by`, else of the new account).
/// A taken name is reported on the username field. `first_admin` makes the creation
/// conditional on there being no account at all, atomically (404 when one exists).
async fn create(
    state: &AppState,
    input: &NewAccount<'_>,
    by: Option<&Actor<'_>>,
    address: &str,
    first_admin: bool,
) -> AppResult<User> {
    let username = tonus_store::validate_username(&input.username.to_lowercase(), input.role)?;
    let zone = Zone::parse(match input.time_zone.trim() {
        "" => "UTC",
        z => z,
    })?;
    check_password_rules(input.password, &username)?;
    // Hash first: a taken name then costs the same time as a free one, so the answer's
    // timing does not reveal names (the message must, for the person choosing one).
    let hash = hash_password(input.password.to_string()).await?;
    if state.store.user_by_username(&username).await?.is_some() {
        return Err(AppError::Invalid(ValidationError::new(
            "username",
            "a name nobody uses yet",
            format!("{username:?}"),
        )));
    }
    let user = if first_admin {
        state
            .store
            .create_first_admin(&username, &hash)
            .await?
            .ok_or(AppError::NotFound)?
    } else {
        state.store.create_user(&username, input.role, &hash, &zone).await?
    };
    let detail = format!("{} {}", input.role, user.username);
    match by {
        Some(actor) => actor.audit(user.patient_id, "user.create", &detail).await?,
        None => {
            state
                .audit(
                    (Some(user.id), &user.username),
                    user.patient_id,
                    "user.create",
                    address,
                    &detail,
                )
                .await?
        }
    }
    Ok(user)
}

/// First visit: creates the administrator; 404 once any account exists.
pub async fn setup(state: &AppState, addr: &ClientAddr, username: &str, password: &str) -> AppResult<User> {
    if state.store.count_users().await? > 0 {
        return Err(AppError::NotFound);
    }
    let input = NewAccount {
        username,
        password,
        role: Role::Admin,
        time_zone: "UTC",
    };
    create(state, &input, None, &addr.0, true).await
}

/// Whether the first-visit set-up is still open.
pub async fn setup_open(state: &AppState) -> AppResult<bool> {
    Ok(state.store.count_users().await? == 0)
}

/// The window of `Config::signups_per_hour`.
const SIGNUP_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Open registration: a patient creates their own account; 404 when registration is closed.
pub async fn sign_up(
    state: &AppState,
    addr: &ClientAddr,
    username: &str,
    password: &str,
    time_zone: &str,
) -> AppResult<User> {
    if !state.config.open_registration {
        return Err(AppError::NotFound);
    }
    // Per address, made or refused alike: open registration must not let one address mass-
    // create accounts or probe which names exist.
    let now = now_ms();
    let (recent, oldest) = state
        .store
        .signup_attempts_since(&addr.0, now - SIGNUP_WINDOW_MS)
        .await?;
    if recent >= state.config.signups_per_hour {
        let until = oldest.unwrap_or(now) + SIGNUP_WINDOW_MS;
        let wait = u64::try_from((until - now + 999) / 1000).unwrap_or(1).max(1);
        state
            .audit(
                (None, username.trim()),
                None,
                "signup.throttled",
                &addr.0,
                &format!("retry after {wait} s"),
            )
            .await?;
        return Err(AppError::RateLimited(wait));
    }
    state.store.record_signup_attempt(&addr.0, now).await?;
    let base = signup_base_name(username)?;
    check_password_rules(password, &base)?;
    // Another sign-up may take the same digits between the check in `create` and the insert;
    // that collision says nothing about the name typed, so it is simply tried again.
    for attempt in 0..SIGNUP_NAME_TRIES {
        let candidate = with_server_digits(&base, attempt);
        if state.store.user_by_username(&candidate).await?.is_some() {
            continue;
        }
        let input = NewAccount {
            username: &candidate,
            password,
            role: Role::Patient,
            time_zone,
        };
        match create(state, &input, None, &addr.0, false).await {
            Err(AppError::Invalid(e)) if e.field == "username" => continue,
            other => return other,
        }
    }
    Err(AppError::Conflict(
        "no free sign-in name was found; please try again".to_string(),
    ))
}

/// Open registration adds digits the server draws to the name typed ("anne" becomes
/// "anne-4821"), so a sign-up succeeds the same way whether or not someone already uses
/// "anne": on a server for people with MS, learning that a named person has an account is
/// itself health information. The typed part must leave room for the digits.
const SIGNUP_BASE_MAX: usize = 57;
const SIGNUP_NAME_TRIES: u32 = 24;

fn signup_base_name(typed: &str) -> AppResult<String> {
    let base = tonus_store::validate_username(&typed.to_lowercase(), Role::Patient)?;
    if base.len() > SIGNUP_BASE_MAX {
        return Err(AppError::Invalid(ValidationError::new(
            "username",
            format!("at most {SIGNUP_BASE_MAX} characters (Tonus adds digits to it)"),
            format!("{} characters", base.len()),
        )));
    }
    Ok(base)
}

/// Four random digits, six once four have collided often: 10,000 names per typed name
/// before the longer form, a million after.
fn with_server_digits(base: &str, attempt: u32) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    if attempt < SIGNUP_NAME_TRIES / 2 {
        format!("{base}-{:04}", rng.gen_range(0..10_000))
    } else {
        format!("{base}-{:06}", rng.gen_range(0..1_000_000))
    }
}

/// An administrator creates an account.
pub async fn create_by_admin(actor: &Actor<'_>, input: &NewAccount<'_>) -> AppResult<User> {
    actor.require(Role::Admin)?;
    create(actor.state, input, Some(actor), actor.address, false).await
}

/// What a sign-in attempt came to.
pub enum SignIn {
    Accepted(User),
    /// Too many recent failures for this name or address; try again after this many seconds.
    Throttled(u64),
    /// Unknown name, wrong password or disabled account: one answer, no account enumeration.
    Refused,
    /// The password matched but the account's second factor did not.
    SecondFactorNeeded,
}

/// The per-account back-off: nothing below `max_failures_per_account` failures in the
/// window, then 30 s doubling with each further failure, at most the window's length.
fn account_backoff_ms(failures: i64, max: i64, window_ms: i64) -> i64 {
    if failures < max {
        return 0;
    }
    let doublings = u32::try_from((failures - max).min(20)).unwrap_or(20);
    30_000i64.saturating_mul(1i64 << doublings).min(window_ms)
}

/// Whether (and for how many seconds) this attempt must wait. Two limits, neither of which
/// lets a stranger lock the owner out:
/// - per address: `max_failures_per_address` failures from this client address (any name)
///   in the window stop that address until the oldest of them leaves the window;
/// - per account: beyond `max_failures_per_account` failures of the name (from anywhere) an
///   address that itself failed on this name waits a back-off that grows with the failures.
///   An address that has not failed on it within the back-off is not held back, so the
///   owner's correct password (and second factor) still signs in during an attack.
pub(crate) fn throttle_s(f: &tonus_store::LoginFailures, cfg: &crate::config::Config, now: i64) -> Option<u64> {
    let window = ms(cfg.login_window);
    let wait_ms = |until: i64| u64::try_from(((until - now) + 999) / 1000).unwrap_or(1).max(1);
    if f.by_address >= cfg.max_failures_per_address {
        let since = f.address_limit_since.unwrap_or(now);
        return Some(wait_ms(since + window));
    }
    let backoff = account_backoff_ms(f.by_account, cfg.max_failures_per_account, window);
    match f.last_from_address {
        Some(last) if backoff > 0 && now < last + backoff => Some(wait_ms(last + backoff)),
        _ => None,
    }
}

/// Checks a name, password and (where turned on) TOTP code under the throttle above; every
/// outcome is audited.
pub async fn sign_in(
    state: &AppState,
    addr: &ClientAddr,
    username: &str,
    password: &str,
    code: &str,
) -> AppResult<SignIn> {
    let name = username.trim().to_lowercase();
    let now = now_ms();
    let cfg = &state.config;
    let failures = state
        .store
        .login_failures(&name, &addr.0, now - ms(cfg.login_window), cfg.max_failures_per_address)
        .await?;
    if let Some(wait) = throttle_s(&failures, cfg, now) {
        state
            .audit(
                (None, &name),
                None,
                "signin.throttled",
                &addr.0,
                &format!("retry after {wait} s"),
            )
            .await?;
        return Ok(SignIn::Throttled(wait));
    }
    let creds = state.store.user_credentials(&name).await?;
    let hash = creds.as_ref().map(|(_, h)| h.clone());
    let password_ok =
        verify_password(password.to_string(), hash).await? && creds.as_ref().is_some_and(|(u, _)| !u.disabled);
    // The second factor is asked only of accounts that turned it on, and only judged once the
    // password matched, so a wrong code tells nothing about unknown names.
    let second_factor_ok = match (&creds, password_ok) {
        (Some((user, _)), true) => match state.store.totp_secret(user.id).await? {
            Some(secret) => super::second_factor::check(state, user, &secret, code).await?,
            None => true,
        },
        _ => true,
    };
    let ok = password_ok && second_factor_ok;
    state.store.record_login_attempt(&name, &addr.0, ok, now).await?;
    match creds {
        Some((user, _)) if ok => Ok(SignIn::Accepted(user)),
        other => {
            let (actor_id, patient_id) = other.map_or((None, None), |(u, _)| (Some(u.id), u.patient_id));
            let detail = if password_ok { "second factor" } else { "" };
            state
                .audit((actor_id, &name), patient_id, "signin.failed", &addr.0, detail)
                .await?;
            Ok(if password_ok {
                SignIn::SecondFactorNeeded
            } else {
                SignIn::Refused
            })
        }
    }
}

/// A session just opened: the secret for the cookie (stored only hashed) and its lifetime.
pub struct OpenedSession {
    pub token: String,
    /// The session's CSRF token, for a page answered in the same response as the sign-in.
    pub csrf: String,
    pub max_age_s: i64,
}

/// Opens a browser session for `user` and audits the sign-in.
pub async fn open_session(
    state: &AppState,
    user: &User,
    addr: &ClientAddr,
    user_agent: &str,
) -> AppResult<OpenedSession> {
    let token = random_hex(32);
    let csrf = random_hex(32);
    let now = now_ms();
    let absolute = ms(state.config.session_absolute);
    state
        .store
        .create_session(&NewSession {
            user_id: user.id,
            token_hash: &sha256_hex(&token),
            csrf_token: &csrf,
            now_ms: now,
            expires_at_ms: now.saturating_add(absolute),
            address: &addr.0,
            user_agent,
        })
        .await?;
    state
        .audit((Some(user.id), &user.username), user.patient_id, "signin", &addr.0, "")
        .await?;
    Ok(OpenedSession {
        token,
        csrf,
        max_age_s: absolute / 1000,
    })
}
