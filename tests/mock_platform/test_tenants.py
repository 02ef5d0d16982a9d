"""Tenants: isolated platform instances, created, seeded and reset over the admin API."""
from __future__ import annotations

import pytest

from mock_platform.app import PlatformConfig, create_app
from mock_platform.server import start_in_thread
from tests.mock_platform.conftest import Api
from tests.mock_platform.fhir import bundle, observation, patient


def test_tenants_are_isolated(api) -> None:
    assert api.transaction(bundle(patient("p1"), observation("o1", "p1"))).status_code == 200
    other = api.as_("epj-a", tenant="4601")
    assert other.get("Observation/o1").status_code == 404
    assert other.get("Patient", identifier=patient("p1")["identifier"][0]["value"]).json()["total"] == 0
    assert other.events()["events"] == []
    assert other.get("AuditEvent", patient="p1").json()["total"] == 0
    # The same ids may exist in both, independently.
    assert other.transaction(bundle(patient("p1", 5))).status_code == 200
    assert other.get("Patient/p1").json()["name"][0]["family"] == "Testesen5"
    assert api.get("Patient/p1").json()["name"][0]["family"] == "Testesen1"


def test_create_seed_and_reset_a_vendor_tenant(api) -> None:
    created = api.admin("POST", "/tenants", json={"id": "acme-test", "kind": "vendor", "kommunenummer": "0301"})
    assert created.status_code == 201, created.text
    assert created.json()["fhir_base"].endswith("/acme-test/fhir")
    assert api.admin("POST", "/tenants", json={"id": "acme-test", "kind": "vendor",
                                               "kommunenummer": "0301"}).status_code == 409
    listed = {t["id"]: t for t in api.admin("GET", "/tenants").json()["tenants"]}
    assert set(listed) == {"0301", "4601", "acme-test"}
    vendor = api.as_("epj-a", tenant="acme-test")
    lines = "\n".join(__import__("json").dumps(b) for b in (bundle(patient("p1")), bundle(observation("o1", "p1"))))
    seeded = api.admin("POST", "/tenants/acme-test/seed", content=lines.encode(),
                       headers={"Content-Type": "application/x-ndjson"})
    assert seeded.status_code == 200 and seeded.json()["loaded_bundles"] == 2
    stored = vendor.get("Observation/o1").json()
    assert stored["meta"]["source"].endswith("/sandkasse-seed")
    reset = api.admin("DELETE", "/tenants/acme-test/data")
    assert reset.status_code == 200
    assert vendor.get("Observation/o1").status_code == 404
    assert vendor.get("AuditEvent", patient="p1").json()["total"] == 0
    assert vendor.events()["events"] == []


def test_seed_with_a_generated_cohort(api) -> None:
    seeded = api.admin("POST", "/tenants/4601/seed", json={"cohort": {"size": 2, "seed": 3}})
    assert seeded.status_code == 200, seeded.text[:2000]
    other = api.as_("epj-a", tenant="4601")
    assert other.get("Patient").json()["total"] == 2
    assert seeded.json()["events"] == seeded.json()["loaded_bundles"]


def test_bad_seed_lines_are_reported_and_good_ones_kept(api) -> None:
    lines = "\n".join(["{not json", __import__("json").dumps(bundle(patient("p1")))])
    response = api.admin("POST", "/tenants/0301/seed", content=lines.encode())
    assert response.status_code == 422
    assert response.json()["issue"][0]["details"]["text"] == "Line 1 is not JSON."
    assert api.get("Patient/p1").status_code == 200


def test_admin_refusals_are_operation_outcomes(api) -> None:
    for body in ({"id": "admin", "kind": "vendor", "kommunenummer": "0301"},
                 {"id": "x1", "kind": "hospital", "kommunenummer": "0301"},
                 {"id": "x2", "kind": "vendor", "kommunenummer": "Oslo"}):
        response = api.admin("POST", "/tenants", json=body)
        assert response.status_code == 400
        assert response.json()["issue"][0]["diagnostics"].startswith("Fix: ")
    assert api.admin("DELETE", "/tenants/nope/data").status_code == 404


@pytest.mark.postgres
def test_a_seed_gives_postgresqls_planner_statistics_of_the_data(postgres_cluster) -> None:
    """Without statistics (until autovacuum comes by) PostgreSQL's planner drove a patient's search
    by scanning every resource of the type; a seed, a bulk load, refreshes them at once."""
    dsn = postgres_cluster.create_schema()
    app = create_app(PlatformConfig(database=dsn, auth="off-dev"))
    with start_in_thread(app) as server:
        api = Api(server.url)
        assert api.admin("POST", "/tenants/0301/seed", json={"cohort": {"size": 2, "seed": 3}}).status_code == 200
    store = app.extensions["sandkasse.storage"]
    try:
        with store._conn() as conn:
            analysed = {row[0] for row in conn.execute("SELECT DISTINCT tablename FROM pg_stats "
                                                       "WHERE schemaname = current_schema()")}
        assert {"resources", "tokens", "dates"} <= analysed
    finally:
        store.close()
