"""Helpers of the operator tests: a platform with the operator's token and a movable clock."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx

from synthetic_data.identifiers import synthetic_orgnr

OPERATOR_TOKEN = "op-test-token"


def orgnr(seed: int) -> str:
    return synthetic_orgnr(random.Random(seed))


@dataclass
class Clock:
    """Starts at the real time (so the CLI, which uses the real clock, agrees); tests move it."""
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Operator:
    url: str
    clock: Clock
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def call(self, method: str, path: str, token: str | None = OPERATOR_TOKEN, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {}) | ({"Authorization": f"Bearer {token}"} if token else {})
        return self.http.request(method, path, headers=headers, **kwargs)

    def add_vendor(self, org: str, name: str) -> str:
        response = self.call("POST", "/operator/vendors", json={"vendor_org": org, "name": name})
        assert response.status_code == 201, response.text
        return response.json()["api_key"]

    def record(self, org: str, report: dict, product: str = "EksJournal", version: str = "4.2.1") -> dict:
        response = self.call("POST", "/operator/runs", json={
            "vendor_org": org, "product": product, "version": version,
            "roles": ["source-system"], "report": report})
        assert response.status_code == 201, response.text
        return response.json()

    def issue(self, run_id: str, days: float = 365) -> httpx.Response:
        return self.call("POST", f"/operator/runs/{run_id}/issue", json={"validity_days": days})
