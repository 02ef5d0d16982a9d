"""FHIR messaging at the intake (POST [base]/$process-message): a message's resources take the
transaction's path and become one event of kind message; the answer is an R4 response message; a
resend is recognised and answered again without being stored twice."""
from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import httpx
import jsonschema
import pytest

from conformance.validator import Validator
from mock_platform import start_in_thread
from tests.mock_platform.conftest import Api
from tests.mock_platform.fhir import episode, observation, patient

PROCESS = "$process-message"
EVENT = {"system": "https://sandkasse.no/fhir/CodeSystem/hendelse", "code": "news2-maling"}
SOURCE = {"name": "EPJ A", "endpoint": "https://epj-a.example/fhir"}


def entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource}


def message(*entries: dict, focus: list[str] | None = None, header_id: str | None = None) -> dict:
    """A message Bundle: a MessageHeader (focus: the last entry unless given), then the entries."""
    mh = {"resourceType": "MessageHeader", "id": header_id or str(uuid.uuid4()), "eventCoding": EVENT,
          "destination": [{"name": "Plattformen", "endpoint": "https://plattform.example/0301/fhir"}],
          "source": SOURCE, "focus": [{"reference": r} for r in (focus or [entries[-1]["fullUrl"]])]}
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "message",
            "timestamp": "2025-03-01T10:00:00Z",
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": mh}, *entries]}


def news2_message() -> dict:
    """A patient (by id), an observation with no id (the platform assigns one) that refers to the
    patient by the patient entry's urn:uuid, and an episode of care."""
    person = entry(patient("p1"))
    measured = observation("unused", "p1")
    del measured["id"]
    measured["subject"] = {"reference": person["fullUrl"]}
    return message(person, entry(measured), entry(episode("e1", "p1")))


def send(api: Api, body: dict, **params: str) -> httpx.Response:
    return api.http.post(PROCESS, json=body, params=params)


def issues(response: httpx.Response) -> list[dict]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"]


def where(response: httpx.Response) -> set[str]:
    return {e for issue in issues(response) for e in issue.get("expression", [])}


def errors_of(resource: dict) -> list[str]:
    return [f"{i.expression}: {i.message}" for i in Validator.default().validate(resource)
            if i.severity in ("error", "fatal")]


def test_a_valid_message_is_stored_as_one_event_and_answered_with_a_response_message(api: Api) -> None:
    sent = news2_message()
    response = send(api, sent)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert errors_of(answer) == []
    assert answer["type"] == "message"
    header, details = (e["resource"] for e in answer["entry"])
    request_header = sent["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["response"]["identifier"] == request_header["id"] and header["response"]["code"] == "ok"
    assert header["eventCoding"] == EVENT
    assert header["destination"] == [SOURCE]                                       # swapped
    assert header["source"]["endpoint"] == "https://plattform.example/0301/fhir"
    focus = [f["reference"] for f in header["focus"]]
    assert focus[0] == "Patient/p1/_history/1" and focus[2] == "EpisodeOfCare/e1/_history/1"
    observation_ref = focus[1].removesuffix("/_history/1")
    assert observation_ref.startswith("Observation/") and observation_ref != "Observation/unused"
    # response.details: what became of each entry of the request.
    assert header["response"]["details"]["reference"] == answer["entry"][1]["fullUrl"]
    assert [i["expression"] for i in details["issue"]] == [[f"Bundle.entry[{n}].resource"] for n in (1, 2, 3)]
    assert "201 Created" in details["issue"][1]["details"]["text"]

    events = api.events()["events"]
    assert len(events) == 1 and events[0]["kind"] == "message" and events[0]["source"] == "epj-a"
    assert events[0]["message"] == {"id": request_header["id"], "bundle": sent.get("id"),      # as its sender named it
                                    "event": f"{EVENT['system']}|{EVENT['code']}"}
    feed_schema = httpx.get(f"{api.root}/openapi.json").json()["components"]["schemas"]["EventFeed"]
    jsonschema.validate(api.events(), feed_schema)                                  # as /openapi.json describes it
    assert sorted(c["reference"] for c in events[0]["changes"]) == sorted(focus)
    stored = api.get(observation_ref).json()
    assert stored["subject"]["reference"] == "Patient/p1"                       # urn:uuid resolved
    assert api.get("EpisodeOfCare/e1").status_code == 200
    assert api.get("MessageHeader/" + request_header["id"]).status_code == 404   # recorded, not served
    logged = [r for r in api.admin("GET", "/tenants/0301/requests").json()["requests"] if r["path"] == PROCESS]
    assert [(r["status"], r["body"]) for r in logged] == [(200, sent)]          # the message as sent


def test_an_invalid_message_lists_every_error_with_its_place_and_stores_nothing(api: Api) -> None:
    assert api.transaction({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("p0", 9), "request": {"method": "PUT", "url": "Patient/p0"}}]}).status_code == 200
    sent = message(entry(dict(patient("p1"), gender="kvinne")), entry(dict(observation("o1", "p1"), status="ferdig")),
                   focus=["Patient/p1", "Observation/elsewhere"])
    del sent["entry"][0]["resource"]["eventCoding"]
    response = send(api, sent)
    assert response.status_code == 422
    assert {"Bundle.entry[0].resource.event", "Bundle.entry[0].resource.focus[1]",
            "Bundle.entry[1].resource.gender", "Bundle.entry[2].resource.status"} <= where(response)
    assert all(i["diagnostics"].startswith("Fix: ") and i["details"]["coding"][0]["code"]
               for i in issues(response) if i["severity"] == "error")
    assert [e["seq"] for e in api.events()["events"]] == [1]                      # no new event
    assert api.get("Patient/p1").status_code == 404 and api.get("Observation/o1").status_code == 404
    # Nothing was stored, so the corrected message may keep its MessageHeader.id.
    fixed = message(entry(patient("p1")), entry(observation("o1", "p1")), focus=["Observation/o1"],
                    header_id=sent["entry"][0]["resource"]["id"])
    assert send(api, fixed).status_code == 200
    assert [e["kind"] for e in api.events()["events"]] == ["transaction", "message"]


