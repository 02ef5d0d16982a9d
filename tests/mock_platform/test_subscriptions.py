"""FHIR R4 Subscription (rest-hook) over real HTTP: a real receiving HTTP server on localhost gets
the platform's notifications; the platform rules (sperring, restricted notes, tenant isolation,
audit) apply to them as to reads; delivery is in order, retried, and never doubled when two
platform apps share one database."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from tests.mock_platform.conftest import Api
from tests.mock_platform.fhir import ORG_B, bundle, observation, organization, patient, sperring

FAST = {"poll_seconds": 0.02, "retry_seconds": 0.05, "max_retry_seconds": 0.2, "max_attempts": 3,
        "timeout_seconds": 2.0}
HEART_RATE = "http://loinc.org|8867-4"


class Receiver:
    """A consumer's notification endpoint: records every request; answers `status` (a list is
    used up one answer per request, then the last one repeats). With a `gate`, an event
    notification is recorded when it arrives and answered only when the gate is set (a slow
    endpoint the test controls)."""

    def __init__(self, status: int | list[int] = 200, gate: threading.Event | None = None) -> None:
        self.requests: list[dict] = []
        self.answers = list(status) if isinstance(status, list) else [status]
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    answer = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                    receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": json.loads(body) if body else None, "answered": answer})
                    receiver.changed.notify_all()
                if gate is not None and self.headers.get("X-Sandkasse-Notification-Type") == "event-notification":
                    gate.wait(60)                         # bounded, so a failing test cannot hang the server
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, predicate: Callable[[list[dict]], bool], timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; received: {[(r['headers'].get('x-sandkasse-notification-type'), r['headers'].get('x-sandkasse-event-seq')) for r in self.requests]}"
                self.changed.wait(left)
            return list(self.requests)

    def events(self) -> list[dict]:
        return [r for r in self.requests if r["headers"]["x-sandkasse-notification-type"] == "event-notification"]

    def wait_events(self, count: int) -> list[dict]:
        """The event notifications, once at least `count` have arrived."""
        self.wait(lambda _: len(self.events()) >= count)
        return self.events()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@contextmanager
def running_platform(database: str, limits: dict = FAST) -> Iterator[Api]:
    app = create_app(PlatformConfig(database=database, tenants=("0301", "4601"), auth="off-dev",
                                    extra={"SUBSCRIPTION_LIMITS": limits}))
    try:
        with start_in_thread(app) as running:
            yield Api(running.url)
    finally:
        app.extensions["sandkasse.subscriptions"].stop()
        app.extensions["sandkasse.storage"].close()


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Api]:
    with running_platform(str(tmp_path / "platform.sqlite3")) as made:
        yield made


def subscription(endpoint: str, criteria: str, payload: bool = True, headers: list[str] | None = None) -> dict:
    channel: dict = {"type": "rest-hook", "endpoint": endpoint}
    if payload:
        channel["payload"] = "application/fhir+json"
    if headers:
        channel["header"] = headers
    return {"resourceType": "Subscription", "status": "requested", "reason": "Nye målinger", "criteria": criteria,
            "channel": channel}


def subscribe(api: Api, endpoint: str, criteria: str, **kwargs) -> str:
    response = api.post("Subscription", subscription(endpoint, criteria, **kwargs))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "requested"
    assert response.headers["Location"].endswith(f"/Subscription/{response.json()['id']}")
    return response.json()["id"]


def wait_status(api: Api, sid: str, status: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = api.get(f"Subscription/{sid}").json()
        if current["status"] == status:
            return current
        assert time.monotonic() < deadline, current
        time.sleep(0.02)


def parameters(notification: dict) -> dict:
    status = notification["body"]["entry"][0]["resource"]
    assert status["resourceType"] == "Parameters"
    return {p["name"]: p for p in status["parameter"]}


def focus(notification: dict) -> list[str]:
    return [p["valueReference"]["reference"] for p in parameters(notification)["notification-event"]["part"]
            if p["name"] == "focus"]


def seqs(notifications: list[dict]) -> list[int]:
    return [int(n["headers"]["x-sandkasse-event-seq"]) for n in notifications]


def test_ping_and_payload_notifications(api: Api, receiver: Receiver) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    ping = Receiver()
    try:
        full = subscribe(api, receiver.url, f"Observation?patient=Patient/p1&code={HEART_RATE}",
                         headers=["Authorization: Bearer abc123"])
        empty = subscribe(api, ping.url, "Observation?patient=p1", payload=False)
        # The handshake comes first; then the platform calls the subscription active.
        handshake = receiver.wait(lambda got: len(got) >= 1)[0]
        assert handshake["headers"]["x-sandkasse-notification-type"] == "handshake"
        assert handshake["headers"]["authorization"] == "Bearer abc123"
        assert parameters(handshake)["type"]["valueCode"] == "handshake"
        wait_status(api, full, "active")
        wait_status(api, empty, "active")
        assert api.transaction(bundle(observation("o1", "p1"))).status_code == 200
        seq = api.events()["last_seq"]

        (note,) = receiver.wait(lambda got: len(got) >= 2)[1:]
        assert note["headers"]["content-type"].startswith("application/fhir+json")
        assert note["headers"]["x-sandkasse-event-seq"] == str(seq)
        assert note["body"]["resourceType"] == "Bundle" and note["body"]["type"] == "history"
        params = parameters(note)
        assert params["subscription"]["valueReference"]["reference"].endswith(f"/0301/fhir/Subscription/{full}")
        assert params["type"]["valueCode"] == "event-notification"
        assert params["events-since-subscription-start"]["valueString"] == "1"
        assert params["hendelseslager-seq"]["valueString"] == str(seq)
        assert params["feed"]["valueUrl"].endswith(f"/0301/events?since={seq}")
        event = {p["name"]: p for p in params["notification-event"]["part"] if p["name"] != "focus"}
        assert event["event-number"]["valueString"] == "1"
        assert focus(note) == ["Observation/o1/_history/1"]
        (entry,) = note["body"]["entry"][1:]
        assert entry["resource"]["id"] == "o1" and entry["resource"]["valueQuantity"]["value"] == 80
        assert entry["request"] == {"method": "POST", "url": "Observation"}

        # The ping has no body, but says which event it is about, so the consumer can read the feed.
        pinged = ping.wait(lambda got: len(got) >= 2)[1]
        assert pinged["body"] is None
        assert pinged["headers"]["x-sandkasse-event-seq"] == str(seq)
        assert pinged["headers"]["x-sandkasse-subscription"] == f"Subscription/{empty}"

        # An update is a PUT in the next notification, numbered 2.
        assert api.put("Observation/o1", observation("o1", "p1", value=91)).status_code == 200
        second = receiver.wait(lambda got: len(got) >= 3)[2]
        assert parameters(second)["events-since-subscription-start"]["valueString"] == "2"
        assert second["body"]["entry"][1]["request"] == {"method": "PUT", "url": "Observation/o1"}
        assert second["body"]["entry"][1]["resource"]["valueQuantity"]["value"] == 91
    finally:
        ping.close()


def test_criteria_select_with_the_platforms_own_search(api: Api, receiver: Receiver) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2))).status_code == 200
    sid = subscribe(api, receiver.url, f"Observation?subject=Patient/p1&code={HEART_RATE}&date=ge2025-01-01")
    wait_status(api, sid, "active")
    assert api.transaction(bundle(observation("other-patient", "p2"))).status_code == 200
    assert api.transaction(bundle(observation("other-code", "p1", code="9279-1"))).status_code == 200
    assert api.transaction(bundle(observation("too-early", "p1", when="2024-06-01T10:00:00Z"))).status_code == 200
    assert api.transaction(bundle(observation("hit", "p1"))).status_code == 200
    # One write with several resources: only the matching one goes out.
    assert api.transaction(bundle(observation("hit-2", "p1"), observation("miss-2", "p1", code="9279-1"))).status_code == 200
    received = receiver.wait(lambda got: len(got) >= 3)
    time.sleep(0.3)                                            # nothing else arrives
    notes = receiver.events()
    assert [[e["resource"]["id"] for e in n["body"]["entry"][1:]] for n in notes] == [["hit"], ["hit-2"]]
    seqs = [int(n["headers"]["x-sandkasse-event-seq"]) for n in notes]
    assert seqs == sorted(seqs) and len(received) == 3
    # The same search over GET finds exactly the notified resources.
    found = api.get("Observation", subject="Patient/p1", code=HEART_RATE, date="ge2025-01-01").json()
    assert sorted(e["resource"]["id"] for e in found["entry"]) == ["hit", "hit-2"]


def test_sperring_withholds_notifications_and_deliveries_are_audited(api: Api, receiver: Receiver) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2))).status_code == 200
    consumer = api.as_("legevakt-epj", ORG_B)
    sid = subscribe(consumer, receiver.url, "Observation")
    wait_status(consumer, sid, "active")
    assert api.transaction(bundle(organization("legevakt", ORG_B, "Legevakten"))).status_code == 200
    assert api.transaction(bundle(sperring("s1", "p1", {"reference": "Organization/legevakt"}))).status_code == 200
    assert api.transaction(bundle(observation("blocked", "p1"))).status_code == 200
    assert api.transaction(bundle(observation("open", "p2"))).status_code == 200
    receiver.wait(lambda got: len(got) >= 2)
    time.sleep(0.3)
    delivered = [e["resource"]["id"] for n in receiver.events() for e in n["body"]["entry"][1:]]
    assert delivered == ["open"]
    # Another consumer without a block gets both.
    other = Receiver()
    try:
        # (subscribed after the writes: a subscription notifies of what happens after it)
        sid2 = subscribe(api.as_("epj-c"), other.url, "Observation")
        wait_status(api.as_("epj-c"), sid2, "active")
        assert api.transaction(bundle(observation("blocked-2", "p1"))).status_code == 200
        other.wait(lambda got: len(got) >= 2)
        assert other.events()[0]["body"]["entry"][1]["resource"]["id"] == "blocked-2"
    finally:
        other.close()
    # The delivered notification is in the patient's audit trail: who, organisation, purpose.
    trail = [e["resource"] for e in api.get("AuditEvent", patient="Patient/p2", _count=200).json()["entry"]]
    notified = [e for e in trail if any(f"Subscription/{sid}" in (x.get("description") or "") for x in e["entity"])]
    assert notified, trail
    assert notified[0]["agent"][0]["who"]["identifier"]["value"] == "legevakt-epj"
    assert notified[0]["agent"][1]["who"]["identifier"]["value"] == ORG_B
    assert notified[0]["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    p1_trail = [e["resource"] for e in api.get("AuditEvent", patient="Patient/p1", _count=200).json()["entry"]]
    assert not any(f"Subscription/{sid}" in (x.get("description") or "") for e in p1_trail for x in e["entity"])


def test_restricted_notes_are_not_notified_to_other_systems(api: Api, receiver: Receiver) -> None:
    from tests.mock_platform.test_rules import note

    assert api.transaction(bundle(patient("p1"))).status_code == 200
    consumer = api.as_("epj-b", ORG_B)
    sid = subscribe(consumer, receiver.url, "DocumentReference?patient=p1")
    wait_status(consumer, sid, "active")
    assert api.transaction(bundle(note("internal", "p1", restricted=True))).status_code == 200
    assert api.transaction(bundle(note("shared", "p1"))).status_code == 200
    receiver.wait(lambda got: len(got) >= 2)
    time.sleep(0.3)
    assert [e["resource"]["id"] for n in receiver.events() for e in n["body"]["entry"][1:]] == ["shared"]


def test_a_restricted_notes_deletion_is_notified_inside_its_organisation_only(api: Api, receiver: Receiver) -> None:
    from tests.mock_platform.test_rules import note

    assert api.transaction(bundle(patient("p1"))).status_code == 200
    colleague = api.as_("kommunens-andre-epj", api.http.headers["X-Sandkasse-Dev-Org"])
    outsider, outside = api.as_("epj-b", ORG_B), Receiver()
    try:
        sid = subscribe(colleague, receiver.url, "DocumentReference?patient=p1")
        other = subscribe(outsider, outside.url, "DocumentReference?patient=p1")
        wait_status(colleague, sid, "active")
        wait_status(outsider, other, "active")
        assert api.transaction(bundle(note("internal", "p1", restricted=True))).status_code == 200
        receiver.wait_events(1)
        assert api.http.delete("DocumentReference/internal").status_code == 204
        created, deleted = receiver.wait_events(2)
        assert [e["request"]["method"] for e in deleted["body"]["entry"][1:]] == ["DELETE"]
        assert focus(deleted) == ["DocumentReference/internal/_history/2"]
        # The outsider hears of neither; a shared note written after both is its first notification.
        assert api.transaction(bundle(note("shared", "p1"))).status_code == 200
        (first, *more) = outside.wait_events(1)
        assert [e["resource"]["id"] for e in first["body"]["entry"][1:]] == ["shared"] and not more
    finally:
        outside.close()


def delete_and_put(delete: str, resource: dict) -> dict:
    """A transaction that deletes one resource and writes another (one event, two changes)."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": delete}},
        {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource,
         "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}]}


def test_deletions_of_matching_resources_are_notified(database: str, receiver: Receiver) -> None:
    """On SQLite and PostgreSQL (the version before the deletion is read from the history)."""
    with running_platform(database) as api:
        assert api.transaction(bundle(patient("p1"))).status_code == 200
        assert api.transaction(bundle(patient("p2", 2))).status_code == 200
        ping = Receiver()
        try:
            criteria = f"Observation?patient=Patient/p1&code={HEART_RATE}"
            sid = subscribe(api, receiver.url, criteria)
            pinged = subscribe(api, ping.url, criteria, payload=False)
            wait_status(api, sid, "active")
            wait_status(api, pinged, "active")
            for written in (observation("o1", "p1"), observation("o4", "p1"),
                            observation("other-code", "p1", code="9279-1"), observation("other-patient", "p2")):
                assert api.transaction(bundle(written)).status_code == 200
            # The creations are delivered before anything is deleted (a resource deleted before its
            # creation was delivered would be notified as a deletion only).
            receiver.wait_events(2)
            ping.wait_events(2)
            # Deletions of resources that never matched come first: were they notified, it would be
            # before the deletion of o1 (delivery is in event order).
            assert api.http.delete("Observation/other-code").status_code == 204
            assert api.http.delete("Observation/other-patient").status_code == 204
            assert api.http.delete("Observation/o1").status_code == 204
            deleted_at = api.events()["last_seq"]
            assert api.transaction(delete_and_put("Observation/o4", observation("o5", "p1"))).status_code == 200

            notes = receiver.wait_events(4)
            assert [[e["request"]["method"] for e in n["body"]["entry"][1:]] for n in notes] == \
                [["POST"], ["POST"], ["DELETE"], ["DELETE", "POST"]]
            deletion = notes[2]
            assert deletion["headers"]["x-sandkasse-event-seq"] == str(deleted_at)
            assert parameters(deletion)["events-since-subscription-start"]["valueString"] == "3"
            assert focus(deletion) == ["Observation/o1/_history/2"]
            (entry,) = deletion["body"]["entry"][1:]
            assert "resource" not in entry
            assert entry["fullUrl"].endswith("/0301/fhir/Observation/o1")
            assert entry["request"] == {"method": "DELETE", "url": "Observation/o1"}
            assert entry["response"]["status"] == "204" and entry["response"]["etag"] == 'W/"2"'
            # A deletion and a creation in one event: one notification, in the event's order.
            assert focus(notes[3]) == ["Observation/o4/_history/2", "Observation/o5/_history/1"]
            assert notes[3]["body"]["entry"][2]["resource"]["id"] == "o5"
            assert len(receiver.events()) == 4

            # The ping says a deletion happened in that event, with no body.
            pings = ping.wait_events(4)
            assert seqs(pings) == seqs(notes) and all(p["body"] is None for p in pings)
            # Telling of a deleted resource is an access to the patient's data like any notification.
            trail = [e["resource"] for e in api.get("AuditEvent", patient="Patient/p1", _count=200).json()["entry"]]
            described = f"Subscription/{sid} notification with resources, event {deleted_at}"
            assert any(described in (x.get("description") or "") for e in trail for x in e["entity"])
        finally:
            ping.close()


def test_deletions_the_owner_could_not_see_are_not_notified(api: Api, receiver: Receiver) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2))).status_code == 200
    assert api.transaction(bundle(organization("legevakt", ORG_B, "Legevakten"))).status_code == 200
    assert api.transaction(bundle(sperring("s1", "p1", {"reference": "Organization/legevakt"}))).status_code == 200
    consumer = api.as_("legevakt-epj", ORG_B)
    ping = Receiver()
    try:
        sid = subscribe(consumer, receiver.url, "Observation")
        pinged = subscribe(consumer, ping.url, "Observation", payload=False)
        wait_status(consumer, sid, "active")
        wait_status(consumer, pinged, "active")
        assert api.transaction(bundle(observation("hidden-obs", "p1"))).status_code == 200
        assert api.transaction(bundle(observation("open", "p2"))).status_code == 200
        receiver.wait_events(1)                              # "open" is delivered before it is deleted
        ping.wait_events(1)
        assert api.http.delete("Observation/hidden-obs").status_code == 204
        assert api.http.delete("Observation/open").status_code == 204
        # The two about "open" arrive; the blocked creation and deletion would have come before
        # the second of them.
        notes = receiver.wait_events(2)
        assert [[e["request"]["method"] for e in n["body"]["entry"][1:]] for n in notes] == [["POST"], ["DELETE"]]
        assert "hidden-obs" not in json.dumps([n["body"] for n in receiver.requests])
        assert seqs(ping.wait_events(2)) == seqs(notes)     # not even a ping tells of the blocked deletion
    finally:
        ping.close()


