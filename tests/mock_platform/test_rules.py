"""Platform rules over HTTP: shared data is read-only for other systems, every access is audited,
a patient's sperring hides the blocked data from the blocked party and says so, and the vedtak's
free text is kept from consumers."""
from __future__ import annotations

from synthetic_data.identifiers import OID_ORGNR
from tests.mock_platform.fhir import ORG_B, bundle, episode, observation, organization, patient, sperring


def _load(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"), episode("e1", "p1"))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2), observation("o2", "p2"))).status_code == 200


def test_other_systems_cannot_change_or_delete_shared_data(api) -> None:
    _load(api)
    other = api.as_("epj-b", ORG_B)
    update = other.put("Observation/o1", observation("o1", "p1", value=10))
    assert update.status_code == 403
    issue = update.json()["issue"][0]
    assert issue["code"] == "forbidden"
    assert "belongs to source system 'epj-a'" in issue["details"]["text"]
    assert issue["details"]["coding"][0]["code"] == "sk-platform-read-only"
    assert "new resource" in issue["diagnostics"]
    assert other.http.delete("Observation/o1").status_code == 403
    assert api.get("Observation/o1").json()["valueQuantity"]["value"] == 80
    # ... but other systems read it, and add their own information about the patient.
    assert other.get("Observation/o1").status_code == 200
    assert other.put("Observation/b-1", observation("b-1", "p1", value=85)).status_code == 201
    # The source system itself may change its data.
    assert api.put("Observation/o1", observation("o1", "p1", value=81)).status_code == 200


def test_every_read_and_write_is_audited_and_the_trail_can_be_queried(api) -> None:
    _load(api)
    reader = api.as_("legevakt-epj", ORG_B)
    reader.http.headers["X-Sandkasse-Dev-Purpose"] = "ETREAT"
    assert reader.get("Observation/o1").status_code == 200
    assert reader.get("EpisodeOfCare", patient="p1").status_code == 200
    assert reader.put("Observation/o1", observation("o1", "p1", value=1)).status_code == 403
    trail = api.get("AuditEvent", patient="Patient/p1").json()
    events = [e["resource"] for e in trail["entry"]]
    subtypes = [e["subtype"][0]["code"] for e in events]
    assert subtypes[:3] == ["create", "create", "create"]            # the intake's writes
    assert {"read", "search"} <= set(subtypes[3:])
    read = next(e for e in events if e["subtype"][0]["code"] == "read")
    assert read["agent"][0]["who"]["identifier"]["value"] == "legevakt-epj"
    assert read["agent"][1]["who"]["identifier"] == {"system": OID_ORGNR, "value": ORG_B}
    assert read["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    assert {"reference": "Observation/o1"} in [e["what"] for e in read["entity"]]
    assert {"reference": "Patient/p1"} in [e["what"] for e in read["entity"]]
    assert read["recorded"].endswith("Z")
    # A patient's trail holds only that patient's accesses; single events can be read by id.
    assert all({"reference": "Patient/p1"} in [x["what"] for x in e["entity"]] for e in events)
    assert api.get(f"AuditEvent/{read['id']}").json()["id"] == read["id"]
    # AuditEvents are written by the platform only.
    assert api.post("AuditEvent", {"resourceType": "AuditEvent"}).status_code == 405


def test_sperring_hides_the_blocked_data_from_the_blocked_party_and_says_so(api) -> None:
    _load(api)
    blocked = api.as_("legevakt-epj", ORG_B)
    assert blocked.get("Observation/o1").status_code == 200
    # The patient blocks organisation ORG_B (given by a reference to its Organization resource).
    assert api.transaction(bundle(organization("legevakt", ORG_B, "Legevakten"))).status_code == 200
    consent = sperring("s1", "p1", {"reference": "Organization/legevakt"})
    assert api.transaction(bundle(consent)).status_code == 200
    read = blocked.get("Observation/o1")
    assert read.status_code == 403
    issue = read.json()["issue"][0]
    assert issue["code"] == "suppressed" and "sperring" in issue["details"]["text"]
    assert "Tell the user" in issue["diagnostics"]
    search = blocked.get("Observation", _count=10).json()
    matches = [e["resource"]["id"] for e in search["entry"] if e["search"]["mode"] == "match"]
    assert matches == ["o2"]                                       # the other patient's data is still there
    outcome = next(e for e in search["entry"] if e["search"]["mode"] == "outcome")
    assert outcome["resource"]["issue"][0]["code"] == "suppressed"
    assert "1 matching resources withheld" in outcome["resource"]["issue"][0]["details"]["text"]
    assert search["total"] == 1
    # The patient's identity stays visible, so the EPJ can show who is blocked.
    assert blocked.get("Patient/p1").status_code == 200
    # Others are not affected; the refused read is in the patient's audit trail.
    assert api.get("Observation/o1").status_code == 200
    trail = [e["resource"] for e in api.get("AuditEvent", patient="p1", _count=100).json()["entry"]]
    assert any(e["outcome"] == "4" and "sperring" in e.get("outcomeDesc", "") for e in trail)
    # The feed does not tell the blocked party about the blocked data either.
    feed = blocked.events()
    assert all(c["patient"] != "Patient/p1" or c["type"] == "Patient"
               for e in feed["events"] for c in e["changes"])
    assert feed["withheld"]["count"] >= 1


def test_sperring_narrowed_to_resource_types_and_a_practitioner_system(api) -> None:
    _load(api)
    consent = sperring("s2", "p1", {"identifier": {"system": "https://sandkasse.no/fhir/sid/helseid-client",
                                                   "value": "app-x"}}, classes=["EpisodeOfCare"])
    assert api.transaction(bundle(consent)).status_code == 200
    app = api.as_("app-x")
    assert app.get("EpisodeOfCare/e1").status_code == 403
    assert app.get("Observation/o1").status_code == 200
    included = app.get("Patient", _id="p1", _revinclude="EpisodeOfCare:patient").json()
    assert [e["resource"]["resourceType"] for e in included["entry"]] == ["Patient"]
    # Withdrawing the block (status inactive, by its source) gives access again.
    assert api.put("Consent/s2", dict(consent, status="inactive")).status_code == 200
    assert app.get("EpisodeOfCare/e1").status_code == 200


def test_vedtakstekst_is_only_shown_to_the_source_system(api) -> None:
    assert api.transaction(bundle(patient("p1"), episode("e1", "p1", text="Fritekst om vedtaket"))).status_code == 200
    own = api.get("EpisodeOfCare/e1").json()
    assert own["extension"][0]["valueString"] == "Fritekst om vedtaket"
    other = api.as_("epj-b").get("EpisodeOfCare/e1").json()
    assert "extension" not in other
    assert other["period"] == own["period"]
