"""Defects the generated runs (schemathesis, hypothesis) found, each kept as one small request
that reproduced it: a lone surrogate quoted in an answer, integers beyond 64 bits reaching SQL, a
transaction entry whose request is not an object, operator actions with a non-object body, seeding
a tenant without a kommunenummer, and oversized headers answered by http.server's HTML page.
"""
from __future__ import annotations

import json

import httpx
import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.security.operator import DEV_OPERATOR_TOKEN

HUGE = str(2**63)   # one past the largest integer SQL takes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("bugs")
    app = create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=("0301", "acme"), auth="off-dev"))
    with start_in_thread(app) as running:
        yield running


def _outcome(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("rtype, body", [
    ("Practitioner", b'{"resourceType": "Practitioner", "\\ud800": 1}'),
    ("Patient", b'{"resourceType": "Patient", "name": [{"\\udfff\\ud800x": []}]}')])
def test_a_lone_surrogate_in_the_body_is_quoted_not_a_500(server, rtype: str, body: bytes) -> None:
    response = httpx.post(f"{server.url}/0301/fhir/{rtype}", content=body,
                          headers={"Content-Type": "application/fhir+json"})
    assert response.status_code in (400, 422), response.text
    text = json.loads(response.content.decode("utf-8"))["issue"][0]["details"]["text"]
    assert "\ud800" in text            # quoted as the JSON escape it came in as


@pytest.mark.parametrize("url", [f"/0301/fhir/Patient?_offset={HUGE}", f"/0301/fhir/Patient/_history?_offset={HUGE}",
                                 f"/0301/fhir/AuditEvent?_offset={HUGE}", f"/0301/events?since={HUGE}",
                                 f"/admin/tenants/0301/requests?since={HUGE}", "/0301/fhir/Patient?_count=%C2%B2",
                                 f"/0301/fhir/Patient/p1/_history/{HUGE}"])
def test_huge_integers_are_refused_with_400(server, url: str) -> None:
    response = httpx.get(server.url + url)
    _outcome(response, 400 if "/_history/" not in url else 404)


@pytest.mark.parametrize("action", ["reports/none/revoke", "runs/none/issue"])
@pytest.mark.parametrize("body", ["[1]", '"x"', "5"])
def test_operator_actions_with_a_body_that_is_not_an_object_are_400(server, action: str, body: str) -> None:
    response = httpx.post(f"{server.url}/operator/{action}", content=body,
                          headers={"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}", "Content-Type": "application/json"})
    _outcome(response, 400)


@pytest.mark.parametrize("request_value", [[1], "PUT", 5, True])
def test_a_transaction_entry_whose_request_is_not_an_object_is_refused(server, request_value) -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}, "request": request_value}]}
    response = httpx.post(f"{server.url}/0301/fhir", json=bundle, headers={"Content-Type": "application/fhir+json"})
    _outcome(response, 422)
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[0].request"]


def test_a_vendor_tenant_from_the_config_is_seeded_as_a_copy_of_the_default_municipality(server) -> None:
    response = httpx.post(f"{server.url}/admin/tenants/acme/seed", json={"cohort": {"size": 1, "seed": 1}},
                          headers={"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["loaded_bundles"] >= 1


def test_seeding_a_cohort_for_an_unknown_kommunenummer_is_refused_with_the_fix(server) -> None:
    operator = {"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}"}
    created = httpx.post(f"{server.url}/admin/tenants", json={"id": "nowhere", "kind": "vendor", "kommunenummer": "9999"},
                         headers=operator)
    assert created.status_code == 201, created.text
    response = httpx.post(f"{server.url}/admin/tenants/nowhere/seed", json={"cohort": {"size": 1, "seed": 1}},
                          headers=operator, timeout=30)
    _outcome(response, 422)
    assert "kommunenummer" in response.json()["issue"][0]["details"]["text"] + response.json()["issue"][0].get("diagnostics", "")


@pytest.mark.parametrize("headers", [{"Authorization": "DPoP " + "A" * 70_000},
                                     {f"X-Many-{i}": "y" for i in range(120)}])
def test_oversized_headers_are_refused_with_an_operation_outcome(server, headers: dict) -> None:
    response = httpx.get(f"{server.url}/0301/fhir/Patient", headers=headers)
    assert 400 <= response.status_code < 500
    _outcome(response, response.status_code)
