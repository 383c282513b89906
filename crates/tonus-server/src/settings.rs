//! Where `tonus serve` gets its settings: built-in defaults, then a TOML file (`--config`),
//! then `TONUS_*` environment variables, then command-line flags; each source wins over the
//! ones before it, key by key. The result is checked as a whole before the server starts, and
//! a bad value is refused naming the key, the value, where it came from and the rule.
//!
//! Everything here is pure (the caller reads the file and the environment), so the rules are
//! unit-tested without I/O. Every key is documented in `tonus.example.toml` at the top of the
//! repository; a test below keeps that file and [`KEYS`] in step.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;
use crate::proxy::IpNet;

/// How a key's value is written in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
    Integer,
    /// Comma-separated in the environment, an array in the file.
    List,
}

/// Every key: its path in the file, its kind, and its environment variable.
pub const KEYS: &[(&str, Kind, &str)] = &[
    ("listen", Kind::Text, "TONUS_LISTEN"),
    ("database_url", Kind::Text, "TONUS_DATABASE_URL"),
    ("public_url", Kind::Text, "TONUS_PUBLIC_URL"),
    ("fhir_canonical_url", Kind::Text, "TONUS_FHIR_CANONICAL_URL"),
    ("open_registration", Kind::Bool, "TONUS_OPEN_REGISTRATION"),
    ("trusted_proxies", Kind::List, "TONUS_TRUSTED_PROXIES"),
    ("log_format", Kind::Text, "TONUS_LOG_FORMAT"),
    ("metrics_listen", Kind::Text, "TONUS_METRICS_LISTEN"),
    ("shutdown_grace_seconds", Kind::Integer, "TONUS_SHUTDOWN_GRACE_SECONDS"),
    ("session.idle_minutes", Kind::Integer, "TONUS_SESSION_IDLE_MINUTES"),
    ("session.absolute_hours", Kind::Integer, "TONUS_SESSION_ABSOLUTE_HOURS"),
    ("limits.max_body_bytes", Kind::Integer, "TONUS_MAX_BODY_BYTES"),
    (
        "limits.request_timeout_seconds",
        Kind::Integer,
        "TONUS_REQUEST_TIMEOUT_SECONDS",
    ),
    (
        "limits.api_requests_per_minute",
        Kind::Integer,
        "TONUS_API_REQUESTS_PER_MINUTE",
    ),
    (
        "limits.login_window_minutes",
        Kind::Integer,
        "TONUS_LOGIN_WINDOW_MINUTES",
    ),
    (
        "limits.login_failures_per_account",
        Kind::Integer,
        "TONUS_LOGIN_FAILURES_PER_ACCOUNT",
    ),
    (
        "limits.login_failures_per_address",
        Kind::Integer,
        "TONUS_LOGIN_FAILURES_PER_ADDRESS",
    ),
    ("limits.signups_per_hour", Kind::Integer, "TONUS_SIGNUPS_PER_HOUR"),
    (
        "limits.invitation_ttl_hours",
        Kind::Integer,
        "TONUS_INVITATION_TTL_HOURS",
    ),
    ("limits.dashboard_cache_mib", Kind::Integer, "TONUS_DASHBOARD_CACHE_MIB"),
];

/// The file's shape. Unknown keys are errors, so a typo is reported instead of ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub fhir_canonical_url: Option<String>,
    pub open_registration: Option<bool>,
    pub trusted_proxies: Option<Vec<String>>,
    pub log_format: Option<String>,
    pub metrics_listen: Option<String>,
    pub shutdown_grace_seconds: Option<i64>,
    #[serde(default)]
    pub session: SessionSettings,
    #[serde(default)]
    pub limits: LimitSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    pub idle_minutes: Option<i64>,
    pub absolute_hours: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub max_body_bytes: Option<i64>,
    pub request_timeout_seconds: Option<i64>,
    pub api_requests_per_minute: Option<i64>,
    pub login_window_minutes: Option<i64>,
    pub login_failures_per_account: Option<i64>,
    pub login_failures_per_address: Option<i64>,
    pub signups_per_hour: Option<i64>,
    pub invitation_ttl_hours: Option<i64>,
    pub dashboard_cache_mib: Option<i64>,
}

