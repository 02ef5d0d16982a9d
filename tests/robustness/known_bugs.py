"""Bugs the fuzzers found in platform code that the robustness suite does not own, until fixed there.

Each entry has a strict xfail test in test_platform_bugs.py that reproduces it: the day the bug is
fixed that test fails (XPASS), and the entry here goes with its xfail mark. Until then the generated
runs count answers that match an entry (a 500 for exactly that input) as "known bugs", printed
beside the failures, instead of failing on a defect that is already reported.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable

SQL_INTEGER_MAX = 2**63 - 1
_DIGITS = re.compile(r"\d{19,}")


def _json(body: bytes | None) -> object:
    try:
        return json.loads(body or b"")
    except ValueError:
        return None


def _huge_integer(method: str, url: str, body: bytes | None) -> bool:
    # _offset, since or a version id beyond a 64-bit integer reach SQL unchecked (OverflowError).
    return any(int(d) > SQL_INTEGER_MAX for d in _DIGITS.findall(url))


def _operator_body_not_an_object(method: str, url: str, body: bytes | None) -> bool:
    # operator.views.revoke and .issue call .get on a JSON body that may be a list, string or number.
    return method == "POST" and re.search(r"/operator/(reports|runs)/[^/]+/(revoke|issue)$", url) is not None \
        and not isinstance(_json(body), dict | None)


def _entry_request_not_an_object(method: str, url: str, body: bytes | None) -> bool:
    # intake._entry calls .get on an entry's "request" that may be a list, string, number or true.
    bundle = _json(body)
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    return method == "POST" and isinstance(entries, list) and any(
        isinstance(e, dict) and e.get("request") and not isinstance(e["request"], dict) for e in entries)


KNOWN: dict[str, Callable[[str, str, bytes | None], bool]] = {
    "huge-integer-parameter": _huge_integer,
    "operator-body-not-an-object": _operator_body_not_an_object,
    "transaction-entry-request-not-an-object": _entry_request_not_an_object,
}


def known_bug(method: str, url: str, status: int, body: bytes | None = None) -> str | None:
    """The known bug a 500 answer to this request is, if any."""
    if status != 500:
        return None
    return next((name for name, matches in KNOWN.items() if matches(method, url, body)), None)
