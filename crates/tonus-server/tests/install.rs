//! Installing Tonus on a phone's home screen: the manifest and every icon it names are
//! served by Tonus itself, with the sizes they claim, and every page links them.

mod common;

use common::*;
use reqwest::StatusCode;

/// (width, height) from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[tokio::test]
async fn the_manifest_and_its_icons_make_the_app_installable() {
    let s = sqlite(test_config()).await;
    let c = s.client();
    let r = c.get("/manifest.webmanifest").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/manifest+json");
    let m: serde_json::Value = r.json().await.unwrap();
    for field in ["name", "short_name", "start_url", "theme_color", "background_color"] {
        assert!(
            m[field].as_str().is_some_and(|v| !v.is_empty()),
            "manifest lacks {field}"
        );
    }
    assert_eq!(m["display"], "standalone");
    let icons = m["icons"].as_array().unwrap();
    let mut png_sizes = Vec::new();
    let mut maskable = false;
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        assert!(src.starts_with('/'), "icon {src} is not served by Tonus");
        let r = c.get(src).await;
        assert_eq!(r.status(), StatusCode::OK, "{src}");
        let media_type = r.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(media_type, icon["type"].as_str().unwrap(), "{src}");
        let bytes = r.bytes().await.unwrap();
        if media_type == "image/png" {
            let (w, h) = png_size(&bytes);
            assert_eq!(format!("{w}x{h}"), icon["sizes"].as_str().unwrap(), "{src}");
            png_sizes.push(w);
            maskable |= icon["purpose"].as_str().unwrap_or("any").contains("maskable");
        } else {
            assert!(String::from_utf8_lossy(&bytes).starts_with("<svg"), "{src}");
        }
    }
    // Chromium asks for at least 192 and 512 pixel icons; Android masks a maskable one.
    assert!(png_sizes.contains(&192) && png_sizes.contains(&512), "{png_sizes:?}");
    assert!(maskable);

    let r = c.get("/favicon.ico").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(png_size(&r.bytes().await.unwrap()), (32, 32));
    assert_eq!(c.get("/assets/icons/nothing.png").await.status(), StatusCode::NOT_FOUND);

    // Pages link the manifest, an icon and the theme colour, signed in or not.
    let (status, login) = c.page("/login").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        r#"<link rel="manifest" href="/manifest.webmanifest">"#,
        r#"<link rel="icon" href="/assets/icons/icon.svg""#,
        r#"<meta name="theme-color" content=""#,
    ] {
        assert!(login.contains(needle), "no {needle} in /login");
    }
}

/// The service worker is served from the root (scope `/`), revalidated on every navigation,
/// and every URL of the shell it keeps for offline start answers 200 to a signed-in patient;
/// every page loads the offline queue's script with the signed-in account's name.
#[tokio::test]
async fn the_service_worker_keeps_a_shell_that_exists() {
    let s = sqlite(test_config()).await;
    let admin = s.setup_admin().await;
    s.add_user(&admin, "anne", "patient").await;
    let anne = s.login("anne").await;
    let r = anne.get("/sw.js").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let sw = r.text().await.unwrap();
    let list = text_between(&sw, "var SHELL = [", "];").expect("the shell's list");
    let urls: Vec<&str> = list
        .split(',')
        .map(|u| u.trim().trim_matches('"'))
        .filter(|u| !u.is_empty())
        .collect();
    assert!(urls.len() >= 10, "{urls:?}");
    for u in [
        "/",
        "/checkin",
        "/doses",
        "/side-effects",
        "/assets/app.css",
        "/manifest.webmanifest",
    ] {
        assert!(urls.contains(&u), "{u} not kept for offline start");
    }
    for u in &urls {
        let r = anne.get(u).await;
        assert_eq!(r.status(), StatusCode::OK, "{u}");
    }
    let r = anne.get("/assets/offline.js").await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, home) = anne.page("/").await;
    assert!(
        home.contains(r#"<script src="/assets/offline.js" defer data-user="anne"></script>"#),
        "{home}"
    );
    let (_, login) = s.client().page("/login").await;
    assert!(login.contains(r#"<script src="/assets/offline.js" defer></script>"#));
}
