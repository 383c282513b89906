use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> Layer {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Layer::from_env(|k| map.get(k).cloned()).unwrap()
}

fn file(text: &str) -> Layer {
    Layer::from_toml("tonus.toml", text).unwrap()
}

fn err(layers: &[Layer]) -> String {
    resolve(layers).unwrap_err().to_string()
}

#[test]
fn no_settings_means_the_defaults() {
    let r = resolve(&[]).unwrap();
    let d = Config::default();
    assert_eq!(r.config.listen, d.listen);
    assert_eq!(r.config.session_idle, d.session_idle);
    assert_eq!(r.config.session_absolute, d.session_absolute);
    assert_eq!(r.config.max_body_bytes, d.max_body_bytes);
    assert_eq!(r.config.shutdown_grace, Duration::from_secs(10));
    assert_eq!(r.config.metrics_listen, None, "metrics are off by default");
    assert!(r.config.trusted_proxies.is_empty());
    assert_eq!(r.database_url, None);
    assert_eq!(r.log_format, LogFormat::Text);
}

#[test]
fn flags_beat_env_beat_file_beat_defaults() {
    let f = file(
        "listen = \"127.0.0.1:9000\"\nopen_registration = true\n[session]\nidle_minutes = 30\nabsolute_hours = 48\n[limits]\napi_requests_per_minute = 100\n",
    );
    let e = env(&[
        ("TONUS_LISTEN", "127.0.0.1:9001"),
        ("TONUS_SESSION_IDLE_MINUTES", "45"),
        ("TONUS_UNRELATED", "x"),
    ]);
    let mut flags = Layer::new("command line");
    flags.set("listen", "127.0.0.1:9002");
    let r = resolve(&[f.clone(), e.clone(), flags]).unwrap();
    assert_eq!(r.config.listen.port(), 9002, "flag over env over file");
    let r = resolve(&[f.clone(), e]).unwrap();
    assert_eq!(r.config.listen.port(), 9001, "env over file");
    assert_eq!(
        r.config.session_idle,
        Duration::from_secs(45 * 60),
        "env over file, in a section"
    );
    assert_eq!(
        r.config.session_absolute,
        Duration::from_secs(48 * 3600),
        "the file's other keys of the section stay"
    );
    assert_eq!(r.config.api_requests_per_minute, 100);
    assert!(r.config.open_registration);
    assert_eq!(r.config.login_window, Config::default().login_window, "default");
}

