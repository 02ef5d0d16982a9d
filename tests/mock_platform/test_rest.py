"""FHIR REST: read, vread, _history, create, update with ETag/If-Match, conditional create, delete."""
from __future__ import annotations

from conformance.validator import Validator
from tests.mock_platform.fhir import bundle, observation, patient


def _load(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"))).status_code == 200


def test_read_vread_and_history(api) -> None:
    _load(api)
    first = api.get("Observation/o1")
    assert first.status_code == 200 and first.headers["ETag"] == 'W/"1"'
    assert first.headers["content-type"].startswith("application/fhir+json")
    updated = api.put("Observation/o1", observation("o1", "p1", value=95), **{"If-Match": 'W/"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == 'W/"2"'
    assert api.get("Observation/o1").json()["valueQuantity"]["value"] == 95
    assert api.get("Observation/o1/_history/1").json()["valueQuantity"]["value"] == 80
    history = api.get("Observation/o1/_history").json()
    assert history["type"] == "history" and history["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
    missing = api.get("Observation/o1/_history/7")
    assert missing.status_code == 404 and "has no version" in missing.json()["issue"][0]["details"]["text"]


def test_if_match_mismatch_is_412_and_changes_nothing(api) -> None:
    _load(api)
    assert api.put("Observation/o1", observation("o1", "p1", value=90), **{"If-Match": 'W/"1"'}).status_code == 200
    stale = api.put("Observation/o1", observation("o1", "p1", value=70), **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    issue = stale.json()["issue"][0]
    assert "does not match the current version 2" in issue["details"]["text"]
    assert "ETag" in issue["diagnostics"]
    assert api.get("Observation/o1").json()["valueQuantity"]["value"] == 90


def test_conditional_create_is_idempotent(api) -> None:
    _load(api)
    obs = observation("ignored", "p1", value=77)
    obs["identifier"] = [{"system": "urn:epj-a:maaling", "value": "M-1"}]
    condition = {"If-None-Exist": "identifier=urn:epj-a:maaling|M-1"}
    first = api.post("Observation", obs, **condition)
    assert first.status_code == 201
    assert first.headers["Location"].startswith(f"{api.base}/Observation/")
    again = api.post("Observation", obs, **condition)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert api.get("Observation", identifier="urn:epj-a:maaling|M-1").json()["total"] == 1
    assert len(api.events()["events"]) == 2     # the resend changed nothing, and made no event


def test_delete_keeps_history(api) -> None:
    _load(api)
    response = api.http.delete("Observation/o1")
    assert response.status_code == 204
    gone = api.get("Observation/o1")
    assert gone.status_code == 410
    assert "_history" in gone.json()["issue"][0]["diagnostics"]
    assert api.get("Observation/o1/_history/1").status_code == 200
    history = api.get("Observation/o1/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    assert api.get("Observation", patient="p1").json()["total"] == 0


def test_update_of_unknown_id_creates(api) -> None:
    _load(api)
    response = api.put("Observation/new-1", observation("new-1", "p1"))
    assert response.status_code == 201
    mismatch = api.put("Observation/new-2", observation("other", "p1"))
    assert mismatch.status_code == 400
    assert mismatch.json()["issue"][0]["expression"] == ["Observation.id"]


def test_capability_statement_states_what_is_supported(api) -> None:
    statement = api.get("metadata").json()
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    assert {"Patient", "EpisodeOfCare", "Observation", "Consent", "AuditEvent"} <= set(by_type)
    observation_params = {p["name"] for p in by_type["Observation"]["searchParam"]}
    assert {"patient", "subject", "code", "category", "date", "status", "_lastUpdated"} <= observation_params
    assert by_type["Observation"]["conditionalCreate"] is True
    assert by_type["Observation"]["versioning"] == "versioned-update"
    assert [i["code"] for i in by_type["AuditEvent"]["interaction"]] == ["read", "search-type"]
    assert {"code": "transaction"} in rest["interaction"]
    assert statement["instantiates"] == ["https://sandkasse.no/fhir/CapabilityStatement/sk-server"]
    errors = [i for i in Validator.default().validate(statement) if i.severity in ("error", "fatal")]
    assert errors == [], [f"{i.expression}: {i.message}" for i in errors]


def test_validate_operation(api) -> None:
    good = api.post("$validate", {"resourceType": "Parameters",
                                  "parameter": [{"name": "resource", "resource": patient("p9")}]})
    assert good.status_code == 200
    assert all(i["severity"] not in ("error", "fatal") for i in good.json()["issue"])
    bad = api.post("Observation/$validate", dict(observation("o9", "p9"), status="ferdig"))
    assert bad.status_code == 200
    errors = [i for i in bad.json()["issue"] if i["severity"] == "error"]
    assert errors and errors[0]["expression"] == ["Observation.status"]
    assert api.get("Observation/o9").status_code == 404


def test_unknown_resource_type_and_tenant(api) -> None:
    response = api.get("Basic/x")
    assert response.status_code == 404 and "Supported types" in response.json()["issue"][0]["diagnostics"]
    response = api.http.get(f"{api.root}/9999/fhir/metadata")
    assert response.status_code == 404 and "Unknown tenant" in response.json()["issue"][0]["details"]["text"]
