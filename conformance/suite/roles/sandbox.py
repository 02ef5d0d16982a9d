"""The suite's view of the sandbox platform, over HTTP only (it never imports mock_platform).

- the request log `GET [admin]/admin/tenants/<t>/requests?since=<seq>`: every request that
  reached the tenant's FHIR base, refused ones included, with the headers that carry identity
  (Authorization, DPoP), the body, and the platform's answer: what arrived in the intake, as
  the EPJ sent it;
- fault injection `PUT [admin]/admin/tenants/<t>/faults`, the tenant's test conditions
  `PUT .../settings` (a small page size) and seeding `POST .../seed`;
- the tenant's FHIR API for what was stored (search, read, history).

The admin routes are the sandbox operator's: with HelseID enforced they need the operator's
token, which the suite takes from $SANDKASSE_OPERATOR_TOKEN (never from a file it writes).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit

import json

import httpx

from conformance.adapters import tls_context

OPERATOR_TOKEN_ENV = "SANDKASSE_OPERATOR_TOKEN"   # the sandbox operator's token, for the admin API


@dataclass
class LoggedRequest:
    seq: int
    method: str
    url: str                 # absolute, with query
    path: str                # relative to the tenant's FHIR base: "" for the intake, "EpisodeOfCare", ...
    headers: dict            # lower-case names
    body: object
    status: int
    response: object
    time: float | None = None  # when the platform received it (seconds since the epoch)
    truncated: list = field(default_factory=list)   # "body"/"response" cut at the platform's cap

    @classmethod
    def from_log(cls, row: dict) -> "LoggedRequest":
        """Tolerant of fields a newer platform adds (e.g. other_headers)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in known})

    @property
    def refusal(self) -> str | None:
        """What the platform said when it refused the request (its OperationOutcome's first
        error), or None when it was answered 2xx."""
        if 200 <= self.status < 300:
            return None
        issues = self.response.get("issue", []) if isinstance(self.response, dict) else []
        first = issues[0] if issues and isinstance(issues[0], dict) else {}
        text = " ".join(t for t in ((first.get("details") or {}).get("text"), first.get("diagnostics")) if t)
        return f"HTTP {self.status}: {text}" if text else f"HTTP {self.status}"

    @property
    def is_intake(self) -> bool:
        return self.method == "POST" and self.path in ("", "/")

    def entries(self) -> list[dict]:
        if not self.is_intake or not isinstance(self.body, dict):
            return []
        return [e for e in self.body.get("entry", []) if isinstance(e, dict)]


class SandboxPlatform:
    def __init__(self, platform_url: str, admin_url: str, auth: httpx.Auth | None = None,
                 event_hooks: dict | None = None, operator_token: str | None = None) -> None:
        self.platform_url = platform_url.rstrip("/")
        path = urlsplit(self.platform_url).path.strip("/").split("/")
        self.tenant = path[-2] if len(path) >= 2 and path[-1] == "fhir" else path[-1]
        # The suite's own HelseID client (--client-config), when the platform enforces HelseID.
        # The admin API is the operator's: its token when given, else (development flag) open.
        self.admin = httpx.Client(base_url=f"{admin_url.rstrip('/')}/admin/tenants/{self.tenant}/", timeout=15.0,
                                  verify=tls_context(), event_hooks=event_hooks,
                                  headers={"Authorization": f"Bearer {operator_token}"} if operator_token else None)
        self.fhir = httpx.Client(base_url=self.platform_url + "/", timeout=15.0, auth=auth, verify=tls_context(),
                                 event_hooks=event_hooks,
                                 headers={"Accept": "application/fhir+json"})

    def close(self) -> None:
        self.admin.close()
        self.fhir.close()

    # -- request log ---------------------------------------------------------------------------

    def requests_since(self, seq: int) -> list[LoggedRequest]:
        out, url, params = [], "requests", {"since": seq}
        while url:
            body = _admin_ok(self.admin.get(url, params=params)).json()
            out += [LoggedRequest.from_log(r) for r in body["requests"]]
            url, params = body.get("next"), None
        return out

    def last_seq(self) -> int:
        return int(_admin_ok(self.admin.get("requests", params={"since": 2**53})).json()["last"])

    # -- admin -----------------------------------------------------------------------------------

    def set_faults(self, faults: list[dict]) -> None:
        _admin_ok(self.admin.put("faults", json=faults))

    def clear_faults(self) -> None:
        _admin_ok(self.admin.put("faults", json=[]))

    def set_settings(self, settings: dict) -> None:
        """The tenant's test conditions, e.g. {"max_page_size": 5}."""
        _admin_ok(self.admin.put("settings", json=settings))

    def seed(self, bundles: list[dict]) -> dict:
        """Seeding takes NDJSON, one transaction Bundle a line, as from the cohort's bundles.ndjson."""
        lines = b"".join(json.dumps(b, ensure_ascii=False).encode() + b"\n" for b in bundles)
        response = self.admin.post("seed", content=lines, headers={"Content-Type": "application/x-ndjson"})
        return _admin_ok(response, "the suite's seed data").json()

    # -- FHIR --------------------------------------------------------------------------------

    def search_all(self, rtype: str, params: dict) -> list[dict]:
        out, url, query = [], rtype, dict(params)
        while url:
            response = self.fhir.get(url, params=query)
            response.raise_for_status()
            bundle = response.json()
            out += [e["resource"] for e in bundle.get("entry", [])
                    if e.get("search", {}).get("mode", "match") == "match"]
            url = next((l["url"] for l in bundle.get("link", []) if l["relation"] == "next"), None)
            query = None
        return out

    def read(self, reference: str) -> tuple[dict | None, str | None]:
        response = self.fhir.get(reference)
        if response.status_code != 200:
            return None, None
        return response.json(), response.headers.get("ETag")


def _admin_ok(response: httpx.Response, what: str = "") -> httpx.Response:
    """The sandbox's admin answer, or an error that says what to do (a setup error of the run,
    not a finding about the EPJ)."""
    if response.is_success:
        return response
    hint = (f" Give the sandbox operator's token in ${OPERATOR_TOKEN_ENV}."
            if response.status_code == 401 else "")
    raise RuntimeError(f"the sandbox's admin API refused {what or response.request.url.path} "
                       f"(HTTP {response.status_code}): {response.text[:2000]}{hint}")
