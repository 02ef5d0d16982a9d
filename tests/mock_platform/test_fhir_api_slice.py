import httpx

from sandbox.loop import load_cohort


def test_unknown_resource_is_operation_outcome_with_fix(platform) -> None:
    response = httpx.get(f"{platform.url}/0301/fhir/Patient/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"
    assert body["issue"][0]["diagnostics"].startswith("Fix: ")


def test_unknown_tenant_is_refused(platform) -> None:
    response = httpx.get(f"{platform.url}/9999/fhir/metadata")
    assert response.status_code == 404
    assert "Unknown tenant" in response.json()["issue"][0]["details"]["text"]


def test_invalid_transaction_stores_nothing(platform, small_cohort) -> None:
    base = f"{platform.url}/0301/fhir"
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "id": "ok-1"}},
        {"resource": {"resourceType": "Patient"}},  # no id: the whole bundle must be refused
    ]}
    response = httpx.post(base, json=bad)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource"]
    assert httpx.get(f"{base}/Patient/ok-1").status_code == 404


def test_loaded_patient_is_found_by_identifier(platform, small_cohort) -> None:
    base = f"{platform.url}/0301/fhir"
    lines = (small_cohort / "bundles.ndjson").read_text(encoding="utf-8").splitlines()
    assert load_cohort(base, small_cohort) == len(lines)
    import json
    first = json.loads((small_cohort / "Patient.ndjson").read_text().splitlines()[0])
    fnr = first["identifier"][0]
    bundle = httpx.get(f"{base}/Patient", params={"identifier": f"{fnr['system']}|{fnr['value']}"}).json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [first["id"]]
    assert bundle["entry"][0]["resource"]["meta"]["versionId"] == "1"
