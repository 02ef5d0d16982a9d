"""FHIR search on the information services: every parameter, date comparators, paging, sort,
_include and _revinclude, and refusals of what is not supported."""
from __future__ import annotations

import httpx
import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from tests.mock_platform.conftest import BACKENDS, Api
from tests.mock_platform.fhir import SURVEY, bundle, episode, observation, organization, patient


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One loaded platform per backend for the whole module: searches do not change data."""
    if request.param == "sqlite":
        database = str(tmp_path_factory.mktemp("search") / "platform.sqlite3")
    else:
        database = request.getfixturevalue("postgres_cluster").create_schema()
    app = create_app(PlatformConfig(database=database, tenants=("0301",), auth="off-dev"))
    with start_in_thread(app) as server:
        yield _load(Api(server.url))
    app.extensions["sandkasse.storage"].close()


def _load(api: Api) -> Api:
    assert api.transaction(bundle(organization("org1"))).status_code == 200
    assert api.transaction(bundle(
        patient("p1"),
        observation("hr1", "p1", "8867-4", "2025-03-01T10:00:00Z", 80),
        observation("hr2", "p1", "8867-4", "2025-03-02T10:00:00Z", 90),
        observation("hr3", "p1", "8867-4", "2025-03-03T10:00:00+01:00", 100),
        observation("rr1", "p1", "9279-1", "2025-03-02T11:00:00Z", 18),
        observation("sc1", "p1", "total", "2025-03-02T12:00:00Z", 3, category=SURVEY, status="preliminary"),
        episode("e1", "p1", "2024-01-01", "2024-06-30", "finished", "V-1", org="org1"),
        episode("e2", "p1", "2024-07-01", None, "active", "V-2", org="org1"),
    )).status_code == 200
    assert api.transaction(bundle(patient("p2", 2), observation("hr9", "p2", "8867-4", "2025-03-02T10:00:00Z"),
                                  episode("e9", "p2", vedtak="V-9"))).status_code == 200
    return api


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["resource"]["id"] for e in response.json()["entry"] if e["search"]["mode"] == "match"]


def test_token_reference_and_status_parameters(loaded) -> None:
    api = loaded
    assert ids(api.get("Observation", patient="p1", code="http://loinc.org|8867-4", _sort="_id")) == \
        ["hr1", "hr2", "hr3"]
    assert ids(api.get("Observation", subject="Patient/p2")) == ["hr9"]
    assert ids(api.get("Observation", patient="p1", code="9279-1")) == ["rr1"]
    assert ids(api.get("Observation", patient="p1", code="9279-1,total", _sort="_id")) == ["rr1", "sc1"]
    category = "http://terminology.hl7.org/CodeSystem/observation-category|survey"
    assert ids(api.get("Observation", category=category)) == ["sc1"]
    assert ids(api.get("Observation", status="preliminary")) == ["sc1"]
    assert ids(api.get("EpisodeOfCare", patient="p1", status="active")) == ["e2"]
    assert ids(api.get("EpisodeOfCare", identifier="https://sandkasse.no/fhir/sid/vedtak/0301|V-9")) == ["e9"]
    assert ids(api.get("EpisodeOfCare", organization="Organization/org1", _sort="_id")) == ["e1", "e2"]
    assert ids(api.get("Observation", code="http://other|8867-4")) == []


DATE_CASES = [
    ("2025-03-02", ["hr2"]),
    ("eq2025-03-02", ["hr2"]),
    ("ge2025-03-02", ["hr2", "hr3"]),
    ("gt2025-03-02", ["hr3"]),
    ("le2025-03-02", ["hr1", "hr2"]),
    ("lt2025-03-02", ["hr1"]),
    ("ne2025-03-02", ["hr1", "hr3"]),
    ("sa2025-03-01", ["hr2", "hr3"]),
    ("eb2025-03-02", ["hr1"]),
    ("2025-03", ["hr1", "hr2", "hr3"]),
    ("ge2025-03-03T09:00:00Z", ["hr3"]),          # hr3 is 10:00+01:00 = 09:00Z
    ("gt2025-03-03T09:00:00Z", []),
]


def test_date_comparators(loaded) -> None:
    found = {value: ids(loaded.get("Observation", patient="p1", code="8867-4", date=value, _sort="date"))
             for value, _ in DATE_CASES}
    assert found == dict(DATE_CASES)


def test_period_dates_and_two_bounds(loaded) -> None:
    api = loaded
    # e2 has an open end: it is ongoing, so it overlaps every later date.
    assert ids(api.get("EpisodeOfCare", patient="p1", date="ge2025-01-01")) == ["e2"]
    assert ids(api.get("EpisodeOfCare", patient="p1", date="le2024-03-01")) == ["e1"]
    both = httpx.QueryParams([("patient", "p1"), ("code", "8867-4"), ("date", "ge2025-03-02"),
                              ("date", "lt2025-03-03")])
    assert ids(api.http.get("Observation", params=both)) == ["hr2"]


def test_last_updated_and_id(loaded) -> None:
    api = loaded
    assert ids(api.get("Observation", _id="hr1,rr1", _sort="_id")) == ["hr1", "rr1"]
    assert len(ids(api.get("Observation", _lastUpdated="ge2000-01-01"))) == 6
    assert ids(api.get("Observation", _lastUpdated="lt2000-01-01")) == []


def test_sort(loaded) -> None:
    api = loaded
    assert ids(api.get("Observation", patient="p1", code="8867-4", _sort="-date")) == ["hr3", "hr2", "hr1"]
    assert ids(api.get("Observation", patient="p1", code="8867-4", _sort="date")) == ["hr1", "hr2", "hr3"]
    assert ids(api.get("Observation", patient="p1", _sort="-_id"))[:2] == ["sc1", "rr1"]
    refused = api.get("Observation", _sort="value")
    assert refused.status_code == 400 and "Sort by _id, _lastUpdated, date" in refused.json()["issue"][0]["diagnostics"]


def test_count_and_paging_links_reach_every_result(loaded) -> None:
    api = loaded
    first = api.get("Observation", patient="p1", _count=2, _sort="_id").json()
    assert first["total"] == 5 and len(first["entry"]) == 2
    seen, page = [], first
    while True:
        seen += [e["resource"]["id"] for e in page["entry"]]
        links = {link["relation"]: link["url"] for link in page["link"]}
        if "next" not in links:
            break
        page = api.http.get(links["next"]).json()
    assert seen == ["hr1", "hr2", "hr3", "rr1", "sc1"]
    assert "previous" in links and "_count=2" in links["self"]
    summary = api.get("Observation", patient="p1", _summary="count").json()
    assert (summary["total"], summary["entry"]) == (5, [])


def test_include_and_revinclude(loaded) -> None:
    api = loaded
    bundle_ = api.get("EpisodeOfCare", patient="p1", _include=["EpisodeOfCare:patient",
                                                               "EpisodeOfCare:organization"]).json()
    modes = {(e["resource"]["resourceType"], e["resource"]["id"]): e["search"]["mode"] for e in bundle_["entry"]}
    assert modes == {("EpisodeOfCare", "e1"): "match", ("EpisodeOfCare", "e2"): "match",
                     ("Patient", "p1"): "include", ("Organization", "org1"): "include"}
    assert bundle_["total"] == 2
    rev = api.get("Patient", _id="p2", _revinclude="EpisodeOfCare:patient").json()
    assert [(e["resource"]["id"], e["search"]["mode"]) for e in rev["entry"]] == [("p2", "match"), ("e9", "include")]
    refused = api.get("EpisodeOfCare", _include="Observation:subject")
    assert refused.status_code == 400 and "EpisodeOfCare:patient" in refused.json()["issue"][0]["diagnostics"]


def test_unknown_and_malformed_parameters_are_refused_with_a_fix(loaded) -> None:
    api = loaded
    unknown = api.get("Observation", colour="blue")
    assert unknown.status_code == 400
    issue = unknown.json()["issue"][0]
    assert issue["expression"] == ["colour"] and "Supported for Observation" in issue["diagnostics"]
    bad_date = api.get("Observation", date="ge03.02.2025")
    assert bad_date.status_code == 400 and "is not a FHIR date" in bad_date.json()["issue"][0]["details"]["text"]
    assert api.get("Observation", _count="many").status_code == 400


def test_string_parameters(loaded) -> None:
    assert ids(loaded.get("Patient", family="testesen2")) == ["p2"]
