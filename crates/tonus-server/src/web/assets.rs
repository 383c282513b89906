//! Static assets, compiled into the binary: nothing is fetched from elsewhere. The icons are
//! drawn by scripts/make-icons.py.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Icons change only with a release; a day's caching spares phones the refetch.
const ICON_CACHE: &str = "public, max-age=86400";

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
        .into_response()
}

/// The web app manifest that makes Tonus installable on a phone's home screen.
pub async fn manifest() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/manifest.webmanifest"),
    )
        .into_response()
}

/// The icons by file name: (name, media type, bytes).
const ICONS: &[(&str, &str, &[u8])] = &[
    (
        "icon-192.png",
        "image/png",
        include_bytes!("../../assets/icons/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("../../assets/icons/icon-512.png"),
    ),
    (
        "maskable-512.png",
        "image/png",
        include_bytes!("../../assets/icons/maskable-512.png"),
    ),
    (
        "apple-touch-icon.png",
        "image/png",
        include_bytes!("../../assets/icons/apple-touch-icon.png"),
    ),
    (
        "favicon-32.png",
        "image/png",
        include_bytes!("../../assets/icons/favicon-32.png"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/icons/icon.svg"),
    ),
];

fn icon_response(name: &str) -> Response {
    match ICONS.iter().find(|(n, _, _)| *n == name) {
        Some((_, media_type, bytes)) => (
            [(header::CONTENT_TYPE, *media_type), (header::CACHE_CONTROL, ICON_CACHE)],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn icon(Path(file): Path<String>) -> Response {
    icon_response(&file)
}

/// Browsers ask for /favicon.ico whatever the page links; a PNG under that name is what
/// they all accept.
pub async fn favicon() -> Response {
    icon_response("favicon-32.png")
}

/// The offline queue's script (see the file's own notes). Revalidated every hour like the
/// stylesheet; the service worker refreshes its kept copy on each load.
pub async fn offline_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/offline.js"),
    )
        .into_response()
}

/// The service worker, at the root so its scope is the whole app (no
/// `Service-Worker-Allowed` needed). `no-cache`: browsers then check for a new worker on
/// every navigation rather than keeping an old one for up to a day.
pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/sw.js"),
    )
        .into_response()
}
