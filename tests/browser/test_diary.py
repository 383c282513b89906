"""The whole diary on the web, as a patient keeps it, on a 360 × 740 phone and a 1280 × 800
desktop: remembered values visible before Save, a note with a line break, a treatment and its
regimen, a dose from the due list, exercise, an MRI, a side effect, "no spasms today",
editing and deleting each, and a session that expires while a form is open (the entry is
stored exactly once after signing in again). What the pages say is checked against what the
database holds, read back through the command line."""

import json

import pytest

from conftest import PASSWORD, Browser, Server, Tonus

PATIENT = "anne"
PHONE_740 = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}
DESKTOP_800 = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}


def listed(tonus: Tonus, what: str) -> list:
    out = tonus("--patient", PATIENT, "list", "--what", what, "--json")
    return json.loads(out.stdout)


def open_details(b: Browser, summary_text: str) -> None:
    for s in b.all("main summary"):
        if s.text.strip().startswith(summary_text):
            if s.find_element("xpath", "..").get_attribute("open") is None:
                b.click(s)
            return
    raise AssertionError(f"no section {summary_text!r} on {b.path()}")


def click_link(b: Browser, label: str) -> None:
    for a in b.all("main a"):
        if a.text.strip() == label:
            b.click_and_wait(a)
            return
    raise AssertionError(f"no link {label!r} in the page on {b.path()}")


