"""Schemathesis hooks for tests/openapi (loaded through SCHEMATHESIS_HOOKS).

- The fuzzer authenticates with a token and may call DELETE /api/tokens/{id} with any id;
  it must not revoke its own credential halfway through (every later answer would be a
  correct but useless 401), so that one id is swapped for one that does not exist.
- Every request sent is counted by status code, for the figures in RELIABILITY.md.
"""

import atexit
import json
import os
import threading
from collections import Counter

import schemathesis

OWN_TOKEN_ID = int(os.environ["TONUS_FUZZ_TOKEN_ID"])
COUNT_FILE = os.environ["TONUS_FUZZ_COUNT_FILE"]

_lock = threading.Lock()
_counts: Counter = Counter()


def _names_own_token(value) -> bool:
    # Negative cases send the id in other shapes ("1", "01", "+1"), which the server may still
    # read as the same number.
    try:
        return int(str(value).strip()) == OWN_TOKEN_ID
    except ValueError:
        return False


@schemathesis.hook
def before_call(context, case, kwargs):
    op = case.operation
    if op.method.upper() == "DELETE" and op.path == "/api/tokens/{id}":
        if _names_own_token((case.path_parameters or {}).get("id")):
            case.path_parameters["id"] = OWN_TOKEN_ID + 1_000_000_000


@schemathesis.hook
def after_call(context, case, response):
    with _lock:
        _counts[str(response.status_code)] += 1


@atexit.register
def _write_counts():
    with open(COUNT_FILE, "w") as f:
        json.dump(dict(_counts), f)
