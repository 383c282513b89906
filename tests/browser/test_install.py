"""Installing Tonus to a phone's home screen: Chromium itself reads the manifest, fetches its
icons and reports no installability errors (DevTools `Page.getInstallabilityErrors`)."""

import time


def test_chromium_finds_tonus_installable(fresh_server, make_browser):
    b = make_browser(fresh_server)
    b.phone()
    b.get("/login")
    manifest = b.driver.execute_cdp_cmd("Page.getAppManifest", {})
    assert manifest["url"].endswith("/manifest.webmanifest"), manifest
    assert manifest["errors"] == [], manifest["errors"]
    # Chromium fetches the icons asynchronously; ask until it has an answer without them
    # pending (a few hundred milliseconds on a loaded machine).
    deadline = time.monotonic() + 15
    while True:
        errors = b.driver.execute_cdp_cmd("Page.getInstallabilityErrors", {})["installabilityErrors"]
        if not errors or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert errors == [], errors
    theme = b.driver.execute_script("return document.querySelector('meta[name=theme-color]').content")
    assert theme == "#0b57d0"
