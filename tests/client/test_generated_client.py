"""A real client generated from the served /api/openapi.json drives the real server (issue #16).

openapi-python-client generates a typed package from the document the running `tonus serve`
answers with (into a temporary folder: nothing generated is committed), and a short script uses
only its functions and models, on SQLite and on PostgreSQL: the patient makes a token and signs
in with it, logs episodes and a check-in, lists episodes in date ranges, reads the dashboard;
a clinician is refused the patient's episodes until the patient consents, then reads them and
the dashboard; after the patient revokes, the clinician is refused again. Every answer's status
and content is checked. The README's five-line example is run too, as printed there.

Only what the JSON API does not offer is set up outside the generated client: accounts
(`tonus user add`), signing in on the login page, and granting consent on the sharing page.
Clinicians cannot make tokens, so the clinician's calls carry the session cookie, through the
generated AuthenticatedClient's own `auth_header_name`/`prefix` settings.
"""

import importlib
import re
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import ZONE, Web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGE = "tonus_api_client"
SESSION_COOKIE = "__Host-tonus-session"


def generate(base: str, into: Path) -> Path:
    """Generates the client from the served document; returns the folder to import it from."""
    with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=30) as r:
        assert r.status == 200
        (into / "openapi.json").write_bytes(r.read())
    out = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(into / "openapi.json"), "--meta", "none",
         "--output-path", str(into / PACKAGE), "--config", str(HERE / "generator-config.yaml")],
        capture_output=True, text=True, timeout=300)
    # The generator reports what it could not turn into code as warnings, yet exits 0.
    assert out.returncode == 0 and "Warning" not in out.stdout + out.stderr, out.stdout + out.stderr
    assert (into / PACKAGE / "api" / "episodes" / "list_episodes.py").exists()
    return into


@pytest.fixture(scope="module")
def api(server, tmp_path_factory):
    """The generated package, freshly imported from this server's document."""
    folder = generate(server["base"], tmp_path_factory.mktemp("generated"))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


def session_client(api, base: str, web: Web, csrf: str | None = None):
    """A generated client that authenticates with a browser session instead of a token."""
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return api.AuthenticatedClient(base_url=base, token=f"{SESSION_COOKIE}={web.session}", prefix="",
                                   auth_header_name="Cookie", headers=headers,
                                   raise_on_unexpected_status=True)