def test_a_deletion_is_matched_as_the_version_before_it_was(api: Api, receiver: Receiver) -> None:
    """_lastUpdated is judged on when the deleted version was written, not on the deletion."""
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    assert api.put("Observation/old", observation("old", "p1")).status_code == 201
    written = api.get("Observation/old").json()["meta"]["lastUpdated"]
    sid = subscribe(api, receiver.url, f"Observation?_lastUpdated=le{written}")
    wait_status(api, sid, "active")
    assert api.put("Observation/new", observation("new", "p1")).status_code == 201      # written later: no match
    assert api.http.delete("Observation/new").status_code == 204
    assert api.http.delete("Observation/old").status_code == 204
    (note,) = receiver.wait_events(1)
    assert focus(note) == ["Observation/old/_history/2"]


def test_subscriptions_are_the_owners_and_the_tenants_own(api: Api, receiver: Receiver) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    sid = subscribe(api, receiver.url, "Observation")
    wait_status(api, sid, "active")
    stranger, other_tenant = api.as_("epj-b", ORG_B), api.as_("epj-a", tenant="4601")
    for who in (stranger, other_tenant):
        assert who.get(f"Subscription/{sid}").status_code == 404
        assert who.get("Subscription").json()["total"] == 0
        assert who.http.delete(f"Subscription/{sid}").status_code == 404
        assert who.put(f"Subscription/{sid}", dict(subscription(receiver.url, "Patient"), id=sid)).status_code == 404
    # Writes in another municipality's tenant are not notified here.
    assert other_tenant.transaction(bundle(patient("p1"), observation("elsewhere", "p1"))).status_code == 200
    assert api.transaction(bundle(observation("here", "p1"))).status_code == 200
    receiver.wait(lambda got: len(got) >= 2)
    time.sleep(0.3)
    assert [e["resource"]["id"] for n in receiver.events() for e in n["body"]["entry"][1:]] == ["here"]
    # The owner finds, and deletes, its own.
    mine = api.get("Subscription", status="active").json()
    assert [e["resource"]["id"] for e in mine["entry"]] == [sid]
    assert api.http.delete(f"Subscription/{sid}").status_code == 204
    assert api.get(f"Subscription/{sid}").status_code == 404
    assert api.transaction(bundle(observation("after-delete", "p1"))).status_code == 200
    time.sleep(0.3)
    assert len(receiver.events()) == 1


