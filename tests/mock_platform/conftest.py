"""Fixtures of the platform tests: a real platform over HTTP on each storage backend."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from tests.mock_platform.fhir import ORG_A


class Api:
    """A thin httpx client for one tenant, acting as a named source system (dev-mode headers)."""

    def __init__(self, root: str, tenant: str = "0301", client: str = "epj-a", org: str | None = ORG_A,
                 purpose: str = "TREAT"):
        self.root, self.tenant = root, tenant
        self.base = f"{root}/{tenant}/fhir"
        headers = {"X-Sandkasse-Dev-Client": client, "X-Sandkasse-Dev-Purpose": purpose}
        if org:
            headers["X-Sandkasse-Dev-Org"] = org
        self.http = httpx.Client(base_url=self.base + "/", headers=headers, timeout=30.0)

    def as_(self, client: str, org: str | None = None, tenant: str | None = None) -> "Api":
        return Api(self.root, tenant or self.tenant, client, org)

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params=params or None)

    def post(self, path: str, body: dict, **headers) -> httpx.Response:
        return self.http.post(path, json=body, headers=headers)

    def put(self, path: str, body: dict, **headers) -> httpx.Response:
        return self.http.put(path, json=body, headers=headers)

    def transaction(self, bundle: dict) -> httpx.Response:
        return self.http.post(self.base, json=bundle)

    def events(self, **params) -> dict:
        response = self.http.get(f"{self.root}/{self.tenant}/events", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def admin(self, method: str, path: str, **kwargs) -> httpx.Response:
        return self.http.request(method, f"{self.root}/admin{path}", **kwargs)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "platform.sqlite3")
    return request.getfixturevalue("postgres_cluster").create_schema()


@pytest.fixture()
def server(database: str):
    app = create_app(PlatformConfig(database=database, tenants=("0301", "4601"), auth="off-dev"))
    with start_in_thread(app) as running:
        yield running
    app.extensions["sandkasse.storage"].close()


@pytest.fixture()
def api(server) -> Api:
    return Api(server.url)
