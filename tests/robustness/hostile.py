"""Shared by the robustness runs: hostile values, and what every answer must look like.

The hypothesis runs (off-dev and HelseID mode) and the schemathesis run check answers the same
way, with `check_answer`; `snapshot` and `fingerprint` say whether refused input changed the store.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

hostile_text = st.one_of(
    st.text(min_size=0, max_size=40),
    st.sampled_from(["..", "../..", "%2e%2e%2f", "..%2f..%2fetc%2fpasswd", "%00", "Patient", "$validate",
                     "_history", "0301", "' OR 1=1 --", "\"; DROP TABLE resources; --", "a" * 5000,
                     "😀", "\u202e", "<script>", "${jndi:ldap://x}", "-1", "1e309", "NaN"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
resource_like = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Bundle", "Observation", "EpisodeOfCare", "Consent", "Nope", ""])},
    optional={"id": hostile_text, "entry": json_values, "type": hostile_text, "identifier": json_values,
              "meta": json_values, "subject": json_values, "status": hostile_text})


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    resource_like.map(lambda v: json.dumps(v).encode()),
    st.integers(1000, 20000).map(lambda d: _deep(d).encode()),
    st.just(b'{"resourceType": "Bundle", "type": "transaction", "entry": [' + b'{},' * 5000 + b'{}]}'),
)
content_types = st.sampled_from(["application/fhir+json", "application/json", "text/plain", "application/xml",
                                 "multipart/form-data", "", "application/fhir+json; charset=latin-1"])
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
query = st.dictionaries(st.sampled_from(["identifier", "patient", "subject", "code", "date", "_count", "_sort",
                                         "_include", "_revinclude", "status", "category", "_lastUpdated",
                                         "since", "wait", "bogus", "_format", "_elements"]) | hostile_text,
                        hostile_text, max_size=4)


def fill(route: str, values: list[str]) -> str:
    """A url_map rule with its variables replaced by the given values."""
    iterator = iter(values)
    # Percent-encode like a client would; the hostile part is what the server receives decoded.
    return _VARIABLE.sub(lambda _: quote(next(iterator, "x"), safe=".$"), route)


# Pages for people (the operator's console forms) answer errors as HTML pages with the notice;
# every API route answers them as an OperationOutcome.
HTML_PAGES = ("/operator/console",)


def check_answer(status: int, content_type: str, text: str, method: str, url: str) -> None:
    """Never a 5xx or a stack trace; every API error an OperationOutcome."""
    assert status < 500, f"{method} {url} answered {status}: {text[:300]}"
    assert "Traceback" not in text, f"{method} {url} leaked a stack trace"
    if status >= 400 and method != "HEAD":
        if content_type.startswith("text/html"):
            assert url.startswith(HTML_PAGES), f"{method} {url}: an API error answered as HTML"
            return
        body = json.loads(text)
        assert body.get("resourceType") == "OperationOutcome", f"{method} {url}: error without OperationOutcome"


def check_response(response: httpx.Response, method: str, url: str) -> None:
    check_answer(response.status_code, response.headers.get("content-type", ""), response.text, method, url)


def send_hostile(client: httpx.Client, method: str, url: str, params: dict, body: bytes,
                 content_type: str) -> httpx.Response:
    """One generated request (a body only where the method carries one), its answer checked."""
    response = client.request(method, url, params=params, content=body if method not in ("GET", "HEAD") else None,
                              headers={"Content-Type": content_type} if content_type else {})
    check_response(response, method, url)
    return response


def snapshot(base: str, cohort: Path, tenant: str = "0301", auth: httpx.Auth | None = None) -> list[str]:
    """The cohort's patients as the platform serves them (compared before and after a run)."""
    out = []
    with httpx.Client(base_url=base, auth=auth) as client:
        for line in (cohort / "Patient.ndjson").read_text().splitlines():
            rid = json.loads(line)["id"]
            out.append(client.get(f"/{tenant}/fhir/Patient/{rid}").text)
    return out


def fingerprint(storage) -> tuple:
    """What a refused request must leave alone: every tenant's event head and fault rules, and the
    registries (HelseID clients, tenant organisations). Audit rows may grow: refusals are audited."""
    tenants = tuple((t["id"], t["seq"], json.dumps(t["faults"], sort_keys=True)) for t in storage.list_tenants())
    registries = tuple(sorted(storage.kv_list(ns)) for ns in ("helseid.clients", "security.tenant-organisations"))
    return tenants, registries
