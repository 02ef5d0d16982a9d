"""The batched append of the hendelseslager, on SQLite and PostgreSQL: one request's rows are
written table by table, and still mean exactly what one write after the other meant."""
from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from mock_platform import search
from mock_platform.errors import FhirError
from mock_platform.searchparams import index
from mock_platform.storage import Actor, MessageProcessed, Write, open_storage
from tests.mock_platform.fhir import patient, observation
from tests.mock_platform.old_layouts import make_version

ACTOR = Actor("epj-a", "974600007")


def _allow(write, current) -> None:
    pass


def _put(resource: dict) -> Write:
    return Write("PUT", resource["resourceType"], resource["id"], resource, index(resource))


def _find(store, rtype: str, query: str) -> list[str]:
    parsed = search.parse("0301", rtype, MultiDict([tuple(kv.split("=", 1)) for kv in query.split("&")]))
    total, found = store.search(parsed.query)
    assert total == len(found)
    return sorted(s.resource["id"] for s in found)


@pytest.fixture()
def store(database: str):
    storage = open_storage(database)
    storage.create_tenant("0301", "municipality", "0301")
    storage.append("0301", "transaction", [_put(patient("p1", 1)), _put(patient("p2", 2))], ACTOR, _allow)
    yield storage
    storage.close()


def test_a_resource_written_twice_in_one_request_keeps_both_versions_and_only_the_last_index(store) -> None:
    first, second = observation("o1", "p1", code="8867-4"), observation("o1", "p1", code="9279-1")
    seq, outcomes = store.append("0301", "transaction", [_put(first), _put(second)], ACTOR, _allow)
    assert [o.stored.version for o in outcomes] == [1, 2]
    assert [o.status for o in outcomes] == ["201 Created", "200 OK"]
    assert store.read("0301", "Observation", "o1").resource["code"]["coding"][0]["code"] == "9279-1"
    assert _find(store, "Observation", "code=9279-1") == ["o1"]
    assert _find(store, "Observation", "code=8867-4") == []
    total, versions = store.history("0301", "Observation", "o1", 10, 0)
    assert total == 2 and [v.version for v in versions] == [2, 1]
    (event,) = [e for e in store.events("0301", 0, 10) if e["seq"] == seq]
    assert [(c["version"], c["resource"]["code"]["coding"][0]["code"]) for c in event["changes"]] == \
        [(1, "8867-4"), (2, "9279-1")]


def test_an_update_replaces_the_index_rows_of_the_stored_version(store) -> None:
    store.append("0301", "transaction", [_put(observation("o1", "p1", code="8867-4"))], ACTOR, _allow)
    store.append("0301", "transaction", [_put(observation("o1", "p1", code="9279-1",
                                                          when="2024-06-01T00:00:00Z"))], ACTOR, _allow)
    assert _find(store, "Observation", "code=8867-4") == []
    assert _find(store, "Observation", "patient=Patient/p1&code=9279-1&date=lt2025-01-01") == ["o1"]
    assert _find(store, "Observation", "patient=Patient/p1&date=ge2025-01-01") == []


def test_a_delete_in_the_same_request_as_its_create_leaves_no_index_rows(store) -> None:
    seq, outcomes = store.append("0301", "transaction", [
        _put(observation("o1", "p1")), Write("DELETE", "Observation", "o1")], ACTOR, _allow)
    assert [o.status for o in outcomes] == ["201 Created", "204 No Content"]
    assert store.read("0301", "Observation", "o1").deleted
    assert _find(store, "Observation", "patient=p1&code=8867-4") == []
    assert _find(store, "Observation", "patient=p1") == []


def test_a_conditional_create_sees_the_writes_before_it_in_the_same_request(store) -> None:
    condition = search.parse("0301", "Observation", MultiDict([("code", "8867-4"), ("patient", "p2")])).query
    condition.count = 2
    again = observation("o-new", "p2")
    seq, outcomes = store.append("0301", "transaction", [
        _put(observation("o2", "p2")),
        Write("POST", "Observation", "o-new", again, index(again), if_none_exist=condition)], ACTOR, _allow)
    assert outcomes[1].status == "200 OK" and outcomes[1].stored.resource["id"] == "o2"
    assert store.read("0301", "Observation", "o-new") is None


def test_a_refused_write_late_in_a_request_stores_nothing_of_it(store) -> None:
    def refuse_o3(write, current) -> None:
        if write.rid == "o3":
            raise FhirError(412, [])
    before = store.last_seq("0301")
    with pytest.raises(FhirError):
        store.append("0301", "transaction", [_put(observation(f"o{i}", "p1")) for i in range(1, 5)], ACTOR, refuse_o3)
    assert store.last_seq("0301") == before
    assert store.read("0301", "Observation", "o1") is None
    assert _find(store, "Observation", "patient=p1&code=8867-4") == []


