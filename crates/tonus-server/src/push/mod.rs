//! Web Push (RFC 8030): the server's VAPID identity (RFC 8292) and the sending of one
//! encrypted message (RFC 8291, aes128gcm) to the push service a browser named. The
//! scheduler (`scheduler.rs`) decides what to send and when.
//!
//! The only network traffic Tonus starts itself is these POSTs, to the endpoints browsers
//! gave when subscribing.

mod dns;
pub mod scheduler;

use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::{p256, Auth, WebPushBuilder};

use anyhow::Context;
use tonus_store::push::PushSubscription;
use tonus_store::Store;

/// How long a push service keeps a reminder for a device that is offline: a reminder an
/// hour late is still worth showing, a day late it is noise.
pub const TTL: Duration = Duration::from_secs(3600);

/// The server's VAPID key pair and the contact push services may write to.
pub struct Vapid {
    key: ES256KeyPair,
    public: String,
    contact: String,
}

impl Vapid {
    /// The stored key, or a new one stored now (first start). `contact` is the JWT's `sub`.
    pub async fn load(store: &Store, contact: String) -> anyhow::Result<Self> {
        let generated = Base64UrlUnpadded::encode_string(&ES256KeyPair::generate().to_bytes());
        let stored = store
            .vapid_private_key(&generated, jiff::Timestamp::now().as_millisecond())
            .await
            .context("loading the VAPID key")?;
        let key = Base64UrlUnpadded::decode_vec(&stored)
            .ok()
            .and_then(|bytes| ES256KeyPair::from_bytes(&bytes).ok())
            .context("the stored VAPID key (table push_vapid) is not a P-256 private key")?;
        let public = Base64UrlUnpadded::encode_string(&key.public_key().public_key().to_bytes_uncompressed());
        Ok(Self { key, public, contact })
    }

    /// The public key as the browser's `applicationServerKey` takes it (base64url, 65 bytes
    /// uncompressed).
    pub fn public_key(&self) -> &str {
        &self.public
    }
}

/// The VAPID `sub`: the server's public https address when configured, else a mailto:
/// (RFC 8292 §2.1 asks for one of the two).
pub fn contact(public_url: Option<&str>) -> String {
    match public_url {
        Some(u) if u.starts_with("https://") => u.trim_end_matches('/').to_string(),
        _ => "mailto:admin@localhost".to_string(),
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 201 (or any 2xx): the push service took it.
    Delivered,
    /// 404/410: the subscription is gone (unsubscribed, expired); stop sending to it.
    Gone,
    /// Anything else: worth another try later.
    Failed(String),
}

/// Sends encrypted messages over one HTTP client.
pub struct Sender {
    client: reqwest::Client,
    vapid: Vapid,
}

impl Sender {
    pub fn new(vapid: Vapid) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(10))
            // A push service answers; it never sends us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // The patient's browser chose the host: connect only to public addresses.
            .dns_resolver(std::sync::Arc::new(dns::PublicOnly))
            .build()
            .context("making the HTTP client for push services")?;
        Ok(Self { client, vapid })
    }

    pub fn vapid(&self) -> &Vapid {
        &self.vapid
    }

    /// Encrypts `payload` for `sub`, signs the request and POSTs it.
    pub async fn send(&self, sub: &PushSubscription, payload: &[u8], urgency: &str) -> Outcome {
        let request = match self.build(sub, payload) {
            Ok(r) => r,
            // A subscription whose keys cannot be used will never work: as good as gone.
            Err(e) => {
                tracing::warn!("push subscription {} is unusable: {e}", sub.id);
                return Outcome::Gone;
            }
        };
        let (parts, body) = request.into_parts();
        let mut req = self.client.post(parts.uri.to_string()).body(body);
        for (name, value) in &parts.headers {
            req = req.header(name, value);
        }
        match req.header("Urgency", urgency).send().await {
            Ok(res) => match res.status().as_u16() {
                200..=299 => Outcome::Delivered,
                404 | 410 => Outcome::Gone,
                status => Outcome::Failed(format!("push service answered {status}")),
            },
            Err(e) => Outcome::Failed(format!("posting to the push service: {e}")),
        }
    }

    fn build(&self, sub: &PushSubscription, payload: &[u8]) -> Result<axum::http::Request<Vec<u8>>, String> {
        let endpoint: axum::http::Uri = sub.endpoint.parse().map_err(|e| format!("endpoint: {e}"))?;
        let ua_public = Base64UrlUnpadded::decode_vec(sub.p256dh.trim_end_matches('='))
            .ok()
            .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
            .ok_or("p256dh is not a P-256 public key")?;
        let auth = Base64UrlUnpadded::decode_vec(sub.auth.trim_end_matches('='))
            .ok()
            .filter(|b| b.len() == 16)
            .ok_or("auth is not 16 bytes")?;
        WebPushBuilder::new(endpoint, ua_public, Auth::clone_from_slice(&auth))
            .with_valid_duration(TTL)
            .with_vapid(&self.vapid.key, &self.vapid.contact)
            .build(payload.to_vec())
            .map_err(|e| format!("encrypting: {e}"))
    }
}