@contextmanager
def _two_tenants_subscribed(tmp_path: Path):
    """Tenants 0301 and 4601, each with one Subscription: (app, 0301's api, 4601's api)."""
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), tenants=("0301", "4601"), auth="off-dev",
                                    extra={"SUBSCRIPTION_LIMITS": FAST}))
    try:
        with start_in_thread(app) as running:
            api = Api(running.url)
            other = api.as_("epj-a", tenant="4601")
            subscribe(api, "http://127.0.0.1:9/x", "Patient")
            subscribe(other, "http://127.0.0.1:9/x", "Patient")
            yield app, api, other
    finally:
        app.extensions["sandkasse.subscriptions"].stop()
        app.extensions["sandkasse.storage"].close()


def test_a_tenants_subscriptions_can_be_forgotten(tmp_path: Path) -> None:
    from mock_platform.subscriptions import forget_tenant

    with _two_tenants_subscribed(tmp_path) as (app, api, other):
        assert forget_tenant(app.extensions["sandkasse.storage"], "0301") == 1
        assert api.get("Subscription").json()["total"] == 0
        assert other.get("Subscription").json()["total"] == 1


def test_a_reset_through_the_admin_api_forgets_the_tenants_subscriptions(tmp_path: Path) -> None:
    with _two_tenants_subscribed(tmp_path) as (_, api, other):
        assert api.admin("DELETE", "/tenants/0301/data").status_code == 200
        assert api.get("Subscription").json()["total"] == 0
        assert other.get("Subscription").json()["total"] == 1


