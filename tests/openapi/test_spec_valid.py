"""The served /api/openapi.json is a valid OpenAPI 3.1 document as openapi-spec-validator reads
it (issue #16): the real `tonus serve` on a fresh SQLite file, every error the validator finds
listed, and the test failing on any. The validator is also shown a copy with the #16 bug put
back (a query parameter declared in the path), so this check is known to be able to fail."""

import copy
import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

ROOT = Path(__file__).resolve().parents[2]


def tonus_bin() -> str:
    env = os.environ.get("TONUS_BIN")
    if env:
        return env
    subprocess.run(["cargo", "build", "-q", "-p", "tonus"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "debug" / "tonus")


@pytest.fixture(scope="module")
def served_document(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("spec")
    env = dict(os.environ, TONUS_DATABASE_URL=str(tmp / "tonus.db"))
    proc = subprocess.Popen([tonus_bin(), "serve", "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, f"tonus serve said {line!r}: {proc.stderr.read() if proc.poll() is not None else ''}"
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/api/openapi.json", timeout=30) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("application/json")
            yield json.load(r)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def errors_of(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in OpenAPIV31SpecValidator(document).iter_errors()]


def test_served_document_is_valid_openapi_3_1(served_document):
    assert served_document["openapi"].startswith("3.1."), served_document["openapi"]
    errors = errors_of(served_document)
    operations = sum(1 for item in served_document["paths"].values()
                     for method in item if method in {"get", "put", "post", "delete", "patch"})
    print(f"openapi-spec-validator (OpenAPI 3.1): {operations} operations, {len(errors)} errors")
    assert not errors, "\n".join(errors)
    assert operations >= 18


def test_validator_catches_a_query_parameter_declared_in_the_path(served_document):
    broken = copy.deepcopy(served_document)
    params = broken["paths"]["/api/episodes"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in params] == [("from", "query"), ("to", "query")]
    params[0]["in"] = "path"
    assert errors_of(broken), "the validator accepted a path parameter the path does not have"
