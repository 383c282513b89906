"""`tonus export fhir --bundle document`: the International Patient Summary as a FHIR
document (issue #13 point 4). Checked with fhir.resources (R4B) and HL7's R4 JSON schema, and
against the document rules of FHIR R4 (bdl-9/10/11: identifier, timestamp, Composition
first; every reference resolves inside the Bundle) and the IPS Composition: the problems,
medications and allergies sections, each with entries or an emptyReason, and a narrative."""

import json
import os

import pytest
from fhir.resources.R4B.bundle import Bundle

LOINC = "http://loinc.org"
IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"


@pytest.fixture(scope="module")
def document(demo, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("ips") / "ips.json"
    demo("export", "fhir", "--bundle", "document", "--out", str(out), "-q")
    return json.loads(out.read_text())


def loinc(concept):
    return [c["code"] for c in concept.get("coding", []) if c["system"] == LOINC]


def test_the_document_validates(document):
    Bundle.model_validate(document)
    path = os.environ.get("FHIR_R4_SCHEMA")
    if path:
        import jsonschema
        jsonschema.Draft6Validator(json.load(open(path, encoding="utf-8"))).validate(document)


def test_document_rules(document):
    assert document["type"] == "document"
    assert document["identifier"]["system"] and document["identifier"]["value"]
    assert document["timestamp"]
    entries = document["entry"]
    urls = [e["fullUrl"] for e in entries]
    assert len(urls) == len(set(urls))
    composition = entries[0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert loinc(composition["type"]) == ["60591-5"]
    assert composition["status"] == "final" and composition["title"] and composition["author"]

    def refs(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "reference" and isinstance(x, str):
                    yield x
                else:
                    yield from refs(x)
        elif isinstance(v, list):
            for x in v:
                yield from refs(x)
    for e in entries:
        for r in refs(e["resource"]):
            assert r in urls, (e["resource"]["resourceType"], r)


def test_ips_sections_hold_the_summary_not_the_diary(document, bundle):
    entries = document["entry"]
    composition = entries[0]["resource"]
    sections = {loinc(s["code"])[0]: s for s in composition["section"]}
    # Problems, medications and allergies are required by IPS; results when there are some.
    assert {"11450-4", "10160-0", "48765-2", "30954-2"} == set(sections)
    for s in sections.values():
        assert s["text"]["div"].startswith("<div xmlns=\"http://www.w3.org/1999/xhtml\">")
        assert bool(s.get("entry")) != bool(s.get("emptyReason")), s
    # Tonus never asks about allergies: said, not implied absent.
    assert sections["48765-2"]["emptyReason"]["coding"][0]["code"] == "notasked"

    by_url = {e["fullUrl"]: e["resource"] for e in entries}
    kinds = {code: sorted(by_url[x["reference"]]["resourceType"] for x in s.get("entry", []))
             for code, s in sections.items()}
    assert set(kinds["11450-4"]) == {"Condition"}
    assert set(kinds["10160-0"]) == {"MedicationStatement"}
    assert kinds["30954-2"] and set(kinds["30954-2"]) <= {"Observation", "DiagnosticReport"}
    # The same resources, with the same ids, as the collection export: all statements and
    # conditions; no episode, check-in or dose.
    collection = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    for kind in ("MedicationStatement", "Condition"):
        want = {i for i, r in collection.items() if r["resourceType"] == kind}
        got = {r["id"] for r in by_url.values() if r["resourceType"] == kind}
        assert want == got and want, kind
    assert not {"MedicationAdministration", "AdverseEvent"} & {r["resourceType"] for r in by_url.values()}
    # Every entry is the Composition, the Patient, or in a section.
    listed = {x["reference"] for s in sections.values() for x in s.get("entry", [])}
    for url, r in by_url.items():
        assert r["resourceType"] in ("Composition", "Patient") or url in listed, r["resourceType"]
    # The narrative names each treatment in the patient's words.
    for r in by_url.values():
        if r["resourceType"] == "MedicationStatement":
            name = r["medicationCodeableConcept"]["text"].replace("&", "&amp;")
            assert name in sections["10160-0"]["text"]["div"], name


def test_the_patient_meets_ips_so_the_document_claims_it(document):
    assert document["meta"]["profile"] == [IPS + "Bundle-uv-ips"]
    assert document["entry"][0]["resource"]["meta"]["profile"] == [IPS + "Composition-uv-ips"]