def test_a_refused_handshake_and_failing_deliveries_end_in_error(api: Api) -> None:
    refusing = Receiver(status=403)
    flaky = Receiver(status=[200, 503])                   # handshake accepted, then every delivery fails
    try:
        sid = subscribe(api, refusing.url, "Observation")
        failed = wait_status(api, sid, "error")
        assert "Handshake failed" in failed["error"] and "403" in failed["error"]

        assert api.transaction(bundle(patient("p1"))).status_code == 200
        sid2 = subscribe(api, flaky.url, "Observation")
        wait_status(api, sid2, "active")
        assert api.transaction(bundle(observation("o1", "p1"))).status_code == 200
        broken = wait_status(api, sid2, "error")
        assert "failed 3 times" in broken["error"] and "503" in broken["error"]
        attempts = flaky.events()
        assert len(attempts) == 3                         # retried with back-off, then given up
        assert len({a["headers"]["x-sandkasse-event-seq"] for a in attempts}) == 1
        # Reactivated by its owner (status requested): a new handshake, then the same event again.
        flaky.answers = [200]
        restarted = api.put(f"Subscription/{sid2}", dict(subscription(flaky.url, "Observation"), id=sid2))
        assert restarted.status_code == 200 and restarted.json()["status"] == "requested"
        wait_status(api, sid2, "active")
        flaky.wait(lambda got: any(r["answered"] == 200 and r["headers"]["x-sandkasse-notification-type"] ==
                                   "event-notification" for r in got))
        assert flaky.events()[-1]["body"]["entry"][1]["resource"]["id"] == "o1"
    finally:
        refusing.close()
        flaky.close()


