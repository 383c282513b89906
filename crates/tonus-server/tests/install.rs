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