def test_the_event_body_is_the_json_of_its_changes(store) -> None:
    resource = observation("o1", "p1")
    resource["note"] = [{"text": "Målt i hjemmet, \"rolig\" pasient"}]
    seq, (outcome,) = store.append("0301", "transaction", [_put(resource)], ACTOR, _allow)
    (event,) = [e for e in store.events("0301", 0, 10) if e["seq"] == seq]
    assert event["changes"] == [{"method": "PUT", "type": "Observation", "id": "o1", "version": 1,
                                 "patient": "Patient/p1", "resource": outcome.stored.resource}]
    assert json.loads(json.dumps(event))["changes"][0]["resource"]["note"][0]["text"].startswith("Målt")


def test_a_search_within_one_patient_follows_that_patients_matches(store) -> None:
    """patient + code is answered from the patient's rows of that code (index tokens_search)."""
    store.append("0301", "transaction", [_put(observation(f"a{i}", "p1", code="8867-4" if i % 4 == 0 else "9279-1",
                                                           when=f"2025-03-{1 + i % 28:02d}T10:00:00Z"))
                                          for i in range(40)], ACTOR, _allow)
    store.append("0301", "transaction", [_put(observation(f"b{i}", "p2", code="8867-4")) for i in range(10)],
                 ACTOR, _allow)
    assert _find(store, "Observation", "patient=Patient/p1&code=http://loinc.org|8867-4&date=ge2025-03-01") == \
        sorted(f"a{i}" for i in range(0, 40, 4))
    assert _find(store, "Observation", "subject=p1&code=8867-4&date=ge2025-03-09") == \
        sorted(f"a{i}" for i in range(0, 40, 4) if 1 + i % 28 >= 9)
    assert _find(store, "Observation", "patient=p2&code=8867-4,9279-1") == sorted(f"b{i}" for i in range(10))
    parsed = search.parse("0301", "Observation", MultiDict([("patient", "p1"), ("code", "8867-4"),
                                                            ("subject", "Patient/p1")]))
    driver = parsed.query.where[0][0]
    assert "t.patient=?" in driver and "tokens t" in driver
    # The clauses naming the patient are not checked again per match: the driver's rows are hers.
    assert len(parsed.query.where) == 1
    assert _find(store, "Observation", "patient=p1&subject=Patient/p1&code=8867-4") == \
        sorted(f"a{i}" for i in range(0, 40, 4))
    assert _find(store, "Observation", "patient=p1&subject=Patient/p2&code=8867-4") == []


def test_stored_json_reads_back_exactly_whatever_the_parser(store) -> None:
    """An integer beyond 64 bits (a FHIR decimal may be one) and non-ASCII text come back as sent."""
    resource = observation("o1", "p1")
    resource["valueQuantity"]["value"] = 123456789012345678901234567890
    resource["note"] = [{"text": "målt 12345678901234567890 ganger"}, {"text": "æøå"}]
    store.append("0301", "transaction", [_put(resource)], ACTOR, _allow)
    back = store.read("0301", "Observation", "o1").resource
    assert back["valueQuantity"]["value"] == 123456789012345678901234567890
    assert isinstance(back["valueQuantity"]["value"], int)
    assert [n["text"] for n in back["note"]] == ["målt 12345678901234567890 ganger", "æøå"]


def test_a_database_without_the_patient_of_tokens_is_migrated_when_opened(database: str) -> None:
    """A database made by the previous version (tokens without patient) opens, gains the column
    filled from its resources, and answers searches within one patient as before."""
    old = open_storage(database)
    old.create_tenant("0301", "municipality", "0301")
    old.append("0301", "transaction", [_put(patient("p1", 1)), _put(observation("o1", "p1")),
                                       _put(observation("o2", "p1", code="9279-1"))], ACTOR, _allow)
    make_version(old, 1)
    old.close()
    store = open_storage(database)
    try:
        assert _find(store, "Observation", "patient=p1&code=8867-4") == ["o1"]
        with store._conn() as conn:
            missing = store._exec(conn, "SELECT COUNT(*) FROM tokens WHERE type='Observation' AND patient IS NULL")
            assert missing.fetchone()[0] == 0
    finally:
        store.close()


