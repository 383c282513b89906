"""The whole path of issue #3, through the browser only: set-up, accounts, quick log,
check-in, sharing, the clinician's view, revocation. Every step checks what a person sees."""

from conftest import PASSWORD, Browser

PATIENT = "alice"
CLINICIAN = "dr.martin@clinic"
# Kind codes and the labels the quick log shows for them (tonus-domain SpasmKind).
KINDS = {
    "clonus": "clonus (rhythmic beating)",
    "cramp": "cramp",
    "flexor-spasm": "flexor spasm (limb pulled in)",
}


# What the dashboard's summary must say after the steps below: three episodes (clonus and
# flexor spasm are involuntary movements, cramp is stiffness) on the one day the check-in
# confirmed complete, with spasticity 5.
EXPECTED_SUMMARY = {
    "Episodes logged (all days)": "2 involuntary, 1 stiffness",
    "Involuntary movements per confirmed day": "2.0",
    "Stiffness episodes per confirmed day": "1.0",
    "Mean spasticity NRS (0–10)": "5.0",
}


def summary(b: Browser) -> dict:
    """The dashboard's summary list, as term → value."""
    return {
        d.find_element("css selector", "dt").text: d.find_element("css selector", "dd").text
        for d in b.all("main dl.summary > div")
    }


def tile(b: Browser, code: str):
    t = b.one(f"main .tiles label.tile[for=kind-{code}]")
    assert t.text.strip() == KINDS[code]
    return t