@pytest.mark.parametrize("name,viewport", [("phone", PHONE_740), ("desktop", DESKTOP_800)])
def test_the_whole_diary(binary, tmp_path, make_browser, name, viewport):
    tonus = Tonus(binary, tmp_path / "tonus.db")
    tonus("user", "add", "--role", "admin", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    tonus("user", "add", "--role", "patient", PATIENT, "--password-stdin", stdin=PASSWORD + "\n")
    server = Server(tonus, tmp_path / "serve.log")
    try:
        me = make_browser(server)
        me.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", viewport)
        me.viewport = viewport
        me.sign_in(PATIENT)
        assert me.path() == "/"

        # An episode with region, pain and a note with a line break.
        me.click(me.one("main .tiles label.tile[for=kind-cramp]"))
        open_details(me, "Where, how painful")
        me.click(me.one("main input[name=region][value=left-calf]"))
        me.select("#pain", "6")
        me.fill("#notes", "woke me\nat three")
        me.click_and_wait(me.button("Save"))
        assert me.text("main [role=status]").startswith("Saved.")
        [ep] = listed(tonus, "episodes")
        assert ep["notes"] == "woke me\nat three"

        # Remembered region and pain are shown, ticked, before Save; unticking the pain
        # leaves it out of the next entry.
        save_y = me.button("Save").rect["y"]
        kept = {c.get_attribute("value"): c for c in me.all("main fieldset.kept input")}
        assert set(kept) == {"left-calf", "6"}, kept
        assert all(c.is_displayed() and c.is_selected() and c.rect["y"] < save_y for c in kept.values())
        me.click(kept["6"])
        me.click(me.one("main .tiles label.tile[for=kind-twitch]"))
        me.click_and_wait(me.button("Save"))
        last = listed(tonus, "episodes")[-1]
        assert (last["regions"], last["pain"]) == (["left-calf"], None), last
        me.screenshot(f"diary-{name}-home")

        # Edit the first episode, then delete it (with confirmation).
        edits = [a for a in me.all("main ul.recent a") if a.text == "Edit"]
        me.click_and_wait(edits[-1])
        assert me.h1() == "Edit episode"
        me.select("#pain", "4")
        me.click_and_wait(me.button("Save changes"))
        assert [e["pain"] for e in listed(tonus, "episodes")] == [4, None]
        deletes = [a for a in me.all("main ul.recent a") if a.text == "Delete"]
        me.click_and_wait(deletes[-1])
        me.click_and_wait(me.button("Yes, delete it"))
        assert len(listed(tonus, "episodes")) == 1

        # A treatment and its regimen.
        me.get("/treatments")
        me.fill("#name", "Baclofen")
        me.click(me.one("main input[name=category][value=drug]"))
        me.click_and_wait(me.button("Add treatment"))
        open_details(me, "Start taking Baclofen")
        form = me.one("main form[action$='/start']")
        form.find_element("css selector", "input[name=dose]").send_keys("10")
        me.select("main form[action$='/start'] select[name=unit]", "mg")
        me.select("main form[action$='/start'] select[name=route]", "oral")
        me.select("main form[action$='/start'] select[name=schedule]", "3x-daily")
        me.click_and_wait(me.button("Start"))
        assert "10 mg · oral · 3 times a day" in me.text()
        me.screenshot(f"diary-{name}-treatments")

        # A dose from the due list: two taps from the home screen.
        me.get("/")
        before = me.clicks
        click_link(me, "Doses due today")
        me.click_and_wait(me.one("main ul.due button[aria-label='Taken: Baclofen']"))
        assert me.clicks - before <= 2
        assert "1 of 3 logged today" in me.text()
        [dose] = listed(tonus, "doses")
        assert (dose["treatment"], dose["dose"]["status"]) == ("Baclofen", "taken"), dose
        me.screenshot(f"diary-{name}-doses")

        # Exercise: log, edit, delete.
        me.get("/exercise")
        me.click(me.one("main .tiles label.tile[for=type-yoga]"))
        me.fill("#minutes", "30")
        me.select("#exertion", "3")
        me.click_and_wait(me.button("Save"))
        assert "yoga · 30 min · exertion 3" in me.text()
        click_link(me, "Edit")
        me.fill("#minutes", "35")
        me.click_and_wait(me.button("Save changes"))
        assert [x["minutes"] for x in listed(tonus, "exercise")] == [35]
        click_link(me, "Delete")
        me.click_and_wait(me.button("Yes, delete it"))
        assert listed(tonus, "exercise") == []

        # An MRI with lesion counts: record, edit, delete.
        me.get("/events")
        me.click(me.one("main .tiles label.tile[for=kind-mri]"))
        me.select("#mri_region", "brain")
        me.fill("#lesions_total", "12")
        me.fill("#lesions_new", "1")
        me.click_and_wait(me.button("Save"))
        assert "MRI of the brain, 12 lesions, 1 new" in me.text()
        click_link(me, "Edit")
        me.fill("#lesions_total", "13")
        me.click_and_wait(me.button("Save changes"))
        [mri] = listed(tonus, "events")
        assert "13 lesions" in me.text() and json.dumps(mri).count("13") >= 1, mri
        me.screenshot(f"diary-{name}-events")
        click_link(me, "Delete")
        me.click_and_wait(me.button("Yes, delete it"))
        assert listed(tonus, "events") == []

        # A side effect with the suspected treatment and a two-line note: record, edit, delete.
        me.get("/side-effects")
        me.click(me.one("main .tiles label.tile[for=effect-drowsiness]"))
        me.click(me.one("main .tiles label.tile[for=severity-moderate]"))
        me.select("#suspected_treatment", "Baclofen")
        me.fill("#note", "after the\nevening dose")
        me.click_and_wait(me.button("Save"))
        [se] = listed(tonus, "side-effects")
        assert (se["suspected_treatment"], se["note"]) == ("Baclofen", "after the\nevening dose"), se
        me.screenshot(f"diary-{name}-side-effects")
        click_link(me, "Edit")
        me.click(me.one("main .tiles label.tile[for=severity-mild]"))
        me.click_and_wait(me.button("Save changes"))
        assert [s["severity"] for s in listed(tonus, "side-effects")] == ["mild"]
        click_link(me, "Delete")
        me.click_and_wait(me.button("Yes, delete it"))
        assert listed(tonus, "side-effects") == []

        # No (more) spasms today: one tap.
        me.get("/")
        before = me.clicks
        me.click_and_wait(me.button("No (more) spasms today"))
        assert me.clicks - before == 1
        assert "Today is confirmed" in me.text("main [role=status]")
        assert any(c["log_complete"] for c in listed(tonus, "checkins"))

        # The session ends while a form is open: nothing typed is lost, and after signing in
        # again the entry is stored exactly once.
        me.get("/")
        me.click(me.one("main .tiles label.tile[for=kind-clonus]"))
        open_details(me, "Where, how painful")
        me.fill("#notes", "typed before\nthe session ended")
        me.driver.delete_cookie("__Host-tonus-session")
        me.click_and_wait(me.button("Save"))
        assert "typed before" in me.text(), me.text()
        me.fill("#password", PASSWORD)
        if me.one("#username").get_attribute("value") == "":
            me.fill("#username", PATIENT)
        me.click_and_wait(me.one("main form button[type=submit]"))
        assert me.h1() == "Save what you typed", me.text()
        me.click_and_wait(me.button("Save"))
        stored = [e for e in listed(tonus, "episodes") if e["notes"] == "typed before\nthe session ended"]
        assert len(stored) == 1, stored
        me.get("/")
        assert me.overflow_x() == 0
    finally:
        server.stop()
