//! The signed-in user's browser sessions.

use tonus_store::Session;

use super::Actor;
use crate::auth::Via;
use crate::error::{AppError, AppResult};

/// The account's live sessions.
pub async fn list(actor: &Actor<'_>) -> AppResult<Vec<Session>> {
    Ok(actor.state.store.list_sessions(actor.auth.user.id).await?)
}

/// Signs out the current session (a token has none to end).
pub async fn sign_out(actor: &Actor<'_>) -> AppResult<()> {
    if let Via::Session { id, .. } = actor.auth.via {
        actor.state.store.delete_session(actor.auth.user.id, id).await?;
        actor.audit(actor.auth.user.patient_id, "signout", "").await?;
    }
    Ok(())
}

/// Ends one of the account's sessions (404 if it is not theirs); true if it was the current one.
pub async fn end(actor: &Actor<'_>, id: i64) -> AppResult<bool> {
    if !actor.state.store.delete_session(actor.auth.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(matches!(actor.auth.via, Via::Session { id: cur, .. } if cur == id))
}

/// Signs the account out everywhere, its API tokens included (a stolen token is one of the
/// "everywhere"s); returns how many sessions ended.
pub async fn end_all(actor: &Actor<'_>) -> AppResult<u64> {
    actor.require_session()?;
    let store = &actor.state.store;
    let n = store.delete_user_sessions(actor.auth.user.id).await?;
    let tokens = store.revoke_all_api_tokens(actor.auth.user.id, super::now_ms()).await?;
    actor
        .audit(
            actor.auth.user.patient_id,
            "signout.everywhere",
            &format!("{n} sessions, {tokens} tokens revoked"),
        )
        .await?;
    Ok(n)
}