def test_generated_client_script(server, api):
    from tonus_api_client import AuthenticatedClient
    from tonus_api_client.api.account import create_token, me
    from tonus_api_client.api.check_ins import create_checkin
    from tonus_api_client.api.clinician import clinician_dashboard, clinician_episodes, clinician_patients
    from tonus_api_client.api.consent import list_consents, revoke_consent
    from tonus_api_client.api.dashboard import own_dashboard
    from tonus_api_client.api.episodes import create_episode, list_episodes
    from tonus_api_client.models import (CheckinIn, CheckinOut, ConsentOut, DashboardOut, EpisodeIn,
                                         EpisodeInKind, EpisodeInRegionsItem, EpisodeInTriggersItem,
                                         EpisodeOut, ErrorBody, MeOut, NewTokenOut, SharedPatientOut,
                                         TokenIn)

    base = server["base"]
    today = datetime.now(ZoneInfo(ZONE)).date()
    d1, d2 = today - timedelta(days=10), today - timedelta(days=3)

    # Set-up outside the API: sign in on the login page.
    anne_web = Web(server["port"])
    anne_csrf = anne_web.sign_in("anne")
    doc_web = Web(server["port"])
    doc_web.sign_in("doc")

    # 1. The patient's first token, made through the API with the browser session.
    r = create_token.sync_detailed(client=session_client(api, base, anne_web, anne_csrf),
                                   body=TokenIn(name="generated client"))
    assert r.status_code == 201, r.content
    assert isinstance(r.parsed, NewTokenOut)
    assert r.parsed.name == "generated client" and r.parsed.token.startswith("tonus_")
    anne = AuthenticatedClient(base_url=base, token=r.parsed.token, raise_on_unexpected_status=True)

    who = me.sync(client=anne)
    assert isinstance(who, MeOut)
    assert (who.username, who.role) == ("anne", "patient")
    assert isinstance(who.patient_id, int)

    # 2. Log two episodes (back-filled, on two days) and confirm the later day.
    r = create_episode.sync_detailed(client=anne, body=EpisodeIn(
        kind=EpisodeInKind.CRAMP, pain=4, started_at=f"{d1} 10:00", notes="calf cramp on waking"))
    assert r.status_code == 201, r.content
    cramp = r.parsed
    assert isinstance(cramp, EpisodeOut)
    assert (cramp.kind, cramp.family, cramp.local_date, cramp.pain) == ("cramp", "stiffness", str(d1), 4)
    assert (cramp.time_zone, cramp.notes, cramp.backfilled) == (ZONE, "calf cramp on waking", True)

    r = create_episode.sync_detailed(client=anne, body=EpisodeIn(
        kind=EpisodeInKind.CLONUS, regions=[EpisodeInRegionsItem.LEFT_CALF],
        triggers=[EpisodeInTriggersItem.STRETCH], pain=6, duration_s=40, started_at=f"{d2} 08:30"))
    assert r.status_code == 201, r.content
    clonus = r.parsed
    assert isinstance(clonus, EpisodeOut)
    assert (clonus.kind, clonus.family, clonus.local_date) == ("clonus", "involuntary-movement", str(d2))
    assert (clonus.regions, clonus.triggers, clonus.duration_s) == (["left-calf"], ["stretch"], 40)
    assert clonus.id != cramp.id

    r = create_checkin.sync_detailed(client=anne, body=CheckinIn(
        date=str(d2), spasticity_nrs=5, pain_nrs=3, log_complete=True))
    assert r.status_code == 201, r.content
    assert isinstance(r.parsed, CheckinOut)
    assert (r.parsed.date, r.parsed.spasticity_nrs, r.parsed.log_complete) == (str(d2), 5, True)

    # 3. List episodes in date ranges.
    def ids(episodes) -> list[int]:
        assert isinstance(episodes, list) and all(isinstance(e, EpisodeOut) for e in episodes), episodes
        return sorted(e.id for e in episodes)

    assert ids(list_episodes.sync(client=anne, from_=str(d2), to=str(today))) == [clonus.id]
    assert ids(list_episodes.sync(client=anne, from_=str(d1), to=str(d1))) == [cramp.id]
    assert ids(list_episodes.sync(client=anne, from_="-30", to="today")) == sorted([cramp.id, clonus.id])
    assert ids(list_episodes.sync(client=anne, from_=str(today - timedelta(days=2)))) == []
    r = list_episodes.sync_detailed(client=anne, from_="2026-13-01")
    assert r.status_code == 422 and isinstance(r.parsed, ErrorBody), r.content
    assert (r.parsed.error, r.parsed.field) == ("invalid", "from")

    # 4. The dashboard over both days.
    dash = own_dashboard.sync(client=anne, from_=str(d1), to=str(today))
    assert isinstance(dash, DashboardOut), dash
    assert (dash.patient, dash.time_zone, dash.from_, dash.to) == ("anne", ZONE, str(d1), str(today))
    assert (dash.days_in_range, dash.confirmed_days) == (11, 1)
    assert (dash.involuntary_total, dash.stiffness_total) == (1, 1)
    assert dash.involuntary_per_confirmed_day == pytest.approx(1.0)
    assert dash.stiffness_per_confirmed_day == pytest.approx(0.0)
    assert dash.mean_episode_pain == pytest.approx(5.0)
    assert dash.mean_spasticity_nrs == pytest.approx(5.0)
    days = {d.date: d for d in dash.days}
    assert len(days) == 11
    assert (days[str(d1)].stiffness, days[str(d1)].involuntary, days[str(d1)].confirmed) == (1, 0, False)
    assert (days[str(d2)].stiffness, days[str(d2)].involuntary, days[str(d2)].confirmed) == (0, 1, True)

    # 5. The clinician: refused before consent, reads after, refused again after revocation.
    doc = session_client(api, base, doc_web)
    assert clinician_patients.sync(client=doc) == []
    r = clinician_episodes.sync_detailed(who.patient_id, client=doc)
    assert r.status_code == 404 and isinstance(r.parsed, ErrorBody) and r.parsed.error == "not_found", r.content

    anne_web.grant(anne_csrf, "doc")  # the sharing page's form: granting is not in the API

    # Sharing needs a browser session: a leaked token must not read or change who sees the diary.
    r = list_consents.sync_detailed(client=anne)
    assert r.status_code == 403 and isinstance(r.parsed, ErrorBody) and r.parsed.error == "forbidden", r.content
    anne_session = session_client(api, base, anne_web, anne_csrf)
    consents = list_consents.sync(client=anne_session)
    assert [(type(c), c.clinician, c.revoked_at_ms) for c in consents] == [(ConsentOut, "doc", None)]
    shared = clinician_patients.sync(client=doc)
    assert [(type(p), p.patient_id, p.handle) for p in shared] == [(SharedPatientOut, who.patient_id, "anne")]

    seen = clinician_episodes.sync(who.patient_id, client=doc, from_=str(d1), to=str(d2))
    assert ids(seen) == sorted([cramp.id, clonus.id])
    # The clinician sees exactly what the patient's own list shows.
    own = list_episodes.sync(client=anne, from_=str(d1), to=str(d2))
    assert {e.id: e.to_dict() for e in seen} == {e.id: e.to_dict() for e in own}
    assert {e.id: e.notes for e in seen} == {cramp.id: "calf cramp on waking", clonus.id: None}
    assert ids(clinician_episodes.sync(who.patient_id, client=doc, from_=str(d2), to=str(d2))) == [clonus.id]
    theirs = clinician_dashboard.sync(who.patient_id, client=doc, from_=str(d1), to=str(today))
    assert isinstance(theirs, DashboardOut) and theirs.to_dict() == dash.to_dict()

    r = revoke_consent.sync_detailed(consents[0].id, client=anne)
    assert r.status_code == 403, r.content
    assert [c.revoked_at_ms for c in list_consents.sync(client=anne_session)] == [None]
    r = revoke_consent.sync_detailed(consents[0].id, client=anne_session)
    assert r.status_code == 204, r.content
    r = clinician_episodes.sync_detailed(who.patient_id, client=doc)
    assert r.status_code == 404 and isinstance(r.parsed, ErrorBody), r.content
    assert clinician_patients.sync(client=doc) == []