#[test]
fn environment_values_are_typed_by_key() {
    let r = resolve(&[env(&[
        ("TONUS_OPEN_REGISTRATION", "yes"),
        ("TONUS_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,"),
        ("TONUS_LOG_FORMAT", "json"),
        ("TONUS_METRICS_LISTEN", "127.0.0.1:9464"),
        ("TONUS_MAX_BODY_BYTES", "65536"),
        ("TONUS_SHUTDOWN_GRACE_SECONDS", "3"),
        ("TONUS_PUBLIC_URL", "https://tonus.example.org/"),
        ("TONUS_DATABASE_URL", "postgres://db/tonus"),
        ("TONUS_INVITATION_TTL_HOURS", ""),
    ])])
    .unwrap();
    assert!(r.config.open_registration);
    assert_eq!(r.config.trusted_proxies.len(), 2);
    assert_eq!(r.log_format, LogFormat::Json);
    assert_eq!(r.config.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
    assert_eq!(r.config.max_body_bytes, 65536);
    assert_eq!(r.config.shutdown_grace, Duration::from_secs(3));
    assert_eq!(r.config.public_url.as_deref(), Some("https://tonus.example.org"));
    assert_eq!(r.database_url.as_deref(), Some("postgres://db/tonus"));
    assert_eq!(
        r.config.invitation_ttl,
        Config::default().invitation_ttl,
        "empty is unset"
    );

    let bad = |var: &str, v: &str| {
        Layer::from_env(|k| (k == var).then(|| v.to_string()))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        bad("TONUS_SESSION_IDLE_MINUTES", "ten"),
        "environment variable TONUS_SESSION_IDLE_MINUTES = \"ten\": must be a whole number"
    );
    assert_eq!(
        bad("TONUS_OPEN_REGISTRATION", "maybe"),
        "environment variable TONUS_OPEN_REGISTRATION = \"maybe\": must be true or false"
    );
}

#[test]
fn bad_values_name_the_key_the_value_the_source_and_the_rule() {
    assert_eq!(
        err(&[file("[session]\nidle_minutes = 0\n")]),
        "config key session.idle_minutes = 0 (from tonus.toml): must be at least 1"
    );
    assert_eq!(
        err(&[
            file("[session]\nidle_minutes = 5\n"),
            env(&[("TONUS_SESSION_IDLE_MINUTES", "-3")])
        ]),
        "config key session.idle_minutes = -3 (from environment): must be at least 1"
    );
    assert_eq!(
        err(&[file("[session]\nabsolute_hours = 1\nidle_minutes = 90\n")]),
        "config key session.idle_minutes = 90 (from tonus.toml): must be at most 60"
    );
    assert_eq!(
        err(&[env(&[("TONUS_LISTEN", "localhost")])]),
        "config key listen = \"localhost\" (from environment): must be an IP address and port, such as 127.0.0.1:8080"
    );
    assert_eq!(
        err(&[file("trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/40\"]\n")]),
        "config key trusted_proxies[1] = \"10.0.0.0/40\" (from tonus.toml): the prefix length after '/' must be 0–32"
    );
    assert_eq!(
        err(&[file("log_format = \"xml\"\n")]),
        "config key log_format = \"xml\" (from tonus.toml): must be \"text\" or \"json\""
    );
    assert!(err(&[file("public_url = \"tonus.example.org\"\n")]).starts_with("config key public_url"));
    assert!(err(&[file(
        "listen = \"127.0.0.1:8080\"\nmetrics_listen = \"127.0.0.1:8080\"\n"
    )])
    .contains("must differ from listen"));
    assert!(err(&[file("[limits]\nmax_body_bytes = 10\n")]).contains("must be at least 4096"));
    assert!(err(&[file("shutdown_grace_seconds = 0\n")]).contains("must be at least 1"));
    assert!(err(&[file("[limits]\napi_requests_per_minute = 0\n")]).contains("must be at least 1"));
    assert_eq!(
        err(&[env(&[("TONUS_DASHBOARD_CACHE_MIB", "-1")])]),
        "config key limits.dashboard_cache_mib = -1 (from environment): must be at least 0"
    );
    assert!(err(&[file("[limits]\ndashboard_cache_mib = 70000\n")])
        .starts_with("config key limits.dashboard_cache_mib = 70000 (from tonus.toml): must be at most"));
}

#[test]
fn the_dashboard_cache_is_sized_in_mib_and_zero_turns_it_off() {
    let r = resolve(&[env(&[("TONUS_DASHBOARD_CACHE_MIB", "16")])]).unwrap();
    assert_eq!(r.config.dashboard_cache_bytes, 16 << 20);
    let r = resolve(&[file("[limits]\ndashboard_cache_mib = 0\n")]).unwrap();
    assert_eq!(r.config.dashboard_cache_bytes, 0);
    assert_eq!(resolve(&[]).unwrap().config.dashboard_cache_bytes, 8 << 20);
}

#[test]
fn the_fhir_canonical_base_is_explicit_else_under_the_public_url() {
    let resolve_ok = |layers: &[Layer]| resolve(layers).unwrap().config.fhir_canonical_url;
    assert_eq!(resolve_ok(&[]), None, "nothing set: the library default");
    assert_eq!(
        resolve_ok(&[env(&[("TONUS_PUBLIC_URL", "https://tonus.clinic.example/")])]).as_deref(),
        Some("https://tonus.clinic.example/fhir")
    );
    assert_eq!(
        resolve_ok(&[
            file("public_url = \"https://tonus.clinic.example\"\n"),
            env(&[("TONUS_FHIR_CANONICAL_URL", "https://codes.clinic.example/tonus/")]),
        ])
        .as_deref(),
        Some("https://codes.clinic.example/tonus")
    );
    assert_eq!(
        err(&[file("fhir_canonical_url = \"codes.clinic/fhir\"\n")]),
        "config key fhir_canonical_url = \"codes.clinic/fhir\" (from tonus.toml): must be an http:// or https:// URL with a host and no query or fragment, such as https://tonus.clinic.example/fhir"
    );
}

#[test]
fn unknown_keys_and_wrong_types_in_the_file_are_refused() {
    let e = Layer::from_toml("tonus.toml", "[session]\nidle_minute = 5\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("config file tonus.toml:"), "{e}");
    assert!(e.contains("unknown field `idle_minute`"), "{e}");
    let e = Layer::from_toml("tonus.toml", "lisen = \"127.0.0.1:1\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `lisen`"), "{e}");
    let e = Layer::from_toml("tonus.toml", "[limits]\nmax_body_bytes = \"1MB\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_body_bytes") && e.contains("invalid type"), "{e}");
    let e = Layer::from_toml("tonus.toml", "listen = \n").unwrap_err().to_string();
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn every_key_has_its_own_environment_variable() {
    assert_eq!(env_vars().len(), KEYS.len());
    assert!(env_vars().iter().all(|v| v.starts_with("TONUS_")));
}

/// The example file documents every key, with its default value: uncommenting every
/// setting gives exactly the defaults.
#[test]
fn the_example_file_documents_every_key_with_its_default() {
    let example = include_str!("../../../tonus.example.toml");
    let mut documented = BTreeSet::new();
    let mut section = String::new();
    let mut uncommented = String::new();
    for line in example.lines() {
        if let Some(s) = line.strip_prefix('[') {
            section = s.trim_end_matches(']').to_string();
            uncommented.push_str(line);
        } else if let Some(setting) = line.strip_prefix('#').filter(|l| {
            l.split_once(" = ")
                .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        }) {
            let key = setting.split_once(" = ").map(|(k, _)| k).unwrap_or_default();
            let path = if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            documented.insert(path);
            uncommented.push_str(setting);
        }
        uncommented.push('\n');
    }
    let keys: BTreeSet<String> = KEYS.iter().map(|(k, _, _)| k.to_string()).collect();
    assert_eq!(documented, keys, "tonus.example.toml and KEYS differ");
    for (_, _, var) in KEYS {
        assert!(example.contains(var), "tonus.example.toml does not mention {var}");
    }
    let layer = Layer::from_toml("tonus.example.toml", &uncommented).unwrap();
    let r = resolve(&[layer]).unwrap();
    let d = Config::default();
    assert_eq!(r.config.listen, d.listen);
    assert_eq!(r.config.session_idle, d.session_idle);
    assert_eq!(r.config.session_absolute, d.session_absolute);
    assert_eq!(r.config.open_registration, d.open_registration);
    assert_eq!(r.config.login_window, d.login_window);
    assert_eq!(r.config.max_failures_per_account, d.max_failures_per_account);
    assert_eq!(r.config.max_failures_per_address, d.max_failures_per_address);
    assert_eq!(r.config.invitation_ttl, d.invitation_ttl);
    assert_eq!(r.config.api_requests_per_minute, d.api_requests_per_minute);
    assert_eq!(r.config.max_body_bytes, d.max_body_bytes);
    assert_eq!(r.config.request_timeout, d.request_timeout);
    assert_eq!(r.config.dashboard_cache_bytes, d.dashboard_cache_bytes);
    assert_eq!(r.config.shutdown_grace, d.shutdown_grace);
    assert_eq!(r.log_format, LogFormat::Text);
}
