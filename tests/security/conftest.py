"""A platform in full HelseID mode over real HTTP, and vendors' clients registered with it."""
from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conformance.auth import HelseIdAuth, HelseIdClientConfig, dpop
from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.security import protect_fhir_api

ORG_OSLO = "310000000"        # synthetic organisation numbers (Tenor space, mod-11)
ORG_OSLO_CHILD = "310000019"
ORG_BERGEN = "310000027"
API = "nhn:sandkasse-plattform"

# One trust store for every test client: httpx loads the CA bundle for each new client (~0.15 s),
# even for plain-HTTP URLs. The TLS tests use their own contexts with the sandbox CA.
TLS = ssl.create_default_context()
HTTP = httpx.Client(verify=TLS, timeout=30)
READ = [f"{API}/kommunale-tjenester.read", f"{API}/news2-malinger.read"]
WRITE = [f"{API}/kommunale-tjenester.write"]


@dataclass
class SecurePlatform:
    url: str
    app: object

    @property
    def issuer(self) -> str:
        return f"{self.url}/helseid"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/connect/token"

    def fhir(self, tenant: str = "0301") -> str:
        return f"{self.url}/{tenant}/fhir"

    def register(self, *, scopes: list[str] = READ, organisation: str = ORG_OSLO, tenancy: str = "single",
                 children: list[str] = (), key_kind: str = "EC") -> HelseIdClientConfig:
        """Register a client the way `sandkasse client register` does: only the public key leaves."""
        key = dpop.generate_key(key_kind)
        response = HTTP.post(f"{self.issuer}/admin/clients", json={
            "client_name": "test EPJ", "jwk": dpop.public_jwk(key), "scopes": list(scopes),
            "organisations": [organisation], "tenancy": tenancy, "children": list(children)})
        assert response.status_code == 201, response.text
        return HelseIdClientConfig(issuer=self.issuer, client_id=response.json()["client_id"], scopes=list(scopes),
                                   organisation={"parent": organisation}, tenancy=tenancy,
                                   private_jwk=key.as_dict(private=True))


def _start(folder: Path):
    app = create_app(PlatformConfig(database=str(folder / "platform.sqlite3"), tenants=("0301", "4601"),
                                    auth="helseid",
                                    extra={"TENANT_ORGANISATIONS": {"0301": [ORG_OSLO], "4601": [ORG_BERGEN]}}))
    protect_fhir_api(app)
    return app


@pytest.fixture(scope="module")
def secure_platform(tmp_path_factory: pytest.TempPathFactory):
    """One platform per test module: every test registers its own clients, so they do not meet.
    Tests that change the platform's registries use `fresh_platform`."""
    app = _start(tmp_path_factory.mktemp("secure"))
    with start_in_thread(app) as server:
        yield SecurePlatform(server.url, app)


@pytest.fixture()
def fresh_platform(tmp_path: Path):
    app = _start(tmp_path)
    with start_in_thread(app) as server:
        yield SecurePlatform(server.url, app)


@pytest.fixture(scope="module")
def patient(secure_platform: SecurePlatform, small_cohort: Path) -> dict:
    """One synthetic patient stored in tenant 0301 through the intake, with a write token
    (once per platform: the writing client becomes the patient's source system)."""
    first = json.loads((small_cohort / "Patient.ndjson").read_text(encoding="utf-8").splitlines()[0])
    writer = secure_platform.register(scopes=WRITE)
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": first, "request": {"method": "PUT", "url": f"Patient/{first['id']}"}}]}
    with httpx.Client(verify=TLS, auth=HelseIdAuth(writer)) as client:
        response = client.post(secure_platform.fhir(), json=bundle,
                               headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 200, response.text
    return first


def issue_text(response: httpx.Response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return " ".join(i["details"]["text"] + " " + i.get("diagnostics", "") for i in body["issue"])


def rule_of(response: httpx.Response) -> str:
    return response.json()["issue"][0]["details"]["coding"][0]["code"]
