"""The suite's view of the sandbox platform, over HTTP only (it never imports mock_platform).

- the request log `GET [admin]/admin/tenants/<t>/requests?since=<seq>`: every request that
  reached the tenant's FHIR base, with the headers that carry identity (Authorization, DPoP),
  the body, and the platform's answer: what arrived in the intake, as the EPJ sent it;
- fault injection `PUT [admin]/admin/tenants/<t>/faults` and seeding `POST .../seed`;
- the tenant's FHIR API for what was stored (search, read, history).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import json

import httpx

from conformance.adapters import tls_context


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

    @property
    def is_intake(self) -> bool:
        return self.method == "POST" and self.path in ("", "/")

    def entries(self) -> list[dict]:
        if not self.is_intake or not isinstance(self.body, dict):
            return []
        return [e for e in self.body.get("entry", []) if isinstance(e, dict)]


class SandboxPlatform:
    def __init__(self, platform_url: str, admin_url: str, auth: httpx.Auth | None = None,
                 event_hooks: dict | None = None) -> None:
        self.platform_url = platform_url.rstrip("/")
        path = urlsplit(self.platform_url).path.strip("/").split("/")
        self.tenant = path[-2] if len(path) >= 2 and path[-1] == "fhir" else path[-1]
        # The suite's own HelseID client (--client-config), when the platform enforces HelseID.
        self.admin = httpx.Client(base_url=f"{admin_url.rstrip('/')}/admin/tenants/{self.tenant}/", timeout=15.0,
                                  auth=auth, verify=tls_context(), event_hooks=event_hooks)
        self.fhir = httpx.Client(base_url=self.platform_url + "/", timeout=15.0, auth=auth, verify=tls_context(),
                                 event_hooks=event_hooks,
                                 headers={"Accept": "application/fhir+json"})

    def close(self) -> None:
        self.admin.close()
        self.fhir.close()

    # -- request log ---------------------------------------------------------------------------

    def requests_since(self, seq: int) -> list[LoggedRequest]:
        response = self.admin.get("requests", params={"since": seq})
        response.raise_for_status()
        return [LoggedRequest(**r) for r in response.json()["requests"]]

    def last_seq(self) -> int:
        response = self.admin.get("requests", params={"since": 2**53})
        response.raise_for_status()
        return int(response.json()["last"])

    # -- admin -----------------------------------------------------------------------------------

    def set_faults(self, faults: list[dict]) -> None:
        self.admin.put("faults", json=faults).raise_for_status()

    def clear_faults(self) -> None:
        self.admin.put("faults", json=[]).raise_for_status()

    def seed(self, bundle: dict) -> dict:
        """Seeding takes NDJSON, one transaction Bundle a line, as from the cohort's bundles.ndjson."""
        response = self.admin.post("seed", content=json.dumps(bundle, ensure_ascii=False).encode() + b"\n",
                                   headers={"Content-Type": "application/x-ndjson"})
        response.raise_for_status()
        return response.json()

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