def test_admin_patient_clinician_journey(fresh_server, make_browser):
    server = fresh_server
    me = make_browser(server)  # the administrator, then the patient, on one device

    # First start: no accounts, so the site offers the administrator's set-up.
    me.get("/")
    assert me.path() == "/setup"
    assert me.h1() == "Create the administrator"
    me.fill("#username", "admin")
    me.fill("#password", PASSWORD)
    me.click_and_wait(me.button("Create administrator"))
    assert me.path() == "/admin"
    assert me.h1() == "Accounts"
    assert [r.text.split()[:2] for r in me.all("main tbody tr")] == [["admin", "admin"]]

    # The administrator creates the patient and the clinician.
    for name, role, zone in [(PATIENT, "patient", "Europe/Paris"), (CLINICIAN, "clinician", "UTC")]:
        me.fill("#username", name)
        me.select("#role", role)
        me.fill("#password", PASSWORD)
        me.fill("#time_zone", zone)
        me.click_and_wait(me.button("Create account"))
        assert me.status() == 200, me.text()
        assert name in me.text("main [role=status]")
    rows = {tuple(r.text.split()[:2]) for r in me.all("main tbody tr")}
    assert rows == {("admin", "admin"), (PATIENT, "patient"), (CLINICIAN, "clinician")}
    me.sign_out()
    assert me.path() == "/login"

    # The patient signs in on a phone and logs three episodes: a kind tile, then Save.
    me.phone()
    me.sign_in(PATIENT)
    assert me.path() == "/"
    assert "Nothing logged" in me.text()
    for n, (code, label) in enumerate(KINDS.items(), start=1):
        before = me.clicks
        me.click(tile(me, code))
        me.click_and_wait(me.button("Save"))
        assert me.clicks - before <= 2
        assert me.path().startswith("/?saved=1&undo="), me.path()
        assert me.text("main [role=status]").startswith("Saved.")
        recent = [li.text for li in me.all("main ul.recent li")]
        assert len(recent) == n, recent
        assert label in recent[0], recent  # newest first

    # On the smallest common phone screen the kinds and Save are on the first screen.
    me.small_phone()
    me.get("/")
    assert me.in_first_screen(me.button("Save")), "Save is below the fold at 360 × 640"
    for code in KINDS:
        assert me.in_first_screen(tile(me, code)), f"{code} is below the fold at 360 × 640"
    me.phone()

    # Undo takes back the entry just saved, in one tap.
    me.click(me.one("main .tiles label.tile[for=kind-twitch]"))
    me.click_and_wait(me.button("Save"))
    assert len(me.all("main ul.recent li")) == len(KINDS) + 1
    me.click_and_wait(me.button("Undo"))
    assert me.path() == "/?deleted=1"
    assert len(me.all("main ul.recent li")) == len(KINDS)

    # Touch targets of the quick log at phone width: at least 44 × 44 CSS px (WCAG 2.5.5).
    assert me.overflow_x() == 0, f"the quick log scrolls sideways by {me.overflow_x()} px at 360 px"
    for el in me.all("main .tiles label.tile") + [me.button("Save")]:
        box = me.driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", el)
        assert box[0] >= 44 and box[1] >= 44, f"{el.text!r} is {box[0]:.0f}×{box[1]:.0f} px"
    me.screenshot("quick-log-phone")

    # The daily check-in: a typical day in at most six taps (four answers, the day's log
    # confirmed, Save), every answer a visible button, no drop-downs.
    me.click_and_wait(me.link("Daily check-in"))
    assert me.h1() == "Daily check-in"
    assert me.all("main select") == [], "the check-in has no drop-downs"
    before = me.clicks
    for field, value in [("spasticity_nrs", "5"), ("pain_nrs", "3"), ("psfs_frequency", "2"), ("psfs_severity", "1")]:
        me.click(me.one(f"main label[for={field}-{value}]"))
    me.click(me.one("main input[name=log_complete]"))
    me.click_and_wait(me.button("Save check-in"))
    assert me.clicks - before <= 6
    assert "saved" in me.text("main [role=status]")
    # The form shows the day's answers again: they were stored.
    assert me.one("#spasticity_nrs-5").is_selected()
    assert me.one("#psfs_severity-1").is_selected()
    assert me.one("#night_wakings-skip").is_selected()
    assert me.one("main input[name=log_complete]").is_selected()
    assert me.overflow_x() == 0, f"the check-in scrolls sideways by {me.overflow_x()} px at 360 px"
    me.screenshot("checkin-phone")

    # A side effect on the phone: what was felt, how bad, Save; three taps.
    me.get("/side-effects")
    assert me.h1() == "Side effects"
    before = me.clicks
    me.click(me.one("main .tiles label.tile[for=effect-drowsiness]"))
    me.click(me.one("main .tiles label.tile[for=severity-moderate]"))
    me.click_and_wait(me.button("Save"))
    assert me.clicks - before <= 3
    assert me.text("main [role=status]") == "Saved."
    listed = [li.text for li in me.all("main ul.recent li")]
    assert len(listed) == 1 and "drowsiness" in listed[0] and "moderate" in listed[0], listed
    assert me.overflow_x() == 0, f"the side-effect page scrolls sideways by {me.overflow_x()} px at 360 px"
    me.screenshot("side-effects-phone")

    # Sharing: nobody yet; give the clinician read access by user name.
    me.get("/sharing")
    assert "Nobody" in me.text()
    me.fill("#clinician", CLINICIAN)
    me.click_and_wait(me.button("Give read access"))
    live = [li.text for li in me.all("main ul.recent li")]
    assert len(live) == 1 and CLINICIAN in live[0], live

    # The patient's own dashboard, at both widths.
    me.get("/dashboard")
    assert me.status() == 200, me.text()
    assert me.h1().startswith("Dashboard")
    shown = summary(me)
    assert shown | EXPECTED_SUMMARY == shown, shown
    assert shown["Days confirmed complete"].startswith("1 of "), shown
    assert me.overflow_x() == 0, f"the dashboard scrolls sideways by {me.overflow_x()} px at 360 px"
    me.screenshot("dashboard-patient-phone")
    me.desktop()
    me.get("/dashboard")
    me.screenshot("dashboard-patient-desktop")

    # The clinician, on another device, finds the patient and opens the dashboard.
    dr = make_browser(server)
    dr.sign_in(CLINICIAN)
    assert dr.path() == "/clinician"
    patients = dr.all("main ul.recent li a")
    assert [a.text for a in patients] == [PATIENT]
    dr.click_and_wait(patients[0])
    patient_page = dr.path()
    assert patient_page.startswith("/clinician/patients/")
    assert dr.status() == 200
    assert dr.h1() == PATIENT
    assert summary(dr) == summary(me)  # the same dashboard as the patient's
    view = dr.text()
    for label in KINDS.values():
        assert label in view, f"{label} missing from the clinician's view"
    dr.screenshot("dashboard-clinician-desktop")
    dr.phone()
    dr.get(patient_page)
    assert dr.overflow_x() == 0, f"the clinician's view scrolls sideways by {dr.overflow_x()} px at 360 px"
    dr.screenshot("dashboard-clinician-phone")

    # The patient sees the view in the access log, then revokes.
    me.get("/activity")
    assert CLINICIAN in me.text()
    me.get("/sharing")
    me.click_and_wait(me.button("Revoke"))
    assert "Nobody" in me.text()
    assert CLINICIAN in me.text()  # under "Earlier access"

    # The clinician's next reload is refused as if the patient did not exist.
    dr.get(patient_page)
    assert dr.status() == 404
    assert dr.h1() == "Not Found"
    dr.get("/clinician")
    assert dr.all("main ul.recent li a") == []
    assert "None yet" in dr.text()
