"""Defects the generated runs found, each reproduced by one small request.

Fixed here (mock_platform/errors.py): a lone surrogate quoted in an answer. The others are in
code the robustness suite does not own; they are strict xfails that name the fix and fail the
day it lands (then remove the mark and the entry in known_bugs.py).
"""
from __future__ import annotations

import json

import httpx
import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.security.operator import DEV_OPERATOR_TOKEN
from tests.robustness.known_bugs import KNOWN, SQL_INTEGER_MAX, known_bug

HUGE = str(SQL_INTEGER_MAX + 1)


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


# One reproducing request per known bug (the xfail tests below send them and more).
_ENTRY = {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Patient"},
                                                                        "request": [1]}]}
REPRODUCTIONS = {
    "huge-integer-parameter": ("GET", f"/0301/fhir/Patient?_offset={HUGE}", None),
    "operator-body-not-an-object": ("POST", "/operator/reports/none/revoke", b"[1]"),
    "transaction-entry-request-not-an-object": ("POST", "/0301/fhir", json.dumps(_ENTRY).encode()),
}


def test_every_known_bug_is_recognised_exactly() -> None:
    assert set(KNOWN) == set(REPRODUCTIONS)
    for name, (method, url, body) in REPRODUCTIONS.items():
        assert known_bug(method, url, 500, body) == name
        assert known_bug(method, url, 400, body) is None            # only the 500 it causes
    assert known_bug("GET", "/0301/fhir/Patient?_offset=5", 500) is None
    assert known_bug("POST", "/0301/fhir", 500, b'{"entry": [{"request": {"method": "PUT"}}]}') is None


@pytest.mark.xfail(strict=True, reason="fhir_api._paging, search._result_param, feed._int and fhir_api.vread pass "
                                       "integers beyond 64 bits to SQL (OverflowError, 500); they should answer 400")
@pytest.mark.parametrize("url", [f"/0301/fhir/Patient?_offset={HUGE}", f"/0301/fhir/Patient/_history?_offset={HUGE}",
                                 f"/0301/fhir/AuditEvent?_offset={HUGE}", f"/0301/events?since={HUGE}",
                                 f"/0301/fhir/Patient/p1/_history/{HUGE}"])
def test_huge_integers_are_refused_with_400(server, url: str) -> None:
    response = httpx.get(server.url + url)
    _outcome(response, 400 if "/_history/" not in url else 404)


@pytest.mark.xfail(strict=True, reason="operator.views.revoke and .issue: (request.get_json(silent=True) or {}).get "
                                       "on a list/string/number body; should refuse a non-object body with 400")
@pytest.mark.parametrize("action", ["reports/none/revoke", "runs/none/issue"])
@pytest.mark.parametrize("body", ["[1]", '"x"', "5"])
def test_operator_actions_with_a_body_that_is_not_an_object_are_400(server, action: str, body: str) -> None:
    response = httpx.post(f"{server.url}/operator/{action}", content=body,
                          headers={"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}", "Content-Type": "application/json"})
    _outcome(response, 400)


@pytest.mark.xfail(strict=True, reason="intake._entry: item.get('request') or {} then .get on it; a request that is "
                                       "a list/string/number/true is a 500; should be a 422 issue at "
                                       "Bundle.entry[i].request")
@pytest.mark.parametrize("request_value", [[1], "PUT", 5, True])
def test_a_transaction_entry_whose_request_is_not_an_object_is_refused(server, request_value) -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}, "request": request_value}]}
    response = httpx.post(f"{server.url}/0301/fhir", json=bundle, headers={"Content-Type": "application/fhir+json"})
    _outcome(response, 422)
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[0].request"]


@pytest.mark.xfail(strict=True, reason="admin._seed_cohort: a tenant started from PlatformConfig(tenants=...) with an "
                                       "id that is not a kommunenummer gets it as its kommunenummer; write_cohort's "
                                       "ValueError becomes a 500; should be a 422 with the fix")
def test_seeding_a_cohort_into_a_tenant_without_kommunenummer_is_refused_cleanly(server) -> None:
    response = httpx.post(f"{server.url}/admin/tenants/acme/seed", json={"cohort": {"size": 1, "seed": 1}},
                          headers={"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}"}, timeout=30)
    assert response.status_code < 500, response.text


@pytest.mark.xfail(strict=True, reason="server._QuietHandler: werkzeug's request handler (http.server) answers a "
                                       "header line over 64 KB or more than 100 headers itself, with an HTML 431 page; "
                                       "override send_error to answer an OperationOutcome (code too-costly, the fix: "
                                       "send smaller headers)")
@pytest.mark.parametrize("headers", [{"Authorization": "DPoP " + "A" * 70_000},
                                     {f"X-Many-{i}": "y" for i in range(120)}])
def test_oversized_headers_are_refused_with_an_operation_outcome(server, headers: dict) -> None:
    response = httpx.get(f"{server.url}/0301/fhir/Patient", headers=headers)
    assert 400 <= response.status_code < 500
    _outcome(response, response.status_code)
