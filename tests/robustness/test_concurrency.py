"""Many writers at once, on SQLite and PostgreSQL: no lost update under If-Match, no duplicate
from resent conditional creates, and an event sequence without gaps or repeats."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.mock_platform.conftest import Api, api, database, server  # noqa: F401  (fixtures)
from tests.mock_platform.fhir import bundle, observation, patient

WRITERS = 8
INCREMENTS = 6   # each writer's successful updates


def _increment(api: Api, oid: str) -> int:
    """Read, add one, write back with If-Match; retry on 412. Returns the attempts it took."""
    attempts = 0
    while True:
        attempts += 1
        current = api.get(f"Observation/{oid}")
        assert current.status_code == 200, current.text
        body = current.json()
        body["valueQuantity"]["value"] = body["valueQuantity"]["value"] + 1
        body.pop("meta", None)
        written = api.put(f"Observation/{oid}", body, **{"If-Match": current.headers["ETag"]})
        if written.status_code == 200:
            return attempts
        assert written.status_code == 412, written.text   # a lost race, never anything else


def test_if_match_writers_lose_no_update(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1", value=0))).status_code == 200
    writers = [api.as_("epj-a") for _ in range(WRITERS)]     # the source system, on separate connections
    with ThreadPoolExecutor(WRITERS) as pool:
        attempts = list(pool.map(lambda w: sum(_increment(w, "o1") for _ in range(INCREMENTS)), writers))
    final = api.get("Observation/o1").json()
    assert final["valueQuantity"]["value"] == WRITERS * INCREMENTS      # no update was lost
    assert final["meta"]["versionId"] == str(1 + WRITERS * INCREMENTS)  # one version per success
    assert sum(attempts) > WRITERS * INCREMENTS, "the writers never raced: the test proved nothing"
    seqs = [e["seq"] for e in api.events(_count=1000)["events"]]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 1 + WRITERS * INCREMENTS


def test_concurrent_resends_of_a_conditional_create_make_one_resource(api) -> None:
    assert api.transaction(bundle(patient("p1"))).status_code == 200
    obs = observation("ignored", "p1", value=77)
    obs["identifier"] = [{"system": "urn:epj-a:maaling", "value": "M-42"}]
    start = threading.Barrier(WRITERS)

    def resend(_: int) -> tuple[int, str]:
        writer = api.as_("epj-a")
        start.wait()
        response = writer.post("Observation", obs, **{"If-None-Exist": "identifier=urn:epj-a:maaling|M-42"})
        return response.status_code, response.json().get("id", "")

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(resend, range(WRITERS)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (WRITERS - 1) + [201], results
    assert len({rid for _, rid in results}) == 1
    assert api.get("Observation", identifier="urn:epj-a:maaling|M-42").json()["total"] == 1
    assert [e["seq"] for e in api.events(_count=100)["events"]] == [1, 2]