def test_invalid_subscriptions_are_refused_with_every_problem(api: Api) -> None:
    bad = {"resourceType": "Subscription", "status": "active", "criteria": "Observation?colour=red",
           "channel": {"type": "websocket", "endpoint": "ftp://example.org/x", "payload": "application/xml",
                       "header": ["no colon here"]}}
    response = api.post("Subscription", bad)
    assert response.status_code == 422
    issues = response.json()["issue"]
    where = {i["expression"][0] for i in issues}
    assert {"Subscription.reason", "Subscription.criteria", "Subscription.channel.type",
            "Subscription.channel.endpoint", "Subscription.channel.payload", "Subscription.channel.header[0]"} <= where
    assert all(i.get("diagnostics") for i in issues)           # each with a fix
    criteria = next(i for i in issues if i["expression"] == ["Subscription.criteria"])
    assert "colour" in criteria["details"]["text"]
    counted = api.post("Subscription", subscription("http://127.0.0.1:9/x", "Observation?_count=5"))
    assert counted.status_code == 422 and "_count" in counted.text
    audit = api.post("Subscription", subscription("http://127.0.0.1:9/x", "AuditEvent?patient=p1"))
    assert audit.status_code == 422
    assert api.get("Subscription/x/_history").status_code == 404
    huge = dict(subscription("http://127.0.0.1:9/x", "Observation"), reason="x" * 20_000)
    assert api.post("Subscription", huge).status_code == 422
    assert api.post("Subscription", [1, 2]).status_code == 400