def test_a_database_without_row_numbers_is_migrated_when_opened(database: str) -> None:
    """A database made by version 2 (index rows named by type and id) opens with every resource
    numbered and its index rows following; searches, updates and new resources work as before."""
    old = open_storage(database)
    old.create_tenant("0301", "municipality", "0301")
    old.create_tenant("4601", "municipality", "4601")
    for tenant in ("0301", "4601"):
        old.append(tenant, "transaction", [_put(patient("p1", 1)), _put(observation("o1", "p1")),
                                           _put(observation("o2", "p1", code="9279-1"))], ACTOR, _allow)
    make_version(old, 2)
    old.close()
    store = open_storage(database)
    try:
        with store._conn() as conn:
            numbers = store._exec(conn, "SELECT tenant, rno FROM resources").fetchall()
            unnumbered = store._exec(conn, "SELECT COUNT(*) FROM tokens WHERE rno IS NULL").fetchone()[0]
            orphans = store._exec(conn, "SELECT COUNT(*) FROM dates d WHERE NOT EXISTS (SELECT 1 FROM resources r "
                                        "WHERE r.tenant=d.tenant AND r.rno=d.rno AND r.id=d.id)").fetchone()[0]
        assert all(rno is not None and rno < 0 for _, rno in numbers)
        assert len(set(numbers)) == len(numbers) == 6
        assert unnumbered == 0 and orphans == 0
        assert _find(store, "Observation", "patient=p1&code=8867-4&date=ge2025-01-01") == ["o1"]
        changed = observation("o1", "p1", code="9279-1")
        store.append("0301", "transaction", [_put(changed), _put(observation("o3", "p1"))], ACTOR, _allow)
        assert _find(store, "Observation", "patient=p1&code=9279-1") == ["o1", "o2"]
        assert _find(store, "Observation", "patient=p1&code=8867-4") == ["o3"]
        seq, _ = store.append("0301", "message", [_put(observation("o4", "p1"))], ACTOR, _allow,
                              message={"key": "m1@epj-a"})
        assert store.message_event("0301", "m1@epj-a")["seq"] == seq          # events name their message
        store.close()
        store = open_storage(database)        # opening a migrated database again changes nothing
        assert _find(store, "Observation", "code=9279-1&status=final") == ["o1", "o2"]
    finally:
        store.close()


def test_a_search_page_carries_the_total_of_all_matches_also_past_the_end(store) -> None:
    store.append("0301", "transaction", [_put(observation(f"o{i}", "p1", when=f"2025-03-{1 + i:02d}T10:00:00Z"))
                                         for i in range(7)], ACTOR, _allow)
    pages = []
    for offset in (0, 3, 6, 9):
        parsed = search.parse("0301", "Observation", MultiDict([("patient", "p1"), ("code", "8867-4"),
                                                                ("_count", "3"), ("_offset", str(offset))]))
        total, found = store.search(parsed.query)
        assert total == 7
        pages.append([s.resource["id"] for s in found])
    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert sorted(sum(pages, [])) == sorted(f"o{i}" for i in range(7))
    none_asked = search.parse("0301", "Observation", MultiDict([("patient", "p1"), ("_count", "0")]))
    assert store.search(none_asked.query) == (7, [])                  # a page of no entries still counts
    nothing = search.parse("0301", "Observation", MultiDict([("patient", "p2")]))
    assert store.search(nothing.query) == (0, [])


def test_a_message_is_stored_once_and_its_event_names_it(store) -> None:
    """The message's key is checked and written in the event's own transaction: a second copy
    stores nothing, and no crash can leave the data without the mark or the mark without the data."""
    mark = {"key": "m1@epj-a", "id": "m1", "bundle": "b1", "event": "urn:x|news2", "digest": "d"}
    seq, _ = store.append("0301", "message", [_put(observation("o1", "p1"))], ACTOR, _allow, message=mark)
    with pytest.raises(MessageProcessed) as processed:
        store.append("0301", "message", [_put(observation("o2", "p1"))], ACTOR, _allow, message=mark)
    assert processed.value.seq == seq
    assert store.last_seq("0301") == seq and store.read("0301", "Observation", "o2") is None
    event = store.message_event("0301", "m1@epj-a")
    assert event["seq"] == seq and event["kind"] == "message" and event["message"] == mark
    assert [c["id"] for c in event["changes"]] == ["o1"]
    assert store.message_event("0301", "m1@epj-b") is None
    other, _ = store.append("0301", "message", [_put(observation("o3", "p1"))], ACTOR, _allow,
                            message=mark | {"key": "m1@epj-b"})        # another client's m1 is its own
    assert other == seq + 1
    store.reset_tenant("0301")
    assert store.message_event("0301", "m1@epj-a") is None             # a reset forgets it with the data