/// Why the settings were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    File { origin: String, message: String },
    /// An environment variable's value is not of its key's kind.
    Env { var: String, value: String, rule: String },
    /// A value breaks a rule.
    Value {
        key: String,
        value: String,
        origin: String,
        rule: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::File { origin, message } => {
                write!(f, "config file {origin}: {}", message.trim_end())
            }
            ConfigError::Env { var, value, rule } => {
                write!(f, "environment variable {var} = {value:?}: {rule}")
            }
            ConfigError::Value {
                key,
                value,
                origin,
                rule,
            } => write!(f, "config key {key} = {value} (from {origin}): {rule}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// One source of settings, as given: a file, the environment, the command line.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Where the values came from, for error messages: a path, `environment`, `command line`.
    pub origin: String,
    pub table: toml::Table,
}

impl Layer {
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.to_string(),
            table: toml::Table::new(),
        }
    }

    /// Parses a configuration file's text; `origin` names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let file_err = |message: String| ConfigError::File {
            origin: origin.to_string(),
            message,
        };
        // Parsing into `Settings` first reports unknown keys and wrong types with the line.
        toml::from_str::<Settings>(text).map_err(|e| file_err(e.to_string()))?;
        let table = text.parse::<toml::Table>().map_err(|e| file_err(e.to_string()))?;
        Ok(Self {
            origin: origin.to_string(),
            table,
        })
    }

    /// The `TONUS_*` variables of [`KEYS`] that `get` knows; an empty value counts as unset.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut layer = Self::new("environment");
        for (key, kind, var) in KEYS {
            let Some(raw) = get(var).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let env_err = |rule: &str| ConfigError::Env {
                var: var.to_string(),
                value: raw.clone(),
                rule: rule.to_string(),
            };
            let value = match kind {
                Kind::Text => toml::Value::String(raw.trim().to_string()),
                Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
                    "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
                    _ => return Err(env_err("must be true or false")),
                },
                Kind::Integer => toml::Value::Integer(
                    raw.trim()
                        .parse::<i64>()
                        .map_err(|_| env_err("must be a whole number"))?,
                ),
                Kind::List => toml::Value::Array(
                    raw.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| toml::Value::String(s.to_string()))
                        .collect(),
                ),
            };
            layer.set(key, value);
        }
        Ok(layer)
    }

    /// Sets `key` (`section.name` or `name`).
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) {
        let (section, name) = match key.split_once('.') {
            Some((s, n)) => (Some(s), n),
            None => (None, key),
        };
        let table = match section {
            None => &mut self.table,
            Some(s) => {
                let entry = self
                    .table
                    .entry(s.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if !entry.is_table() {
                    *entry = toml::Value::Table(toml::Table::new());
                }
                match entry.as_table_mut() {
                    Some(t) => t,
                    None => return,
                }
            }
        };
        table.insert(name.to_string(), value.into());
    }

    fn get(&self, key: &str) -> Option<&toml::Value> {
        match key.split_once('.') {
            Some((s, n)) => self.table.get(s)?.as_table()?.get(n),
            None => self.table.get(key),
        }
    }
}

