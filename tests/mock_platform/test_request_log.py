"""The request log (GET /admin/tenants/<t>/requests): every request to a tenant's FHIR API and
event feed, refused ones included, with a per-tenant monotonic sequence; operator-only; bounded."""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.storage import open_storage
from mock_platform.storage.requestlog import RequestRecord
from tests.mock_platform.conftest import Api
from tests.mock_platform.fhir import bundle, observation, patient


def _log(api: Api, tenant: str = "0301", **params) -> dict:
    response = api.admin("GET", f"/tenants/{tenant}/requests", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_records_each_request_with_its_answer(api: Api) -> None:
    start = _log(api)["last"]
    posted = bundle(patient("p1"), observation("o1", "p1"))
    assert api.transaction(posted).status_code == 200
    assert api.get("Observation", patient="p1").status_code == 200
    log = _log(api, since=start)
    intake, search = log["requests"]
    assert [intake["seq"], search["seq"]] == [start + 1, start + 2] and log["last"] == start + 2
    assert (intake["method"], intake["path"], intake["status"]) == ("POST", "", 200)
    assert intake["url"] == api.base and intake["body"] == posted          # JSON, as sent
    assert intake["response"]["resourceType"] == "Bundle" and intake["truncated"] == []
    assert intake["headers"]["content-type"] == "application/json"
    assert "x-sandkasse-dev-client" in intake["other_headers"]              # names only, no values
    assert "epj-a" not in str(intake["other_headers"])
    assert (search["method"], search["path"], search["body"]) == ("GET", "Observation", None)
    assert search["url"] == f"{api.base}/Observation?patient=p1"
    assert search["status"] == 200 and search["time"] >= intake["time"]
    assert search["response"] is None      # a successful read's answer is in the store, not the log


def test_refused_requests_are_recorded(api: Api) -> None:
    start = _log(api)["last"]
    assert api.get("Nonsense").status_code == 404
    assert api.transaction({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Observation", "status": "bogus"},
         "request": {"method": "POST", "url": "Observation"}}]}).status_code in (400, 422)
    assert api.admin("PUT", "/tenants/0301/faults", json=[{"route": "Patient*", "kind": "503"}]).status_code == 200
    assert api.get("Patient", _id="p1").status_code == 503
    statuses = [(r["method"], r["path"], r["status"]) for r in _log(api, since=start)["requests"]]
    assert statuses[0] == ("GET", "Nonsense", 404)
    assert statuses[1][:2] == ("POST", "") and statuses[1][2] in (400, 422)
    assert statuses[2] == ("GET", "Patient", 503)


def test_the_feed_is_recorded_beside_the_fhir_base(api: Api) -> None:
    start = _log(api)["last"]
    api.events(since=0)
    (entry,) = _log(api, since=start)["requests"]
    assert entry["path"] == "../events" and entry["status"] == 200


def test_tenants_never_see_each_others_requests(api: Api) -> None:
    other = api.as_("epj-b", tenant="4601")
    start_a, start_b = _log(api)["last"], _log(api, "4601")["last"]
    assert other.get("Patient", _id="x").status_code == 200
    assert _log(api, since=start_a)["requests"] == []
    (entry,) = _log(api, "4601", since=start_b)["requests"]
    assert entry["url"].startswith(f"{api.root}/4601/fhir")
    assert api.admin("GET", "/tenants/nowhere/requests").status_code == 404


def test_paging_with_limit_and_bad_parameters(api: Api) -> None:
    start = _log(api)["last"]
    for _ in range(5):
        api.get("Patient", _id="p1")
    first = _log(api, since=start, limit=3)
    assert len(first["requests"]) == 3 and first["last"] == start + 5
    rest = httpx.get(first["next"], headers=api.http.headers).json()
    assert [r["seq"] for r in rest["requests"]] == [start + 4, start + 5] and "next" not in rest
    for params in ({"since": "-1"}, {"limit": "0"}, {"limit": "x"}):
        bad = api.admin("GET", "/tenants/0301/requests", params=params)
        assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_reset_clears_the_log_and_the_sequence_goes_on(api: Api) -> None:
    api.get("Patient", _id="p1")
    before = _log(api)["last"]
    assert api.admin("DELETE", "/tenants/0301/data").status_code == 200
    assert _log(api)["requests"] == []
    api.get("Patient", _id="p1")
    (entry,) = _log(api)["requests"]
    assert entry["seq"] == before + 1                  # a reader's `since` cursor stays valid