def test_capability_statement_states_subscriptions(api: Api) -> None:
    statement = api.get("metadata").json()
    subscription_entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Subscription")
    assert {i["code"] for i in subscription_entry["interaction"]} == {"read", "create", "update", "delete",
                                                                      "search-type"}
    assert "rest-hook" in subscription_entry["documentation"]


def test_two_platform_apps_on_one_database_deliver_each_event_once_in_order(database: str,
                                                                           receiver: Receiver) -> None:
    """Two apps on one SQLite file, and on one PostgreSQL schema (`database` of conftest)."""
    with running_platform(database) as first, running_platform(database) as second:
        assert first.transaction(bundle(patient("p1"))).status_code == 200
        sid = subscribe(first, receiver.url, "Observation?patient=p1")
        wait_status(first, sid, "active")
        assert second.get("metadata").status_code == 200     # both processes' dispatchers now run
        assert second.get(f"Subscription/{sid}").json()["status"] == "active"
        writers = [first, second]
        for index in range(12):
            assert writers[index % 2].transaction(bundle(observation(f"o{index}", "p1"))).status_code == 200
        receiver.wait(lambda got: len(got) >= 13, timeout=20)
        time.sleep(0.5)
        notes = receiver.events()
        numbers = [int(parameters(n)["events-since-subscription-start"]["valueString"]) for n in notes]
        seqs = [int(n["headers"]["x-sandkasse-event-seq"]) for n in notes]
        assert numbers == list(range(1, 13))                  # each event once, in order
        assert seqs == sorted(set(seqs))
        assert [n["body"]["entry"][1]["resource"]["id"] for n in notes] == [f"o{i}" for i in range(12)]


