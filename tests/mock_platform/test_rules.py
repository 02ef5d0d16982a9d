"""Platform rules over HTTP: shared data is read-only for other systems, every access is audited,
a patient's sperring hides the blocked data from the blocked party and says so, and the vedtak's
free text is kept from consumers."""
from __future__ import annotations

from conformance.validator import Validator
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
    # The refused update is in the patient's trail: who tried to change what, refused.
    refused = [e for e in events if e["outcome"] == "4"]
    assert [(e["subtype"][0]["code"], e["agent"][0]["who"]["identifier"]["value"]) for e in refused] == \
        [("update", "legevakt-epj")]
    assert {"reference": "Observation/o1"} in [e["what"] for e in refused[0]["entity"]]
    assert "read-only" in refused[0]["outcomeDesc"]
    # Every AuditEvent meets the guide's profile (sk-auditevent), a look at an empty feed's too.
    assert reader.events(since=reader.events()["head"])["events"] == []
    everything = [e["resource"] for e in api.get("AuditEvent", _count=500).json()["entry"]]
    assert any(e["entity"][0]["what"] == {"display": "event feed"} for e in everything)
    assert [(e["id"], i.expression, i.message) for e in everything
            for i in Validator.default().validate(e) if i.severity in ("error", "fatal")] == []
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


# Restricted notes ----------------------------------------------------------------------------------

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