/// What `tonus serve` runs with.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    /// `None`: the CLI's default database.
    pub database_url: Option<String>,
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Merges `layers` (later ones win, key by key) over the defaults and checks the result.
pub fn resolve(layers: &[Layer]) -> Result<Resolved, ConfigError> {
    let mut merged = toml::Table::new();
    for layer in layers {
        for (k, v) in &layer.table {
            match (merged.get_mut(k), v) {
                (Some(toml::Value::Table(into)), toml::Value::Table(from)) => {
                    for (k2, v2) in from {
                        into.insert(k2.clone(), v2.clone());
                    }
                }
                _ => {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
    }
    let settings: Settings = toml::Value::Table(merged).try_into().map_err(|e: toml::de::Error| {
        // Only the environment and flags can get here with a bad shape (files are checked on
        // reading), and they are typed by kind; still, say something useful.
        ConfigError::File {
            origin: "merged settings".to_string(),
            message: e.to_string(),
        }
    })?;
    Checker { layers }.check(&settings)
}

struct Checker<'a> {
    layers: &'a [Layer],
}

impl Checker<'_> {
    /// The source that gave `key` its final value.
    fn origin(&self, key: &str) -> String {
        self.layers
            .iter()
            .rev()
            .find(|l| l.get(key).is_some())
            .map_or_else(|| "default".to_string(), |l| l.origin.clone())
    }

    fn err(&self, key: &str, value: impl fmt::Display, rule: impl Into<String>) -> ConfigError {
        ConfigError::Value {
            key: key.to_string(),
            value: value.to_string(),
            origin: self.origin(key),
            rule: rule.into(),
        }
    }

    fn range(&self, key: &str, v: Option<i64>, default: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
        let v = v.unwrap_or(default);
        if v < min {
            return Err(self.err(key, v, format!("must be at least {min}")));
        }
        if v > max {
            return Err(self.err(key, v, format!("must be at most {max}")));
        }
        Ok(v)
    }

    fn addr(&self, key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
        v.parse().map_err(|_| {
            self.err(
                key,
                format!("{v:?}"),
                "must be an IP address and port, such as 127.0.0.1:8080",
            )
        })
    }

    fn check(&self, s: &Settings) -> Result<Resolved, ConfigError> {
        let d = Config::default();
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let listen = match &s.listen {
            Some(v) => self.addr("listen", v)?,
            None => d.listen,
        };
        let metrics_listen = match &s.metrics_listen {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(self.addr("metrics_listen", v)?),
            None => None,
        };
        if let Some(m) = metrics_listen {
            if m.port() != 0
                && m.port() == listen.port()
                && (m.ip() == listen.ip() || m.ip().is_unspecified() || listen.ip().is_unspecified())
            {
                return Err(self.err(
                    "metrics_listen",
                    format!("\"{m}\""),
                    format!("must differ from listen ({listen}): metrics are served on their own address"),
                ));
            }
        }
        let public_url = match &s.public_url {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(self.public_url(v)?),
            None => None,
        };
        // The base of Tonus's own FHIR codes: explicit, else under the public address.
        let fhir_canonical_url = match (&s.fhir_canonical_url, &public_url) {
            (Some(v), _) if !v.trim().is_empty() => Some(
                tonus_interop::fhir::validate_base(v)
                    .map_err(|_| self.err("fhir_canonical_url", format!("{v:?}"), "must be an http:// or https:// URL with a host and no query or fragment, such as https://tonus.clinic.example/fhir"))?,
            ),
            (_, Some(p)) => Some(format!("{p}/fhir")),
            _ => None,
        };
        let database_url = match &s.database_url {
            Some(v) if v.trim().is_empty() => {
                return Err(self.err(
                    "database_url",
                    "\"\"",
                    "must not be empty (leave it out for the default)",
                ))
            }
            Some(v) => Some(v.clone()),
            None => None,
        };
        let mut trusted_proxies = Vec::new();
        for (i, p) in s.trusted_proxies.iter().flatten().enumerate() {
            let net = p.parse::<IpNet>().map_err(|rule| ConfigError::Value {
                key: format!("trusted_proxies[{i}]"),
                value: format!("{p:?}"),
                origin: self.origin("trusted_proxies"),
                rule,
            })?;
            trusted_proxies.push(net);
        }
        let log_format = match s.log_format.as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(self.err("log_format", format!("{other:?}"), "must be \"text\" or \"json\"")),
        };
        let grace = self.range(
            "shutdown_grace_seconds",
            s.shutdown_grace_seconds,
            secs(d.shutdown_grace),
            1,
            3600,
        )?;

        let absolute_hours = self.range(
            "session.absolute_hours",
            s.session.absolute_hours,
            secs(d.session_absolute) / 3600,
            1,
            24 * 366,
        )?;
        let idle_minutes = self.range(
            "session.idle_minutes",
            s.session.idle_minutes,
            secs(d.session_idle) / 60,
            1,
            absolute_hours * 60,
        )?;
        let l = &s.limits;
        let max_body = self.range(
            "limits.max_body_bytes",
            l.max_body_bytes,
            i64::try_from(d.max_body_bytes).unwrap_or(i64::MAX),
            // The sign-in and check-in forms must fit.
            4096,
            1 << 30,
        )?;
        let timeout = self.range(
            "limits.request_timeout_seconds",
            l.request_timeout_seconds,
            secs(d.request_timeout),
            1,
            3600,
        )?;
        let per_minute = self.range(
            "limits.api_requests_per_minute",
            l.api_requests_per_minute,
            i64::from(d.api_requests_per_minute),
            1,
            i64::from(u32::MAX),
        )?;
        let window = self.range(
            "limits.login_window_minutes",
            l.login_window_minutes,
            secs(d.login_window) / 60,
            1,
            7 * 24 * 60,
        )?;
        let per_account = self.range(
            "limits.login_failures_per_account",
            l.login_failures_per_account,
            d.max_failures_per_account,
            1,
            1_000_000,
        )?;
        let per_address = self.range(
            "limits.login_failures_per_address",
            l.login_failures_per_address,
            d.max_failures_per_address,
            1,
            1_000_000,
        )?;
        let signups_per_hour = self.range(
            "limits.signups_per_hour",
            l.signups_per_hour,
            d.signups_per_hour,
            1,
            1_000_000,
        )?;
        let invitation_hours = self.range(
            "limits.invitation_ttl_hours",
            l.invitation_ttl_hours,
            secs(d.invitation_ttl) / 3600,
            1,
            24 * 366,
        )?;
        let cache_mib = self.range(
            "limits.dashboard_cache_mib",
            l.dashboard_cache_mib,
            i64::try_from(d.dashboard_cache_bytes >> 20).unwrap_or(i64::MAX),
            0,
            64 * 1024,
        )?;
        // The ranges above keep every value positive and small, so these conversions hold.
        let secs_of = |n: i64| Duration::from_secs(n.unsigned_abs());
        Ok(Resolved {
            config: Config {
                listen,
                session_idle: secs_of(idle_minutes * 60),
                session_absolute: secs_of(absolute_hours * 3600),
                open_registration: s.open_registration.unwrap_or(d.open_registration),
                login_window: secs_of(window * 60),
                max_failures_per_account: per_account,
                max_failures_per_address: per_address,
                signups_per_hour,
                invitation_ttl: secs_of(invitation_hours * 3600),
                api_requests_per_minute: u32::try_from(per_minute).unwrap_or(u32::MAX),
                max_body_bytes: usize::try_from(max_body).unwrap_or(usize::MAX),
                request_timeout: secs_of(timeout),
                trusted_proxies,
                metrics_listen,
                shutdown_grace: secs_of(grace),
                public_url,
                fhir_canonical_url,
                dashboard_cache_bytes: usize::try_from(cache_mib).unwrap_or(0) << 20,
            },
            database_url,
            log_format,
        })
    }

    fn public_url(&self, v: &str) -> Result<String, ConfigError> {
        let rule = "must be an http:// or https:// URL such as https://tonus.example.org";
        let v = v.trim().trim_end_matches('/');
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"))
            .ok_or_else(|| self.err("public_url", format!("{v:?}"), rule))?;
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
            return Err(self.err("public_url", format!("{v:?}"), rule));
        }
        Ok(v.to_string())
    }
}

/// The environment variable names, checked to be distinct.
pub fn env_vars() -> BTreeSet<&'static str> {
    KEYS.iter().map(|(_, _, v)| *v).collect()
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
