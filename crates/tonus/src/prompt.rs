//! Interactive questions on a terminal (check-in, delete confirmation).

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::Result;

pub fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Asks `question`; an empty answer gives `None`.
pub fn ask(question: &str) -> Result<Option<String>> {
    let mut err = io::stderr();
    write!(err, "{question} ")?;
    err.flush()?;
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    let answer = line.trim();
    Ok((!answer.is_empty()).then(|| answer.to_string()))
}

/// Asks for an integer in `lo..=hi` until one is given or the answer is left empty.
pub fn ask_int(question: &str, lo: i64, hi: i64) -> Result<Option<i64>> {
    loop {
        match ask(&format!("{question} [{lo}–{hi}, Enter to skip]:"))? {
            None => return Ok(None),
            Some(a) => match a.parse::<i64>() {
                Ok(v) if (lo..=hi).contains(&v) => return Ok(Some(v)),
                _ => eprintln!("  please type a whole number from {lo} to {hi}"),
            },
        }
    }
}

pub fn confirm(question: &str, default_yes: bool) -> Result<bool> {
    let hint = if default_yes { "[Y/n]" } else { "[y/N]" };
    Ok(match ask(&format!("{question} {hint}"))? {
        None => default_yes,
        Some(a) => matches!(a.to_ascii_lowercase().as_str(), "y" | "yes"),
    })
}
