//! Passwords (argon2id, length and common-password rules), random secrets and their hashes.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tonus_domain::ValidationError;

use crate::error::AppError;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Argon2 hashes whatever it is given; a cap stops megabyte "passwords" from costing CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../assets/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Length and common-password rules. Besides exact matches, a common password padded with
/// digits or symbols ("password1234!") and a single repeated character are refused, since
/// those are the first guesses an attacker makes.
pub fn check_password_rules(password: &str, username: &str) -> Result<(), ValidationError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
            format!("{chars} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("at most {MAX_PASSWORD_CHARS} characters"),
            format!("{chars} characters"),
        ));
    }
    let lower = password.to_lowercase();
    let core = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    let first = lower.chars().next();
    let repeated = lower.chars().all(|c| Some(c) == first);
    let common = COMMON.contains(lower.as_str()) || (core.chars().count() >= 4 && COMMON.contains(core));
    if common || repeated || lower.contains(&username.trim().to_lowercase()) && !username.trim().is_empty() {
        return Err(ValidationError::new(
            "password",
            "not a common password, a repeated character, or containing the user name",
            "(hidden)",
        ));
    }
    Ok(())
}

/// Hashes with argon2id (the crate's defaults: 19 MiB, 2 passes, the OWASP recommendation) on
/// the blocking pool, since a hash takes tens of milliseconds of CPU.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal("hashing a password", e))
    })
    .await
    .map_err(|e| AppError::internal("hashing task", e))?
}

/// A fixed hash checked against when the user does not exist, so an unknown name costs as
/// long as a wrong password and timing does not reveal which names have accounts.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"tonus-dummy-password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = match PasswordHash::new(&hash) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        };
        real && ok
    })
    .await
    .map_err(|e| AppError::internal("verifying task", e))
}

/// `bytes` random bytes from the OS, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// An invitation code a person can read out or type: 12 characters from an alphabet without
/// look-alikes (no 0/O, 1/I/L), shown in groups of four; about 60 bits.
pub fn invitation_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut out = String::with_capacity(14);
    let mut rng = rand::rngs::OsRng;
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let idx = (rng.next_u32() as usize) % ALPHABET.len();
        out.push(char::from(ALPHABET[idx]));
    }
    out
}

/// Normalises what was typed (case, spaces, dashes) before hashing, so "abcd efgh" works.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert_eq!(
            check_password_rules("short", "anne").unwrap_err().rule,
            "at least 12 characters"
        );
        assert!(check_password_rules("password1234", "anne").is_err());
        assert!(check_password_rules("Password1234!!", "anne").is_err());
        assert!(check_password_rules("aaaaaaaaaaaaaa", "anne").is_err());
        assert!(check_password_rules("anne-is-my-name", "anne").is_err());
        assert!(check_password_rules("correct horse battery", "anne").is_ok());
    }

    #[test]
    fn codes_normalise() {
        let c = invitation_code();
        assert_eq!(c.len(), 14);
        assert_eq!(normalise_code(&c.to_lowercase().replace('-', " ")), c.replace('-', ""));
    }
}