def test_a_resend_is_answered_again_and_not_stored_twice(api: Api) -> None:
    sent = news2_message()
    first = send(api, sent)
    assert first.status_code == 200, first.text
    again = send(api, sent)
    assert again.status_code == 200
    assert again.json() == first.json()                   # the same response: focus on the first versions
    assert [e["seq"] for e in api.events()["events"]] == [1]
    assert api.get("Patient/p1").json()["meta"]["versionId"] == "1"
    # The id is the sender's: another client's message with the same MessageHeader.id is its own.
    other = message(entry(patient("p2", 2)), header_id=sent["entry"][0]["resource"]["id"])
    assert send(api.as_("epj-b"), other).status_code == 200
    assert len(api.events()["events"]) == 2


def test_another_message_under_a_used_id_is_refused(api: Api) -> None:
    sent = message(entry(patient("p1")))
    assert send(api, sent).status_code == 200
    changed = message(entry(patient("p1", 3)), header_id=sent["entry"][0]["resource"]["id"])
    response = send(api, changed)
    assert response.status_code == 409
    issue = issues(response)[0]
    assert issue["expression"] == ["Bundle.entry[0].resource.id"]
    assert issue["details"]["coding"][0]["code"] == "sk-platform-message-resend"
    assert len(api.events()["events"]) == 1
    assert api.get("Patient/p1").json()["name"] == patient("p1")["name"]