def test_with_helseid_a_read_scope_subscribes_to_its_own_service_only(tmp_path: Path, receiver: Receiver) -> None:
    import httpx

    from conformance.auth import HelseIdAuth
    from tests.security.conftest import API, TLS, SecurePlatform, _start

    app = _start(tmp_path)
    try:
        with start_in_thread(app) as running:
            platform = SecurePlatform(running.url, app)
            news2 = HelseIdAuth(platform.register(scopes=[f"{API}/news2-malinger.read"]))
            with httpx.Client(verify=TLS, auth=news2) as client:
                made = client.post(f"{platform.fhir()}/Subscription", json=subscription(receiver.url, "Observation"))
                assert made.status_code == 201, made.text             # a read scope is enough
                refused = client.post(f"{platform.fhir()}/Subscription",
                                      json=subscription(receiver.url, "EpisodeOfCare?status=active"))
                assert refused.status_code == 403 and "EpisodeOfCare" in refused.text
                sid = made.json()["id"]
                assert client.get(f"{platform.fhir()}/Subscription/{sid}").status_code == 200
            colleague = HelseIdAuth(platform.register(scopes=[f"{API}/news2-malinger.read"]))
            with httpx.Client(verify=TLS, auth=colleague) as client:
                assert client.get(f"{platform.fhir()}/Subscription/{sid}").status_code == 404
    finally:
        app.extensions["sandkasse.subscriptions"].stop()


def test_a_crashed_holders_lease_expires_and_delivery_resumes_from_the_cursor(tmp_path: Path,
                                                                              receiver: Receiver) -> None:
    from mock_platform.subscriptions import LEASES

    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="off-dev",
                                    extra={"SUBSCRIPTION_LIMITS": FAST}))
    store = app.extensions["sandkasse.storage"]
    try:
        with start_in_thread(app) as running:
            api = Api(running.url)
            assert api.transaction(bundle(patient("p1"))).status_code == 200
            sid = subscribe(api, receiver.url, "Observation")
            wait_status(api, sid, "active")
            # Another process took the lease and died without letting go: nothing is sent meanwhile ...
            assert store.kv_add_if_absent(LEASES, f"0301/{sid}", 1.0)
            assert api.transaction(bundle(observation("o1", "p1"))).status_code == 200
            time.sleep(0.5)
            assert receiver.events() == []
            # ... and when the lease expires, this process delivers from the cursor, once.
            receiver.wait(lambda got: len(got) >= 2)
            time.sleep(0.3)
            assert [e["resource"]["id"] for n in receiver.events() for e in n["body"]["entry"][1:]] == ["o1"]
    finally:
        app.extensions["sandkasse.subscriptions"].stop()
        store.close()
