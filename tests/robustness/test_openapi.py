"""The platform's OpenAPI description (GET /openapi.json) describes exactly the routes it serves."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis

from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.openapi import SKIPPED_METHODS
from mock_platform.searchparams import registry, served_types
from mock_platform.security.scopes import policy


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """A platform with HelseID enforced: the description is public, like /metadata."""
    folder = tmp_path_factory.mktemp("openapi")
    app = create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=("0301",), auth="helseid"))
    with start_in_thread(app) as server:
        response = httpx.get(f"{server.url}/openapi.json")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        yield app, response.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_route_of_the_url_map_is_described(served) -> None:
    app, document = served
    described = {(op["x-flask-rule"], method) for _, method, op in _operations(document)}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - SKIPPED_METHODS:
            assert (rule.rule, method) in described, f"{method} {rule.rule} ({rule.endpoint}) is not described"
    # ...and nothing that is not served: every described operation names a rule of the url_map.
    rules = {(r.rule, r.endpoint) for r in app.url_map.iter_rules()}
    assert {(op["x-flask-rule"], op["x-flask-endpoint"]) for _, _, op in _operations(document)} <= rules


def test_every_resource_type_has_its_operations_and_search_parameters(served) -> None:
    _, document = served
    for rtype in served_types():
        search = document["paths"][f"/{{tenant}}/fhir/{rtype}"]["get"]
        names = {p["name"] for p in search["parameters"] if p["in"] == "query"}
        expected = set(registry()[rtype].params) if rtype in registry() else {"patient"}
        assert expected | {"_id", "_count"} <= names, rtype
        assert "get" in document["paths"][f"/{{tenant}}/fhir/{rtype}/{{rid}}"]
    for rtype in registry():
        item = document["paths"][f"/{{tenant}}/fhir/{rtype}/{{rid}}"]
        assert {"put", "delete"} <= set(item), rtype
    assert "put" not in document["paths"]["/{tenant}/fhir/AuditEvent/{rid}"]   # written by the platform only


def test_security_says_which_scope_each_operation_needs(served) -> None:
    _, document = served
    read = document["paths"]["/{tenant}/fhir/EpisodeOfCare"]["get"]["security"]
    assert read == [{"helseid": [f"{policy().audience}/kommunale-tjenester.read"]}]
    write = document["paths"]["/{tenant}/fhir/Observation/{rid}"]["put"]["security"]
    assert write == [{"helseid": [f"{policy().audience}/news2-malinger.write"]}]
    assert document["paths"]["/{tenant}/fhir/metadata"]["get"]["security"] == []
    assert document["paths"]["/admin/tenants"]["post"]["security"] == [{"operator": []}]
    schemes = document["components"]["securitySchemes"]
    assert set(schemes["helseid"]["flows"]["clientCredentials"]["scopes"]) == set(policy().all_scopes())
    assert schemes["helseid"]["flows"]["clientCredentials"]["tokenUrl"] == "/helseid/connect/token"


def test_errors_are_operation_outcomes_with_login_hints(served) -> None:
    _, document = served
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            if int(status) >= 400 and "application/fhir+json" in content:
                assert content["application/fhir+json"]["schema"] == {"$ref": "#/components/schemas/OperationOutcome"}
            if status == "401" and "text/html" not in content:
                assert response["headers"]["WWW-Authenticate"]["required"], f"{method} {path}"


def test_the_development_flag_is_stated(tmp_path: Path) -> None:
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="off-dev"))
    document = app.test_client().get("/openapi.json").get_json()
    assert "development flag" in document["info"]["description"]
    assert {} in document["paths"]["/{tenant}/fhir/Patient"]["get"]["security"]   # anyone may call


def test_schemathesis_loads_every_operation(served) -> None:
    _, document = served
    schema = schemathesis.openapi.from_dict(document)
    loaded = [result.ok() for result in schema.get_all_operations()]
    assert len(loaded) == sum(1 for _ in _operations(document))