def test_concurrent_resends_are_stored_once(api: Api) -> None:
    sent = news2_message()
    copies = 4
    start = threading.Barrier(copies)
    answers: list[httpx.Response] = []

    def resend() -> None:
        with httpx.Client(base_url=api.base + "/", headers=api.http.headers, timeout=60) as client:
            start.wait()
            answers.append(client.post(PROCESS, json=sent))

    threads = [threading.Thread(target=resend) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * copies, [a.text[:300] for a in answers]
    assert all(a.json() == answers[0].json() for a in answers)
    assert [e["seq"] for e in api.events()["events"]] == [1]


def test_a_resend_after_a_tenant_reset_is_stored_again(api: Api) -> None:
    sent = message(entry(patient("p1")))
    assert send(api, sent).status_code == 200
    assert api.admin("DELETE", "/tenants/0301/data").status_code == 200
    again = send(api, sent)
    assert again.status_code == 200
    assert api.get("Patient/p1").status_code == 200 and len(api.events()["events"]) == 1


def _header_not_first() -> dict:
    sent = message(entry(patient("p1")))
    sent["entry"].reverse()
    return sent


def _header_without(element: str) -> dict:
    sent = message(entry(patient("p1")))
    del sent["entry"][0]["resource"][element]
    return sent


def _entry_with(**extra: object) -> dict:
    sent = message(entry(patient("p1")))
    sent["entry"][1].update(extra)
    return sent


def _two_headers() -> dict:
    sent = message(entry(patient("p1")))
    sent["entry"].append(sent["entry"][0])
    return sent


def _without_full_url() -> dict:
    sent = message(entry(patient("p1")), focus=["Patient/p1"])
    del sent["entry"][1]["fullUrl"]
    return sent


REFUSALS = {
    "not a message": ({"resourceType": "Bundle", "type": "batch", "entry": [{}]}, {}, 400, "Bundle.type", "message"),
    "a transaction": ({"resourceType": "Bundle", "type": "transaction", "entry": [{}]}, {}, 400, "Bundle.type",
                      "POST the transaction to [base]"),
    "not a Bundle": (patient("p1"), {}, 400, "Bundle", "message"),
    "no entries": ({"resourceType": "Bundle", "type": "message"}, {}, 400, "Bundle.entry", "MessageHeader"),
    "header not first": (_header_not_first(), {}, 422, "Bundle.entry[0].resource", "first entry"),
    "no header": ({"resourceType": "Bundle", "type": "message", "entry": [entry(patient("p1"))]}, {}, 422,
                  "Bundle.entry[0].resource", "MessageHeader"),
    "two headers": (_two_headers(), {}, 422, "Bundle.entry[2].resource", "exactly one MessageHeader"),
    "header without id": (_header_without("id"), {}, 422, "Bundle.entry[0].resource.id", "resend"),
    "header without event": (_header_without("eventCoding"), {}, 422, "Bundle.entry[0].resource.event",
                             "MessageHeader.event"),
    "header without source": (_header_without("source"), {}, 422, "Bundle.entry[0].resource.source", "source"),
    "focus elsewhere": (message(entry(patient("p1")), focus=["Patient/p9"]), {}, 422,
                        "Bundle.entry[0].resource.focus[0]", "fullUrl"),
    "entry with request": (_entry_with(request={"method": "PUT", "url": "Patient/p1"}), {}, 422,
                           "Bundle.entry[1].request", "Leave request out"),
    "entry without fullUrl": (_without_full_url(), {}, 422, "Bundle.entry[1].fullUrl", "fullUrl"),
    "async": (message(entry(patient("p1"))), {"async": "true"}, 400, "async", "Leave async"),
    "async not a boolean": (message(entry(patient("p1"))), {"async": "maybe"}, 400, "async", "async"),
    "response-url": (message(entry(patient("p1"))), {"response-url": "https://epj-a.example/svar"}, 400,
                     "response-url", "response-url"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_say_where_which_rule_and_how_to_fix_and_store_nothing(api: Api, case: str) -> None:
    body, params, status, location, fix = REFUSALS[case]
    response = send(api, body, **params)
    assert response.status_code == status, response.text
    issue = next(i for i in issues(response) if location in i.get("expression", []))
    assert issue["severity"] == "error" and issue["details"]["coding"][0]["code"]
    assert fix in issue["diagnostics"], issue
    assert api.events()["events"] == [] and api.get("Patient/p1").status_code == 404


def test_a_message_posted_as_a_transaction_is_pointed_to_process_message(api: Api) -> None:
    response = api.transaction(message(entry(patient("p1"))))
    assert response.status_code == 400
    issue = issues(response)[0]
    assert issue["expression"] == ["Bundle.type"] and "[base]/$process-message" in issue["diagnostics"]
    other = api.transaction({"resourceType": "Bundle", "type": "batch", "entry": []})
    assert other.status_code == 400 and "is not accepted at the intake" in issues(other)[0]["details"]["text"]


def test_parameters_carry_the_message_and_async_false(api: Api) -> None:
    sent = message(entry(patient("p1")))
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "content", "resource": sent},
                                                              {"name": "async", "valueBoolean": False}]}
    assert send(api, parameters).status_code == 200
    parameters["parameter"][1]["valueBoolean"] = True
    refused = send(api, parameters)
    assert refused.status_code == 400 and issues(refused)[0]["expression"] == ["async"]
    empty = send(api, {"resourceType": "Parameters", "parameter": [{"name": "async", "valueBoolean": False}]})
    assert empty.status_code == 400 and issues(empty)[0]["expression"] == ["Parameters.parameter"]


