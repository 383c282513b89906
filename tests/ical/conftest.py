"""Finds the real `tonus` binary (TONUS_BIN, else a `cargo build` of it) and builds a demo
database with every record type, so the exports checked here are the ones users get."""

import os
import subprocess
from pathlib import Path

import pytest

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


class Tonus:
    def __init__(self, binary: str, db: Path):
        self.binary = binary
        self.db = db

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, TONUS_DATABASE_URL=str(self.db), TZ="Europe/Paris")
        env.pop("TONUS_PATIENT", None)
        out = subprocess.run([self.binary, *args], env=env, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError(f"tonus {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out


@pytest.fixture(scope="session")
def binary() -> str:
    return tonus_bin()


@pytest.fixture(scope="session")
def demo(binary, tmp_path_factory) -> Tonus:
    """A simulated patient plus records the simulator does not make: injections, an
    infusion, missed doses, an MRI with lesion counts, a relapse and another event."""
    t = Tonus(binary, tmp_path_factory.mktemp("db") / "tonus.db")
    t("demo", "--days", "60", "--seed", "4", "--tz", "Europe/Paris", "-q")
    # scripts/test runs tests/fhir and tests/ical in one pytest session, where this
    # session fixture stands in for tests/fhir's `demo` of the same name: it makes the same
    # patient, identity (what IPS needs) included.
    t("patient", "identity", "demo", "--name", "Anne Martin", "--birth-date", "1970-03-02",
      "--sex", "female", "--identifier", "https://fhir.nhs.uk/Id/nhs-number=9434765919")
    t("treatment", "add", "Interferon beta-1a", "--category", "drug")
    t("treatment", "start", "Interferon beta-1a", "--dose", "44", "--unit", "ug",
      "--route", "subcutaneous", "--schedule", "every-2-days", "--from", "-20")
    t("dose", "missed", "Interferon beta-1a", "--at", "yesterday 09:00")
    t("treatment", "add", "Ocrelizumab", "--category", "drug")
    t("treatment", "start", "Ocrelizumab", "--dose", "600", "--unit", "mg",
      "--route", "intravenous", "--schedule", "every-26-weeks", "--from", "-10")
    t("dose", "taken", "Ocrelizumab", "--at", "-10 10:00")
    t("treatment", "add", "Physiotherapy", "--category", "other")
    t("treatment", "start", "Physiotherapy", "--schedule", "weekly", "--from", "-30")
    t("event", "mri", "--region", "brain", "--total", "12", "--new", "1", "--enhancing", "0",
      "--date", "-12", "--summary", "stable, one new T2 lesion")
    t("event", "relapse", "--date", "-40", "--until", "-31")
    t("event", "other", "heat wave", "--date", "-5", "--until", "-2")
    return t