def test_an_injected_truncation_is_recorded_as_sent(api: Api) -> None:
    api.transaction(bundle(patient("p1"), *(observation(f"o{i}", "p1") for i in range(4))))
    api.admin("PUT", "/tenants/0301/faults", json=[{"route": "Observation", "kind": "truncated"}])
    start = _log(api)["last"]
    sent = api.get("Observation", patient="p1").json()
    (entry,) = _log(api, since=start)["requests"]
    assert entry["response"] == sent and len(sent["entry"]) == 2


@pytest.fixture()
def small_log(tmp_path: Path):
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), tenants=("0301",), auth="off-dev",
                                    extra={"REQUEST_LOG_KEEP": 4, "REQUEST_LOG_MAX_BYTES": 300}))
    with start_in_thread(app) as server:
        yield Api(server.url), app
    app.extensions["sandkasse.storage"].close()


def test_size_is_bounded_and_bodies_are_capped(small_log) -> None:
    api, _ = small_log
    for i in range(6):
        api.get("Patient", _id=f"p{i}")
    log = _log(api)
    assert [r["seq"] for r in log["requests"]] == [3, 4, 5, 6] and log["last"] == 6
    api.transaction(bundle(patient("p1"), observation("o1", "p1")))
    (entry,) = _log(api, since=6)["requests"]
    assert entry["truncated"] == ["body", "response"] or entry["truncated"] == ["body"]
    assert isinstance(entry["body"], str) and len(entry["body"]) == 300      # cut text, not JSON


def test_two_platform_processes_on_one_database_never_share_a_number(tmp_path: Path) -> None:
    """Two apps (as two processes would) on one database: one sequence, no number twice."""
    config = PlatformConfig(database=str(tmp_path / "shared.sqlite3"), tenants=("0301",), auth="off-dev")
    first, second = create_app(config), create_app(config)
    with start_in_thread(first) as a, start_in_thread(second) as b:
        apis = [Api(a.url), Api(b.url)]
        for i in range(10):
            apis[i % 2].get("Patient", _id="p1")
        first.extensions["sandkasse.storage"].flush_request_log()   # the other process's buffer
        log = _log(apis[1])["requests"]
    assert [r["seq"] for r in log] == list(range(1, 11))
    assert {r["url"].split("/0301")[0] for r in log} == {a.url, b.url}


def test_the_log_needs_the_operator_with_helseid_on(tmp_path: Path) -> None:
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), tenants=("0301",),
                                    extra={"OPERATOR_TOKEN": "op-secret"}))
    with start_in_thread(app) as server:
        refused = httpx.get(f"{server.url}/0301/fhir/Patient")              # no token: refused, and logged
        assert refused.status_code == 401
        url = f"{server.url}/admin/tenants/0301/requests"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        log = httpx.get(url, headers={"Authorization": "Bearer op-secret"})
        assert log.status_code == 200
        (entry,) = log.json()["requests"]
        assert (entry["path"], entry["status"]) == ("Patient", 401)
        assert entry["response"]["resourceType"] == "OperationOutcome"


def _record(tenant: str = "0301", path: str = "Patient") -> RequestRecord:
    return RequestRecord(tenant, time.time(), "GET", f"http://x/{tenant}/fhir/{path}", path, {}, (), None, 200, None)


def test_the_flusher_stops_when_idle_and_restarts_on_demand(database: str) -> None:
    store = open_storage(database)
    store.create_tenant("0301", "municipality", "0301")
    store.REQUEST_LOG_IDLE_ROUNDS = 2
    store.log_request(_record())
    first = store._request_log_buffer().flusher[1]
    first.join(timeout=5)                                    # flushed, idle, stopped: no thread per app forever
    assert not first.is_alive() and store._request_log_buffer().flusher is None
    with store._conn() as conn:                              # written by the flusher, not by a reader's flush
        assert store._exec(conn, "SELECT COUNT(*) FROM request_log").fetchone()[0] == 1
    store.log_request(_record(path="Observation"))
    assert store._request_log_buffer().flusher[1].is_alive()
    _, rows, more = store.request_log("0301", 0, 10)
    assert [r["path"] for r in rows] == ["Patient", "Observation"] and not more
    store.close()


def test_an_unreachable_database_costs_bounded_memory(tmp_path: Path) -> None:
    store = open_storage(str(tmp_path / "p.sqlite3"))
    store.REQUEST_LOG_MAX_BUFFERED = 3
    store.REQUEST_LOG_FLUSH_SECONDS = 60                      # nothing is written meanwhile
    for i in range(5):
        store.log_request(_record(path=f"Patient/{i}"))
    assert [r.path for r in store._request_log_buffer().rows] == ["Patient/2", "Patient/3", "Patient/4"]
