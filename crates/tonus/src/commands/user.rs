//! `tonus user`: accounts of the web application, created from the command line (the first
//! administrator on a headless server, or scripted installs).

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{Context as _, Result};
use tonus_domain::time::Zone;
use tonus_store::{AuditEvent, Role};

use crate::cli::{UserAddArgs, UserCommand};
use crate::context::{system_zone, user_error, Ctx};

pub async fn run(ctx: &Ctx, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add(a) => add(ctx, a).await,
        UserCommand::List => list(ctx).await,
        UserCommand::Link(a) => link(ctx, &a.name, &a.patient).await,
    }
}

async fn add(ctx: &Ctx, a: UserAddArgs) -> Result<()> {
    let role = Role::parse(&a.role)?;
    let name = tonus_store::validate_username(&a.name.to_lowercase(), role)?;
    let zone = match &a.time_zone {
        Some(z) => Zone::parse(z)?,
        None => system_zone(),
    };
    if ctx.store.user_by_username(&name).await?.is_some() {
        return Err(user_error(format!("a user named {name:?} already exists")));
    }
    if let Some(handle) = &a.patient {
        if role != Role::Patient {
            return Err(user_error("--patient: only a patient account owns a patient record"));
        }
        if ctx.store.patient_by_handle(handle).await?.is_none() {
            return Err(user_error(format!("--patient: no patient named {handle:?}")));
        }
    }
    let password = read_password(a.password_stdin)?;
    tonus_server::security::check_password_rules(&password, &name)?;
    let hash = tonus_server::security::hash_password(password)
        .await
        .map_err(|_| anyhow::anyhow!("could not hash the password"))?;
    let user = ctx.store.create_user(&name, role, &hash, &zone).await?;
    ctx.store
        .append_audit(&AuditEvent {
            at_ms: jiff::Timestamp::now().as_millisecond(),
            actor_id: None,
            actor: "tonus user add".to_string(),
            patient_id: user.patient_id,
            action: "user.create".to_string(),
            address: "local".to_string(),
            detail: format!("{} {}", role, user.username),
        })
        .await?;
    if let Some(handle) = &a.patient {
        link(ctx, &user.username, handle).await?;
        // The record create_user made a moment ago is empty and nobody's now: remove it.
        if let Some(p) = user.patient_id {
            if let Some(fresh) = ctx.store.patient_by_id(p).await? {
                ctx.store.delete_patient(&fresh).await?;
            }
        }
        return Ok(());
    }
    super::report(ctx, &format!("Created {} account {:?}.", role, user.username), &user)
}

/// The explicit, audited step that gives an account an existing record: on the server only,
/// by whoever runs the CLI there (who can read the database anyway).
async fn link(ctx: &Ctx, name: &str, handle: &str) -> Result<()> {
    let linked = ctx
        .store
        .link_patient(&name.trim().to_lowercase(), handle.trim())
        .await
        .map_err(|e| user_error(e.to_string()))?;
    ctx.store
        .append_audit(&AuditEvent {
            at_ms: jiff::Timestamp::now().as_millisecond(),
            actor_id: None,
            actor: "tonus user link".to_string(),
            patient_id: Some(linked.patient.id),
            action: "user.link".to_string(),
            address: "local".to_string(),
            detail: format!(
                "{} -> patient {} (previous record id {})",
                linked.user.username,
                linked.patient.handle,
                linked.previous_patient_id.map_or("none".to_string(), |p| p.to_string())
            ),
        })
        .await?;
    super::report(
        ctx,
        &format!(
            "Account {:?} now owns patient {:?}.",
            linked.user.username, linked.patient.handle
        ),
        &linked.user,
    )
}

async fn list(ctx: &Ctx) -> Result<()> {
    let users = ctx.store.list_users().await?;
    if ctx.json {
        return crate::output::print_json(&users);
    }
    for u in &users {
        println!("{:<32} {}", u.username, u.role);
    }
    Ok(())
}

/// The new password: the first line of standard input with `--password-stdin`, else asked
/// twice on the terminal with echo off (via `stty`, so no extra dependency).
fn read_password(from_stdin: bool) -> Result<String> {
    let stdin = io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).context("reading the password")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = ask_hidden("New password (at least 12 characters):")?;
    let second = ask_hidden("Again:")?;
    if first != second {
        return Err(user_error("the two passwords differ"));
    }
    Ok(first)
}

fn ask_hidden(question: &str) -> Result<String> {
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let mut err = io::stderr();
    write!(err, "{question} ")?;
    err.flush()?;
    let hidden = stty("-echo");
    let mut line = String::new();
    let read = io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo");
        writeln!(err)?;
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
