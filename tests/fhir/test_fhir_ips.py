"""International Patient Summary patterns in the export (issue #13 point 4): the IPS profiles
each resource claims and the elements those profiles require, coded medications and
lateralised body sites, and the installation's own canonical base for Tonus's codes."""

import json
import os
import subprocess

from fhir.resources.R4B.bundle import Bundle

SNOMED = "http://snomed.info/sct"
IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"


def resources(bundle, kind=None):
    return [e["resource"] for e in bundle["entry"]
            if kind is None or e["resource"]["resourceType"] == kind]


def snomed(concept):
    return [c["code"] for c in (concept or {}).get("coding", []) if c["system"] == SNOMED]


def profiles(r):
    return r.get("meta", {}).get("profile", [])


def test_ips_profiles_are_claimed_only_where_their_required_elements_are_there(bundle):
    """IPS 2.0.0: Patient name (text/given/family) and birthDate; Condition code and
    subject; MedicationStatement status, medication, subject and effective[x];
    DiagnosticReport status (any but entered-in-error), one category, code, subject and
    effective[x]."""
    claimed = {}
    for r in resources(bundle):
        for p in profiles(r):
            assert p.startswith(IPS), p
            claimed.setdefault(p.removeprefix(IPS), []).append(r)
    assert {"Patient-uv-ips", "Condition-uv-ips", "MedicationStatement-uv-ips",
            "DiagnosticReport-uv-ips"} <= set(claimed)
    [patient] = claimed["Patient-uv-ips"]
    assert patient["birthDate"] and any(n.get("text") or n.get("family") or n.get("given")
                                        for n in patient["name"])
    patient_ref = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is patient
                       or e["resource"].get("id") == patient["id"])
    for c in claimed["Condition-uv-ips"]:
        assert c["code"]["coding"] and c["subject"]["reference"] == patient_ref
    for m in claimed["MedicationStatement-uv-ips"]:
        assert m["status"] and m["subject"]["reference"] == patient_ref
        assert m["medicationCodeableConcept"].get("text") or m["medicationCodeableConcept"].get("coding")
        assert "effectivePeriod" in m or "effectiveDateTime" in m
    assert len(claimed["DiagnosticReport-uv-ips"]) == len(resources(bundle, "DiagnosticReport"))
    for d in claimed["DiagnosticReport-uv-ips"]:
        assert d["status"] in {"registered", "partial", "preliminary", "final", "amended", "corrected",
                               "appended", "cancelled", "unknown"}
        assert len(d["category"]) == 1 and d["category"][0]["coding"]
        assert d["code"]["coding"] and d["code"]["text"]
        assert d["subject"]["reference"] == patient_ref
        assert "effectiveDateTime" in d or "effectivePeriod" in d
    # IPS has no profile for a QuestionnaireResponse (nor the Questionnaire): none claimed.
    for kind in ("QuestionnaireResponse", "Questionnaire"):
        assert not [r for r in resources(bundle, kind) if profiles(r)]
    # A statement without a regimen has no effective[x], so it must not claim the profile.
    for m in resources(bundle, "MedicationStatement"):
        if "effectivePeriod" not in m and "effectiveDateTime" not in m:
            assert not profiles(m), m


def test_the_check_in_response_and_the_mri_report_validate(bundle):
    """The two resources issue #13 point 4 added, on their own: fhir.resources (R4B models)
    takes them, the QuestionnaireResponse answers the Questionnaire in the Bundle and the
    DiagnosticReport of the demo's brain MRI carries LOINC 24590-2 MR Brain."""
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    [q] = resources(bundle, "Questionnaire")
    Questionnaire.model_validate(q)
    responses = resources(bundle, "QuestionnaireResponse")
    assert responses
    for r in responses:
        QuestionnaireResponse.model_validate(r)
        assert r["questionnaire"].split("|")[0] == q["url"]
        assert {i["linkId"] for i in r["item"]} <= {i["linkId"] for i in q["item"]}
    reports = resources(bundle, "DiagnosticReport")
    for d in reports:
        DiagnosticReport.model_validate(d)
    [report] = [d for d in reports if d.get("conclusion") == "stable, one new T2 lesion"]
    assert [(c["system"], c["code"], c["display"]) for c in report["code"]["coding"]
            if c["system"] == "http://loinc.org"] == [("http://loinc.org", "24590-2", "MR Brain")]