def note(nid: str, pid: str, restricted: bool = False, text: str = "Notat") -> dict:
    """A journal note (DocumentReference); restricted = internal-only (meta.security R)."""
    resource = {"resourceType": "DocumentReference", "id": nid, "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": "34109-9"}], "text": "Notat"},
                "subject": {"reference": f"Patient/{pid}"}, "date": "2025-03-01T10:00:00Z",
                "content": [{"attachment": {"contentType": "text/plain", "data": "Tm90YXQ=", "title": text}}]}
    if restricted:
        resource["meta"] = {"security": [{"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}]}
    return resource


def test_restricted_notes_are_withheld_from_other_organisations_and_they_are_told(api) -> None:
    assert api.transaction(bundle(patient("p1"), note("intern", "p1", restricted=True),
                                  note("delt", "p1"))).status_code == 200
    assert api.put("DocumentReference/intern", dict(note("intern", "p1", restricted=True),
                                                    status="superseded")).status_code == 200
    other = api.as_("epj-b", ORG_B)
    # Read and vread: 403 suppressed with the restricted rule, and the refusal is audited.
    for path in ("DocumentReference/intern", "DocumentReference/intern/_history/1"):
        refused = other.get(path)
        assert refused.status_code == 403, path
        issue = refused.json()["issue"][0]
        assert issue["code"] == "suppressed"
        assert issue["details"]["coding"][0]["code"] == "sk-platform-restricted"
        assert "internal-only" in issue["details"]["text"] and "Tell the user" in issue["diagnostics"]
    assert other.get("DocumentReference/intern/_history").status_code == 403
    # Search: left out of the matches and the total, with an outcome entry that says so.
    found = other.get("DocumentReference", patient="p1").json()
    assert [e["resource"]["id"] for e in found["entry"] if e["search"]["mode"] == "match"] == ["delt"]
    assert found["total"] == 1
    outcome = next(e["resource"]["issue"][0] for e in found["entry"] if e["search"]["mode"] == "outcome")
    assert outcome["details"]["coding"][0]["code"] == "sk-platform-restricted"
    assert outcome["details"]["text"].startswith("1 matching resources withheld")
    assert other.get("DocumentReference", _security=f"{CONFIDENTIALITY}|R").json()["total"] == 0
    # _revinclude from the patient and type history leave it out too.
    included = other.get("Patient", _id="p1", _revinclude="DocumentReference:patient").json()
    assert sorted(e["resource"]["id"] for e in included["entry"] if "resource" in e) == ["delt", "p1"]
    history = other.get("DocumentReference/_history").json()
    assert {e["resource"]["id"] for e in history["entry"] if e["resource"]["resourceType"] == "DocumentReference"} \
        == {"delt"}
    assert any(e["resource"]["resourceType"] == "OperationOutcome" for e in history["entry"])
    # The feed names the change to other systems only as withheld.
    feed = other.events()
    assert not any(c["id"] == "intern" for e in feed["events"] for c in e["changes"])
    assert feed["withheld"]["count"] == 2
    assert feed["withheld"]["issues"][0]["details"]["coding"][0]["code"] == "sk-platform-restricted"
    # Another system of the organisation that wrote it is not external: it sees the note.
    colleague = api.as_("kommunens-andre-epj", api.http.headers["X-Sandkasse-Dev-Org"])
    assert colleague.get("DocumentReference/intern").status_code == 200
    assert colleague.get("DocumentReference/intern/_history/1").status_code == 200
    assert colleague.get("DocumentReference", patient="p1").json()["total"] == 2
    assert any(c["id"] == "intern" for e in colleague.events()["events"] for c in e["changes"])
    # The source system sees its own note everywhere.
    assert api.get("DocumentReference/intern").status_code == 200
    assert api.get("DocumentReference", patient="p1").json()["total"] == 2
    assert api.get("DocumentReference", _security=f"{CONFIDENTIALITY}|R").json()["total"] == 1
    trail = [e["resource"] for e in api.get("AuditEvent", patient="p1", _count=200).json()["entry"]]
    assert any(e["outcome"] == "4" and "internal-only" in e.get("outcomeDesc", "") for e in trail)


def test_a_deleted_restricted_note_stays_visible_inside_its_organisation_only(api) -> None:
    assert api.transaction(bundle(patient("p1"), note("intern", "p1", restricted=True))).status_code == 200
    assert api.http.delete("DocumentReference/intern").status_code == 204
    colleague = api.as_("kommunens-andre-epj", api.http.headers["X-Sandkasse-Dev-Org"])
    assert colleague.get("DocumentReference/intern/_history/1").status_code == 200
    assert [e["response"]["etag"] for e in colleague.get("DocumentReference/intern/_history").json()["entry"]] == \
        ['W/"2"', 'W/"1"']
    assert colleague.get("DocumentReference/intern").status_code == 410
    other = api.as_("epj-b", ORG_B)
    assert other.get("DocumentReference/intern/_history/1").status_code == 403


def test_a_note_is_restricted_per_version(api) -> None:
    assert api.transaction(bundle(patient("p1"), note("n1", "p1"))).status_code == 200
    assert api.put("DocumentReference/n1", note("n1", "p1", restricted=True)).status_code == 200
    other = api.as_("epj-b", ORG_B)
    assert other.get("DocumentReference/n1/_history/1").status_code == 200      # shared when written
    assert other.get("DocumentReference/n1").status_code == 403                 # restricted now
    history = other.get("DocumentReference/n1/_history").json()
    assert [e["response"]["etag"] for e in history["entry"] if "response" in e] == ['W/"1"']


def test_sperring_and_restricted_notes_are_reported_separately(api) -> None:
    assert api.transaction(bundle(patient("p1"), note("intern", "p1", restricted=True))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2), note("delt", "p2"))).status_code == 200
    assert api.transaction(bundle(organization("b", ORG_B, "B"))).status_code == 200
    assert api.transaction(bundle(sperring("s1", "p2", {"reference": "Organization/b"}))).status_code == 200
    found = api.as_("epj-b", ORG_B).get("DocumentReference").json()
    assert found["total"] == 0
    rules = sorted(e["resource"]["issue"][0]["details"]["coding"][0]["code"] for e in found["entry"])
    assert rules == ["sk-platform-restricted", "sk-platform-sperring"]


# One source for the information services ---------------------------------------------------------

def test_every_served_type_has_one_information_service_from_the_scope_policy(api) -> None:
    from mock_platform.searchparams import registry
    from mock_platform.security.scopes import policy

    statement = api.get("metadata").json()
    documented = {r["type"]: r.get("documentation", "") for r in statement["rest"][0]["resource"]}
    for rtype in registry():
        name = policy().service_name(rtype)
        assert name, f"{rtype} has no information service in scopes.toml"
        assert name in documented[rtype]
    assert "Kommunale tjenester" in documented["EpisodeOfCare"]
    assert "nhn:sandkasse-plattform/news2-malinger.read" in documented["Observation"]
    # A Subscription is a standing search: managed with a read scope.
    assert policy().accepted_scopes("Subscription", "write") == policy().accepted_scopes(None, "read")


def test_a_conditional_create_does_not_reveal_a_withheld_match(api) -> None:
    restricted = dict(note("intern", "p1", restricted=True), identifier=[{"system": "urn:x", "value": "n-1"}])
    assert api.transaction(bundle(patient("p1"), restricted)).status_code == 200
    resend = dict(restricted)
    del resend["id"]
    other = api.as_("epj-b", ORG_B)
    answer = other.post("DocumentReference", resend, **{"If-None-Exist": "identifier=urn:x|n-1"})
    assert answer.status_code == 403
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "sk-platform-restricted"
    assert "Tm90YXQ=" not in answer.text
    # Its own source gets the match back, as before.
    assert api.post("DocumentReference", resend, **{"If-None-Exist": "identifier=urn:x|n-1"}).status_code == 200
