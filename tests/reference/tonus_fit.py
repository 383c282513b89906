"""Runs the tonus-stats reference examples (`fit_json`, `posterior_json`): the binary named
in $TONUS_FIT_JSON / $TONUS_POSTERIOR_JSON if set, otherwise built once with cargo (release)
from the workspace root."""

import json
import os
import pathlib
import subprocess
from functools import lru_cache

ROOT = pathlib.Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def binary(example: str = "fit_json") -> str:
    env = os.environ.get(f"TONUS_{example.upper()}")
    if env:
        return env
    out = subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "tonus-stats", "--example", example,
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == example:
            return msg["executable"]
    raise RuntimeError(f"cargo did not report the {example} executable")


def run(example: str, payload: dict):
    """Sends one JSON document to the example and returns its JSON answer."""
    res = subprocess.run([binary(example)], input=json.dumps(payload), capture_output=True,
                         text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{example} failed: {res.stderr}")
    return json.loads(res.stdout)


def fit(payload: dict) -> dict:
    """Sends one data set to fit_json and returns its JSON answer."""
    return run("fit_json", payload)


def posterior(payload: dict) -> list:
    """Sends posterior cases to posterior_json and returns the summaries."""
    return run("posterior_json", payload)