def test_a_patient_without_name_and_birth_date_claims_no_ips_profile(binary, tmp_path):
    from conftest import Tonus
    t = Tonus(binary, tmp_path / "bare.db")
    t("demo", "--days", "20", "--seed", "2", "-q")
    out = tmp_path / "bare.json"
    t("export", "fhir", "--out", str(out), "-q")
    b = json.loads(out.read_text())
    assert not [r for r in resources(b) if profiles(r)]


def test_common_spasticity_drugs_are_coded_and_other_treatments_are_text(bundle):
    by_name = {}
    for r in resources(bundle, "MedicationStatement") + resources(bundle, "MedicationAdministration"):
        by_name.setdefault(r["medicationCodeableConcept"]["text"], set()).add(
            tuple(snomed(r["medicationCodeableConcept"])))
    assert by_name["Baclofen"] == {("387342009",)}
    # No verified code: the patient's words only, never a guess.
    assert by_name["Interferon beta-1a"] == {()}
    assert by_name["Vitamin D3"] == {()}
    assert by_name["Physiotherapy"] == {()}


def test_body_sites_are_snomed_structures_with_their_side(bundle):
    episodes = [r for r in resources(bundle, "Observation")
                if any(c["system"].endswith("/CodeSystem/spasm-kind") for c in r["code"]["coding"])]
    regions = 0
    for r in episodes:
        sites = [c["valueCodeableConcept"] for c in r.get("component", [])
                 if any(x["code"] == "body-region" for x in c["code"]["coding"])]
        if "bodySite" in r:
            sites.append(r["bodySite"])
        for site in sites:
            regions += 1
            tonus = next(c["code"] for c in site["coding"] if c["system"].endswith("/CodeSystem/body-region"))
            [sct] = snomed(site)
            display = next(c["display"] for c in site["coding"] if c["system"] == SNOMED).lower()
            side = tonus.split("-")[0]
            if side in ("left", "right"):
                assert side in display, (tonus, display)
            assert sct.isdigit()
    assert regions > 0


def run(binary, db, *args, env=None):
    full = dict(os.environ, TONUS_DATABASE_URL=str(db), TZ="Europe/Paris", **(env or {}))
    full.pop("TONUS_PATIENT", None)
    full.pop("TONUS_PUBLIC_URL", None)
    out = subprocess.run([binary, *args], env=full, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def test_the_canonical_base_is_the_installations_and_another_base_imports_back(demo, binary, tmp_path):
    """With TONUS_FHIR_CANONICAL_URL set, every Tonus system and extension is under it and
    the Bundle says so in meta.source; an installation with another base (here the default)
    imports the file into the same records."""
    base = "https://tonus.clinic.example/fhir"
    out = tmp_path / "clinic.json"
    run(binary, demo.db, "export", "fhir", "--out", str(out), "-q",
        env={"TONUS_FHIR_CANONICAL_URL": base})
    text = out.read_text()
    assert "example.org" not in text
    b = json.loads(text)
    Bundle.model_validate(b)
    assert b["meta"]["source"] == base
    systems = set()

    def walk(v, key=None):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif key in ("system", "url") and isinstance(v, str) and "tonus" in v:
            systems.add(v)
    walk(b)
    assert systems and all(s.startswith(base + "/") for s in systems), systems

    other = tmp_path / "other.db"
    run(binary, other, "patient", "add", "demo", "--tz", "Europe/Paris")
    run(binary, other, "import", "fhir", str(out), "-q")
    a = json.loads(demo("export", "archive", "-q").stdout)["patients"][0]
    c = json.loads(run(binary, other, "export", "archive", "-q").stdout)["patients"][0]
    assert a == c


def test_a_bad_canonical_base_is_refused_with_the_rule(demo, binary, tmp_path):
    full = dict(os.environ, TONUS_DATABASE_URL=str(demo.db), TONUS_FHIR_CANONICAL_URL="tonus.clinic/fhir")
    out = subprocess.run([binary, "export", "fhir", "--out", str(tmp_path / "x.json"), "-q"],
                         env=full, capture_output=True, text=True)
    assert out.returncode == 2, out
    assert "TONUS_FHIR_CANONICAL_URL" in out.stderr and "http://" in out.stderr, out.stderr
    assert not (tmp_path / "x.json").exists()
