"""The intake (meldingsmottak): validation, atomicity, the real-data guard, patient consistency."""
from __future__ import annotations

from tests.mock_platform.fhir import bundle, episode, observation, patient


def _issues(response) -> list[dict]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"]


def test_valid_bundle_is_stored_as_one_event(api) -> None:
    response = api.transaction(bundle(patient("p1"), observation("o1", "p1"), episode("e1", "p1")))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 3
    assert result["entry"][1]["response"]["location"] == "Observation/o1/_history/1"
    feed = api.events()
    assert [e["seq"] for e in feed["events"]] == [1]
    assert {c["reference"] for c in feed["events"][0]["changes"]} == {
        "Patient/p1/_history/1", "Observation/o1/_history/1", "EpisodeOfCare/e1/_history/1"}
    stored = api.get("Observation/o1").json()
    assert stored["meta"]["versionId"] == "1"
    assert stored["meta"]["source"].endswith("/epj-a")


def test_invalid_bundle_is_rejected_whole_with_every_error_and_fix(api) -> None:
    bad_gender = dict(patient("p1"), gender="kvinne")
    bad_obs = dict(observation("o1", "p1"), status="ferdig")
    response = api.transaction(bundle(bad_gender, bad_obs, episode("e1", "p1")))
    assert response.status_code == 422
    issues = _issues(response)
    where = {e for issue in issues for e in issue.get("expression", [])}
    assert "Bundle.entry[0].resource.gender" in where
    assert "Bundle.entry[1].resource.status" in where
    assert all(issue["diagnostics"].startswith("Fix: ") for issue in issues if issue["severity"] == "error")
    # Nothing of it was stored: not the valid EpisodeOfCare, and no event.
    assert api.get("EpisodeOfCare/e1").status_code == 404
    assert api.get("Patient", identifier=patient("p1")["identifier"][0]["value"]).json()["total"] == 0
    assert api.events()["events"] == []


def test_a_refusal_inside_the_transaction_rolls_back_everything(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"))).status_code == 200
    # epj-b sends a new observation together with a change to epj-a's: the change is refused
    # (read-only), so the new observation must not be stored either.
    other = api.as_("epj-b")
    response = other.transaction(bundle(observation("o2", "p1"), observation("o1", "p1", value=99)))
    assert response.status_code == 403
    assert api.get("Observation/o2").status_code == 404
    assert api.get("Observation/o1").json()["valueQuantity"]["value"] == 80
    assert [e["seq"] for e in api.events()["events"]] == [1]


def test_real_looking_national_id_is_refused_and_nothing_stored(api) -> None:
    real = patient("p1")
    real["identifier"][0]["value"] = "01015012345"[:9] + "00"
    from synthetic_data.identifiers import classify, control_digits
    number = "010150123" + control_digits("010150123")      # an ordinary (non-synthetic) birth month
    assert classify(number).real_looking
    real["identifier"][0]["value"] = number
    response = api.transaction(bundle(real, observation("o1", "p1")))
    assert response.status_code == 422
    issue = next(i for i in _issues(response) if i["details"]["coding"][0]["code"] == "sk-platform-real-data-guard")
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier[0].value"]
    assert "month + 80" in issue["diagnostics"]
    assert api.get("Patient/p1").status_code == 404


def test_one_write_must_name_one_patient(api) -> None:
    response = api.transaction(bundle(patient("p1"), patient("p2", 2), observation("o1", "p1")))
    assert response.status_code == 422
    issue = _issues(response)[0]
    assert issue["details"]["coding"][0]["code"] == "sk-platform-patient-consistency"
    assert issue["expression"] == ["Bundle.entry[1].resource"]
    assert "one write must concern one patient" in issue["details"]["text"]


def test_documentation_on_an_unknown_patient_is_refused(api) -> None:
    response = api.transaction(bundle(observation("o1", "nobody")))
    assert response.status_code == 422
    assert "Patient/nobody does not exist" in _issues(response)[0]["details"]["text"]


def test_moving_a_resource_to_another_patient_is_refused(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2))).status_code == 200
    response = api.put("Observation/o1", observation("o1", "p2"))
    assert response.status_code == 422
    assert "is documented on Patient/p1" in _issues(response)[0]["details"]["text"]
    assert api.get("Observation/o1").json()["subject"]["reference"] == "Patient/p1"


def test_audit_events_and_unknown_types_cannot_be_sent(api) -> None:
    audit = {"resourceType": "AuditEvent", "id": "a1"}
    unknown = {"resourceType": "Basic", "id": "b1"}
    response = api.transaction(bundle(audit, unknown))
    assert response.status_code == 422
    codes = [i["code"] for i in _issues(response)]
    assert codes == ["forbidden", "not-supported"]


def test_posted_entries_get_ids_and_references_are_resolved(api) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    obs = observation("tmp", "p1")
    entry_bundle = bundle(obs, method="POST")
    response = api.transaction(entry_bundle)
    assert response.status_code == 200
    location = response.json()["entry"][0]["response"]["location"]
    assert location.startswith("Observation/") and "tmp" not in location
    assert api.get(location.split("/_history")[0]).json()["subject"]["reference"] == "Patient/p1"


def test_not_a_transaction_is_refused(api) -> None:
    response = api.transaction({"resourceType": "Bundle", "type": "batch", "entry": []})
    assert response.status_code == 400
    assert _issues(response)[0]["expression"] == ["Bundle.type"]
    response = api.http.post(api.base, content=b"{not json", headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 400
