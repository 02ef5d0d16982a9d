"""The hendelseslager: an append-only, gap-free sequence per tenant, and a feed consumers read
from a position and wait on."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.mock_platform.fhir import bundle, observation, patient


def test_sequence_is_gap_free_under_concurrent_writers_and_refusals(api) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200

    def send(i: int) -> int:
        writer = api.as_(f"epj-{i % 3}")
        if i % 4 == 3:      # an invalid bundle: refused, must not take a sequence number
            return writer.transaction(bundle(dict(observation(f"o{i}", "p1"), status="nope"))).status_code
        return writer.transaction(bundle(observation(f"o{i}", "p1", value=i))).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(24)))
    assert statuses.count(200) == 18 and statuses.count(422) == 6
    feed = api.events(_count=100)
    assert [e["seq"] for e in feed["events"]] == list(range(1, 20))
    assert feed["head"] == 19 and feed["last_seq"] == 19
    sources = {e["source"] for e in feed["events"][1:]}
    assert sources == {"epj-0", "epj-1", "epj-2"}


def test_feed_reads_from_a_position_in_pages(api) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    for i in range(5):
        assert api.transaction(bundle(observation(f"o{i}", "p1"))).status_code == 200
    page = api.events(since=2, _count=2)
    assert [e["seq"] for e in page["events"]] == [3, 4]
    assert "since=4" in page["next"]
    change = page["events"][0]["changes"][0]
    assert change == {"method": "PUT", "type": "Observation", "id": "o1", "version": 1, "patient": "Patient/p1",
                      "reference": "Observation/o1/_history/1"}
    assert api.get(change["reference"]).json()["id"] == "o1"
    assert api.events(since=6)["events"] == []


def test_long_poll_returns_when_an_event_arrives(api) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    started = threading.Event()

    def write_later() -> None:
        started.wait(5)
        threading.Event().wait(0.3)
        api.as_("epj-b").transaction(bundle(observation("late", "p1")))

    writer = threading.Thread(target=write_later)
    writer.start()
    started.set()
    # wait=50: if the long-poll did not wake up on the write, this request would time out (30 s client limit).
    feed = api.events(since=1, wait=50)
    writer.join()
    assert [c["id"] for e in feed["events"] for c in e["changes"]] == ["late"]


def test_long_poll_without_news_returns_empty_after_the_wait(api) -> None:
    feed = api.events(since=0, wait=0.2)
    assert feed["events"] == [] and feed["last_seq"] == 0
    bad = api.http.get(f"{api.root}/0301/events", params={"since": "-1"})
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_history_is_never_lost(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"))).status_code == 200
    for value in (81, 82):
        assert api.put("Observation/o1", observation("o1", "p1", value=value)).status_code == 200
    assert api.http.delete("Observation/o1").status_code == 204
    versions = api.get("Observation/_history").json()
    assert [e["response"]["etag"] for e in versions["entry"]] == ['W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']
    feed = api.events()
    assert [c["method"] for e in feed["events"] for c in e["changes"] if c["type"] == "Observation"] == \
        ["PUT", "PUT", "PUT", "DELETE"]


def test_projections_are_rebuilt_from_the_events_alone(api) -> None:
    from tests.mock_platform.fhir import ORG_B, organization, sperring
    assert api.transaction(bundle(organization("org-b", ORG_B))).status_code == 200
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"), observation("o2", "p1"))).status_code == 200
    assert api.put("Observation/o1", observation("o1", "p1", value=91)).status_code == 200
    assert api.http.delete("Observation/o2").status_code == 204
    assert api.transaction(bundle(sperring("s1", "p1", {"reference": "Organization/org-b"},
                                           classes=["Observation"]))).status_code == 200
    blocked = api.as_("epj-b", ORG_B)

    def snapshot() -> dict:
        return {"search": api.get("Observation", patient="p1", code="8867-4", date="ge2025-01-01").json()["entry"],
                "o1": api.get("Observation/o1").json(), "o2": api.get("Observation/o2").status_code,
                "history": [e.get("resource") for e in api.get("Observation/_history").json()["entry"]],
                "blocked": blocked.get("Observation/o1").status_code}

    before = snapshot()
    assert before["blocked"] == 403 and before["o2"] == 410
    rebuilt = api.admin("POST", "/tenants/0301/rebuild")
    assert rebuilt.status_code == 200 and rebuilt.json()["events_replayed"] == 5
    assert snapshot() == before
