"""The read-only FHIR R4 REST endpoint of the real `tonus serve`, checked by the same
independent validators as the export (fhir.resources, HL7's R4 JSON schema), and its searches
checked against the export filtered here in Python: same resources, same ids, every page."""

import http.client
import json
import os
import re
import subprocess
import urllib.parse

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

SEARCHABLE = ["Observation", "Condition", "MedicationStatement", "MedicationAdministration", "AdverseEvent"]


class Session:
    """A browser-like client: the session cookie is `__Host-` and Secure, which Python's
    cookie jar will not send over plain HTTP to loopback, so cookies are kept by hand."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        for v in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = v.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return r.status, r.headers.get("Content-Type", ""), data.decode()

    def csrf(self, path):
        _, _, html = self.request("GET", path)
        return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


@pytest.fixture(scope="module")
def served(binary, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rest")
    env = dict(os.environ, TONUS_DATABASE_URL=str(tmp / "tonus.db"), TZ="Europe/Paris",
               TONUS_API_REQUESTS_PER_MINUTE="1000000")
    env.pop("TONUS_PATIENT", None)
    run = lambda *a: subprocess.run([binary, *a], env=env, check=True, capture_output=True, text=True)
    made = json.loads(run("demo", "--days", "90", "--seed", "5", "--tz", "Europe/Paris", "--json").stdout)
    password = made["account"]["password"]
    run("event", "mri", "--region", "brain", "--total", "9", "--new", "0", "--enhancing", "0", "--date", "-20")
    run("side-effect", "--effect", "drowsiness", "--severity", "mild", "--at", "-3 21:00")
    export = tmp / "bundle.json"
    run("export", "fhir", "--out", str(export), "-q")
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))
        web = Session(port)
        form = urllib.parse.urlencode({"username": "demo", "password": password, "csrf": web.csrf("/login")})
        status, _, _ = web.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, status
        csrf = web.csrf("/sessions")
        status, _, text = web.request("POST", "/api/tokens", json.dumps({"name": "ehr"}),
                                      {"Content-Type": "application/json", "X-CSRF-Token": csrf})
        assert status == 201, text
        yield {"port": port, "token": json.loads(text)["token"], "export": json.loads(export.read_text())}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def get(served, path):
    conn = http.client.HTTPConnection("127.0.0.1", served["port"], timeout=60)
    conn.request("GET", path, headers={"Authorization": f"Bearer {served['token']}"})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    assert r.headers.get("Content-Type", "").startswith("application/fhir+json"), (path, r.status)
    return r.status, json.loads(body)


def validate(resource):
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    path = os.environ.get("FHIR_R4_SCHEMA")
    if path:
        import jsonschema
        schema = json.load(open(path, encoding="utf-8"))
        # The npm schema predates R4's technical correction 4.0.1, the version Tonus declares.
        schema["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"].pop("enum", None)
        jsonschema.Draft6Validator(schema).validate(resource)


def all_pages(served, path, count=40):
    """Follows `next` links from the first page; every page is validated."""
    sep = "&" if "?" in path else "?"
    url = f"/fhir/r4/{path}{sep}_count={count}"
    seen, total = [], None
    while url:
        status, page = get(served, url)
        assert status == 200, page
        Bundle.model_validate(page)
        assert page["type"] == "searchset" and len(page.get("entry", [])) <= count
        total = page["total"] if total is None else total
        assert page["total"] == total
        seen += [e["resource"] for e in page.get("entry", [])]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = urllib.parse.urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
    assert len(seen) == total
    return seen


def exported(served, kind=None):
    return [e["resource"] for e in served["export"]["entry"]
            if kind is None or e["resource"]["resourceType"] == kind]


def ids(resources):
    ids = [r["id"] for r in resources]
    assert len(ids) == len(set(ids)), "a resource came twice"
    return sorted(ids)


def test_metadata_is_a_valid_capability_statement(served):
    status, cap = get(served, "/fhir/r4/metadata")
    assert status == 200
    validate(cap)
    types = {r["type"] for r in cap["rest"][0]["resource"]}
    assert types == {"Patient", *SEARCHABLE}


def test_the_patient_is_the_exported_one(served):
    patients = all_pages(served, "Patient")
    assert ids(patients) == ids(exported(served, "Patient"))
    status, p = get(served, f"/fhir/r4/Patient/{patients[0]['id']}")
    assert status == 200
    validate(p)


@pytest.mark.parametrize("kind", SEARCHABLE)
def test_each_type_returns_exactly_the_exported_resources(served, kind):
    found = all_pages(served, kind, count=97)
    assert ids(found) == ids(exported(served, kind))
    patient_id = exported(served, "Patient")[0]["id"]
    for r in found[:50]:
        validate(r)
        for ref in re.findall(r'"reference": "([^"]+)"', json.dumps(r)):
            assert not ref.startswith("urn:uuid:"), ref
        if "subject" in r or "patient" in r:
            assert (r.get("subject") or r.get("patient"))["reference"] == f"Patient/{patient_id}"


def local_day(r):
    for k in ["effectiveDateTime", "onsetDateTime", "date", "recordedDate"]:
        if k in r:
            return r[k][:10]
    for k in ["effectivePeriod", "onsetPeriod"]:
        if k in r and "start" in r[k]:
            return r[k]["start"][:10]
    return None


def test_date_searches_match_the_export_filtered_here(served):
    days = sorted(d for d in map(local_day, exported(served, "Observation")) if d)
    lo, hi = days[len(days) // 4], days[3 * len(days) // 4]
    cases = {
        f"date=ge{lo}&date=le{hi}": lambda d: d and lo <= d <= hi,
        f"date=lt{lo}": lambda d: d and d < lo,
        f"date={hi[:7]}": lambda d: d and d[:7] == hi[:7],
        f"date=gt{hi[:4]}": lambda d: d and d[:4] > hi[:4],
    }
    for query, keep in cases.items():
        want = [r for r in exported(served, "Observation") if keep(local_day(r))]
        got = all_pages(served, f"Observation?{query}", count=500)
        assert ids(got) == ids(want), query


def test_code_searches_match_the_export_filtered_here(served):
    obs = exported(served, "Observation")
    codes = {(c.get("system"), c["code"]) for r in obs for c in r.get("code", {}).get("coding", [])}
    assert len(codes) >= 2
    for system, code in sorted(codes):
        want = [r for r in obs if any(c["code"] == code and c.get("system") == system
                                      for c in r.get("code", {}).get("coding", []))]
        query = urllib.parse.urlencode({"code": f"{system}|{code}"})
        assert ids(all_pages(served, f"Observation?{query}", count=500)) == ids(want), code


def test_everything_is_the_whole_export(served):
    patient_id = exported(served, "Patient")[0]["id"]
    assert ids(all_pages(served, f"Patient/{patient_id}/$everything", count=250)) == ids(exported(served))


def test_errors_are_operation_outcomes_that_name_the_parameter(served):
    for path, named in [("/fhir/r4/Observation?dat=2026", "dat"), ("/fhir/r4/Observation?date=2026-02-30", "date"),
                        ("/fhir/r4/Condition?_count=100000", "_count")]:
        status, body = get(served, path)
        assert status == 400, path
        validate(body)
        assert named in body["issue"][0]["diagnostics"]
    status, body = get(served, "/fhir/r4/Patient/00000000-0000-0000-0000-000000000000")
    assert status == 404
    validate(body)
