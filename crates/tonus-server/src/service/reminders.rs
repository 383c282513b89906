//! Push reminders on the patient's devices: subscribe a browser, change what it is reminded
//! of and when it stays quiet, remove it. Sending is `crate::push::scheduler`'s.

use tonus_domain::reminders::Choices;
use tonus_domain::ValidationError;
use tonus_store::push::{PushChoices, PushSubscription};

use super::{now_ms, Own};
use crate::error::{AppError, AppResult};

/// A device's choices as typed on the page.
pub struct ChoicesInput<'a> {
    pub label: &'a str,
    pub checkin: bool,
    pub doses: bool,
    pub trials: bool,
    /// Notifications without treatment names or trial details.
    pub discreet: bool,
    /// "HH:MM".
    pub checkin_at: &'a str,
    /// "HH:MM" each, both empty for none.
    pub quiet_start: &'a str,
    pub quiet_end: &'a str,
}

/// What a browser's `PushSubscription` carries.
pub struct SubscriptionInput<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
}

const MAX_ENDPOINT: usize = 1024;

fn minutes(field: &str, text: &str) -> AppResult<i64> {
    let t: jiff::civil::Time = text
        .trim()
        .parse()
        .map_err(|_| ValidationError::new(field, "a time of day such as 20:00", format!("{text:?}")))?;
    Ok(i64::from(t.hour()) * 60 + i64::from(t.minute()))
}

fn choices(input: &ChoicesInput) -> AppResult<PushChoices> {
    let label = input.label.trim();
    if label.chars().count() > 60 {
        return Err(ValidationError::new("label", "at most 60 characters", label.chars().count()).into());
    }
    let (quiet_start_min, quiet_end_min) = match (input.quiet_start.trim(), input.quiet_end.trim()) {
        ("", "") => (None, None),
        (s, e) => (Some(minutes("quiet_start", s)?), Some(minutes("quiet_end", e)?)),
    };
    Ok(PushChoices {
        label: if label.is_empty() {
            "This device".to_string()
        } else {
            label.to_string()
        },
        kinds: Choices {
            checkin: input.checkin,
            doses: input.doses,
            trials: input.trials,
            discreet: input.discreet,
        }
        .bits(),
        checkin_min: minutes("checkin_at", input.checkin_at)?,
        quiet_start_min,
        quiet_end_min,
    })
}

/// The push service's address: HTTPS and a host name (push services are public HTTPS
/// services), so a subscription cannot point the server's POSTs at an address inside the
/// network it runs in. Parsed as the sender parses it (a WHATWG URL, as reqwest does): there
/// `127.1` and `0x7f.0.0.1` are IPv4 addresses, which a simpler reading takes for names.
/// A name that resolves to a private address is refused when sending (`push::dns`).
fn endpoint(text: &str) -> AppResult<&str> {
    let bad = || ValidationError::new("endpoint", "the https address of a push service", "another address");
    let url = reqwest::Url::parse(text).map_err(|_| bad())?;
    let plain = url.scheme() == "https" && url.username().is_empty() && url.password().is_none();
    // `domain()` is None for an IP address of either family.
    let host = url.domain().filter(|_| plain).ok_or_else(bad)?.trim_end_matches('.');
    if text.len() > MAX_ENDPOINT || host == "localhost" || host.ends_with(".localhost") || !host.contains('.') {
        return Err(bad().into());
    }
    Ok(text)
}

fn key(field: &str, text: &str, len: usize) -> AppResult<String> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let t = text.trim().trim_end_matches('=');
    match Base64UrlUnpadded::decode_vec(t) {
        Ok(b) if b.len() == len => Ok(t.to_string()),
        _ => Err(ValidationError::new(field, format!("{len} bytes in base64url"), "another value").into()),
    }
}

/// The patient's devices, and the server's VAPID public key for subscribing a new one
/// (`None` when reminders cannot be sent: the key could not be loaded).
pub async fn devices(me: &Own<'_>) -> AppResult<(Vec<PushSubscription>, Option<String>)> {
    me.actor.require_session()?;
    let devices = me.state().store.list_push_subscriptions(me.patient).await?;
    let key = match me.state().push_sender().await {
        Ok(s) => Some(s.vapid().public_key().to_string()),
        Err(e) => {
            tracing::error!("push reminders are off: {e:#}");
            None
        }
    };
    Ok((devices, key))
}

/// Subscribes this browser (or updates it, when it subscribed before).
pub async fn subscribe(me: &Own<'_>, sub: &SubscriptionInput<'_>, input: &ChoicesInput<'_>) -> AppResult<i64> {
    me.actor.require_session()?;
    if sub.endpoint.trim().is_empty() {
        return Err(ValidationError::new(
            "endpoint",
            "a browser that can receive notifications (allow them when asked)",
            "none",
        )
        .into());
    }
    let endpoint = endpoint(sub.endpoint.trim())?;
    // An uncompressed P-256 point and a 16-byte secret (RFC 8291 §3).
    let p256dh = key("p256dh", sub.p256dh, 65)?;
    let auth = key("auth", sub.auth, 16)?;
    let choices = choices(input)?;
    let id = me
        .state()
        .store
        .upsert_push_subscription(me.patient, endpoint, &p256dh, &auth, &choices, now_ms())
        .await?;
    me.audit("push.subscribe", &choices.label).await?;
    Ok(id)
}

pub async fn update(me: &Own<'_>, id: i64, input: &ChoicesInput<'_>) -> AppResult<()> {
    me.actor.require_session()?;
    // Another patient's device is missing, whatever the form says.
    let devices = me.state().store.list_push_subscriptions(me.patient).await?;
    if !devices.iter().any(|d| d.id == id) {
        return Err(AppError::NotFound);
    }
    let choices = choices(input)?;
    if !me.state().store.update_push_choices(me.patient, id, &choices).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Removes a device: nothing more is sent to it.
pub async fn remove(me: &Own<'_>, id: i64) -> AppResult<()> {
    me.actor.require_session()?;
    if !me.state().store.delete_push_subscription(me.patient, id).await? {
        return Err(AppError::NotFound);
    }
    me.audit("push.unsubscribe", "device").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_public_https_hosts() {
        assert!(endpoint("https://fcm.googleapis.com/fcm/send/abc").is_ok());
        assert!(endpoint("https://updates.push.services.mozilla.com/wpush/v2/x").is_ok());
        assert!(endpoint("https://push.example.org:8443/x").is_ok());
        for bad in [
            "http://fcm.googleapis.com/x",
            "https://127.0.0.1/x",
            "https://10.0.0.2:443/x",
            "https://[::1]/x",
            "https://localhost/x",
            "https://intranet/x",
            "https://user@push.example.org/x",
            "https://push.example.org:99999/x",
            // IPv4 addresses to a WHATWG parser, and so to the sender.
            "https://127.1/x",
            "https://0x7f.0.0.1/x",
            "https://0177.0.0.1/x",
            "https://2130706433/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://localhost./x",
            "https://push.localhost/x",
            "",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_and_quiet_hours() {
        let input = ChoicesInput {
            label: "",
            checkin: true,
            doses: false,
            trials: true,
            discreet: true,
            checkin_at: "20:30",
            quiet_start: "22:00",
            quiet_end: "07:00",
        };
        let c = choices(&input).unwrap();
        assert_eq!((c.kinds, c.checkin_min), (0b1101, 20 * 60 + 30));
        assert_eq!((c.quiet_start_min, c.quiet_end_min), (Some(1320), Some(420)));
        assert_eq!(c.label, "This device");
        let half = ChoicesInput { quiet_end: "", ..input };
        assert!(choices(&half).is_err());
    }
}
