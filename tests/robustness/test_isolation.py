"""Tenant isolation as a property: whatever a caller asks of one municipality's platform (reads,
searches with any parameters, history, the event feed, the audit trail), the answer never
contains anything of another municipality, even when the request names the other's ids and
identifiers outright. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_platform import PlatformConfig, create_app, start_in_thread
from tests.robustness.figures import record_figures

TYPES = ["Patient", "EpisodeOfCare", "Observation", "Condition", "MedicationStatement", "AllergyIntolerance",
         "Flag", "CarePlan", "RelatedPerson", "DocumentReference", "Consent", "Provenance", "AuditEvent",
         "Organization", "Practitioner", "PractitionerRole"]
PARAMS = ["_id", "identifier", "patient", "subject", "code", "category", "status", "date", "_lastUpdated",
          "_count", "_sort", "_include", "_revinclude", "_summary"]
EXAMPLES = 1500
_ID_IN_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b\d{11}\b")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_municipalities(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    database = (str(tmp_path_factory.mktemp("isolation") / "p.sqlite3") if request.param == "sqlite"
                else request.getfixturevalue("postgres_cluster").create_schema())
    app = create_app(PlatformConfig(database=database, tenants=("0301", "4601"), auth="off-dev"))
    with start_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for tenant, seed in (("0301", 1), ("4601", 2)):
            seeded = client.post(f"/admin/tenants/{tenant}/seed", json={"cohort": {"size": 6, "seed": seed}})
            assert seeded.status_code == 200, seeded.text
        yield server.url, request.param, _secrets(client, "0301"), _secrets(client, "4601")


def _secrets(client: httpx.Client, tenant: str) -> set[str]:
    """Every resource id and 11-digit identifier stored in the tenant, read through its own API."""
    found: set[str] = set()
    for rtype in TYPES[:-4]:
        url = f"/{tenant}/fhir/{rtype}?_count=500"
        while url:
            page = client.get(url).json()
            for entry in page.get("entry", []):
                resource = entry["resource"]
                found.add(resource["id"])
                found.update(i.get("value", "") for i in resource.get("identifier", [])
                             if len(i.get("value", "")) == 11)
            url = next((link["url"] for link in page.get("link", []) if link["relation"] == "next"), None)
    return found - {""}


def test_no_answer_of_one_municipality_reveals_the_other(two_municipalities) -> None:
    root, backend, oslo, bergen = two_municipalities
    assert oslo and bergen and not oslo & bergen, "the two cohorts must not share ids"
    foreign = sorted(bergen)
    counts = {"requests": 0}
    client = httpx.Client(base_url=root, timeout=30, headers={"X-Sandkasse-Dev-Client": "oslo-epj"})

    values = st.one_of(st.sampled_from(foreign), st.sampled_from(foreign).map(lambda v: f"Patient/{v}"),
                       st.sampled_from(foreign).map(lambda v: f"urn:oid:2.16.578.1.12.4.1.4.1|{v}"),
                       st.sampled_from(["ge2000-01-01", "lt2100-01-01", "1", "500", "-_lastUpdated",
                                        "Observation:subject", "Provenance:target", "*", "count"]))
    requests = st.one_of(
        st.tuples(st.just("search"), st.sampled_from(TYPES), st.dictionaries(st.sampled_from(PARAMS), values,
                                                                              max_size=3)),
        st.tuples(st.just("read"), st.sampled_from(TYPES), st.sampled_from(foreign)),
        st.tuples(st.just("history"), st.sampled_from(TYPES), st.sampled_from(foreign)),
        st.tuples(st.just("type-history"), st.sampled_from(TYPES), st.just("")),
        st.tuples(st.just("feed"), st.just(""), st.integers(0, 50).map(str)),
        st.tuples(st.just("audit"), st.just("AuditEvent"), st.sampled_from(foreign)),
    )

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(request=requests)
    def ask_oslo(request) -> None:
        kind, rtype, arg = request
        base = "/0301/fhir"
        url, params = {
            "search": (f"{base}/{rtype}", arg),
            "read": (f"{base}/{rtype}/{arg}", None),
            "history": (f"{base}/{rtype}/{arg}/_history", None),
            "type-history": (f"{base}/{rtype}/_history", None),
            "feed": ("/0301/events", {"since": arg, "_count": 50}),
            "audit": (f"{base}/AuditEvent", {"patient": arg}),
        }[kind]
        response = client.get(url, params=params)
        counts["requests"] += 1
        assert response.status_code < 500, f"{url} {params}: {response.status_code} {response.text[:200]}"
        # What the request itself named may be echoed (a self link, a "not found" message); a real
        # leak brings what was not asked for: the patient's fødselsnummer, references, other ids.
        asked = set(_ID_IN_TEXT.findall(unquote(str(response.request.url))))
        leaked = (set(_ID_IN_TEXT.findall(response.text)) - asked) & bergen
        assert not leaked, f"GET {url} {params} revealed Bergen's {sorted(leaked)[:3]}"

    try:
        ask_oslo()
    finally:
        client.close()
        record_figures(f"isolation-{backend}", {"isolation_requests": counts["requests"]})
