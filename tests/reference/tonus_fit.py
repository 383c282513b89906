"""Runs the tonus-stats `fit_json` example: the binary in $TONUS_FIT_JSON if set, otherwise
built once with cargo (release) from the workspace root."""

import json
import os
import pathlib
import subprocess
from functools import lru_cache

ROOT = pathlib.Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def binary() -> str:
    env = os.environ.get("TONUS_FIT_JSON")
    if env:
        return env
    out = subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "tonus-stats", "--example", "fit_json",
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == "fit_json":
            return msg["executable"]
    raise RuntimeError("cargo did not report the fit_json executable")


def fit(payload: dict) -> dict:
    """Sends one data set to the binary and returns its JSON answer."""
    res = subprocess.run([binary()], input=json.dumps(payload), capture_output=True,
                         text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"fit_json failed: {res.stderr}")
    return json.loads(res.stdout)