def test_the_capability_statement_states_messaging_and_stays_valid(api: Api) -> None:
    statement = api.get("metadata").json()
    assert errors_of(statement) == []
    operations = {o["name"]: o["definition"] for o in statement["rest"][0]["operation"]}
    assert operations["process-message"] == "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
    (messaging,) = statement["messaging"]
    assert messaging["endpoint"][0]["address"] == f"{api.base}/$process-message"
    assert messaging["reliableCache"] > 0


def test_with_helseid_a_message_needs_the_write_scope_of_each_resource(tmp_path: Path) -> None:
    from conformance.auth import HelseIdAuth
    from tests.security.conftest import API, READ, TLS, SecurePlatform, _start

    app = _start(tmp_path)
    with start_in_thread(app) as running:
        platform = SecurePlatform(running.url, app)
        url = f"{platform.fhir()}/{PROCESS}"

        def post(scopes: list[str], body: dict) -> httpx.Response:
            with httpx.Client(verify=TLS, auth=HelseIdAuth(platform.register(scopes=scopes))) as client:
                return client.post(url, json=body, headers={"Content-Type": "application/fhir+json"})

        care = [f"{API}/kommunale-tjenester.write"]
        assert post(READ, message(entry(patient("p1")))).status_code == 403
        refused = post(care, message(entry(patient("p1")), entry(observation("o1", "p1"))))
        assert refused.status_code == 403 and "Observation" in refused.text
        stored = post(care, message(entry(patient("p1")), entry(episode("e1", "p1"))))
        assert stored.status_code == 200, stored.text
        assert stored.json()["entry"][0]["resource"]["response"]["code"] == "ok"
    app.extensions["sandkasse.storage"].close()


def test_hostile_messages_are_refused_with_an_operation_outcome(platform) -> None:
    """A valid message with up to three parts replaced by hostile values or left out (the generic
    fuzzing rarely builds a message): every answer is a 2xx or a 4xx OperationOutcome, and a
    refused one stores nothing. Some MessageHeader ids come again: resends and reused ids."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.robustness.hostile import check_response, hostile_text, json_values

    api = Api(platform.url)
    gone = object()
    parts = [("id",), ("entry",), *(("entry", 0, "resource", key) for key in (
        "resourceType", "id", "eventCoding", "eventUri", "source", "destination", "focus")),
        *(("entry", i, key) for i in (1, 2) for key in ("fullUrl", "request", "resource")),
        ("entry", 1, "resource", "id"), ("entry", 2, "resource", "subject")]
    changes = st.lists(st.tuples(st.sampled_from(parts), st.just(gone) | json_values | hostile_text), max_size=3)

    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(header_id=st.uuids().map(str) | st.sampled_from(["m1", "m2"]), changes=changes,
           flag=st.sampled_from([None, None, None, "false", "true", "ja"]))
    def hostile(header_id: str, changes: list, flag: str | None) -> None:
        body = message(entry(patient("p1")), entry(observation("o1", "p1")), header_id=header_id)
        for path, value in changes:
            _replace(body, path, gone if value is gone else value)
        head = api.events()["head"]
        response = api.http.post(PROCESS, content=json.dumps(body), params={"async": flag} if flag else None,
                                 headers={"Content-Type": "application/fhir+json"})   # json.dumps: also Infinity
        check_response(response, "POST", PROCESS)
        if response.status_code >= 400:
            assert api.events()["head"] == head, "a refused message was stored"

    def _replace(node: object, path: tuple, value: object) -> None:
        for step in path[:-1]:
            present = step in node if isinstance(node, dict) else isinstance(node, list) and step < len(node)
            if not present:
                return                               # an earlier change removed the way there
            node = node[step]
        if isinstance(node, dict):
            node.pop(path[-1], None) if value is gone else node.__setitem__(path[-1], value)

    hostile()