def readme_example() -> str:
    """The Python block of the README's "Scripting the API" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Scripting the API", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "no Python example under 'Scripting the API' in README.md"
    return m.group(1)


def test_readme_example_runs(server, api, capsys):
    from tonus_api_client import AuthenticatedClient
    from tonus_api_client.api.account import create_token
    from tonus_api_client.api.episodes import list_episodes
    from tonus_api_client.models import TokenIn

    web = Web(server["port"])
    csrf = web.sign_in("anne")
    token = create_token.sync(client=session_client(api, server["base"], web, csrf), body=TokenIn(name="readme"))
    anne = AuthenticatedClient(base_url=server["base"], token=token.token)
    before = list_episodes.sync(client=anne, from_="-7", to="today")

    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 5, code
    assert "http://127.0.0.1:8080" in code and "tonus_…" in code, code
    code = code.replace("http://127.0.0.1:8080", server["base"]).replace("tonus_…", token.token)
    exec(compile(code, "README.md", "exec"), {})

    after = list_episodes.sync(client=anne, from_="-7", to="today")
    assert len(after) == len(before) + 1
    assert [e.kind for e in after].count("cramp") == 1 + [e.kind for e in before].count("cramp")
    printed = capsys.readouterr().out
    assert printed.strip() == repr([e.kind for e in after]), printed
