"""The server role against the reference EPJ's own FHIR API, over real HTTP with HelseID: the clean
EPJ passes every test (or the test is not applicable, with its reason), and each defective variant
of server_defects.yaml fails exactly its requirements, with a message that names the defect."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conformance.auth import HelseIdAuth, HelseIdClientConfig
from conformance.reference_epj import EpjConfig, create_app
from conformance.reference_epj.server import ServerConfig, server_defects
from conformance.suite.server import support
from mock_platform import start_in_thread
from tests.suite_server.runner import run_server_role

SERVER_REQUIREMENTS = ("SK-API-", "SK-SEC-", "SK-DATA-", "SK-KT-", "SK-N2-")


def test_clean_epj_passes_the_server_role(small_cohort: Path, helseid, tmp_path: Path) -> None:
    run = run_server_role(small_cohort, tmp_path, helseid, sample_size=20)
    assert run.returncode == 0, run.failed()
    statuses = run.statuses()
    tested = {k: v for k, v in statuses.items() if v != "declared"}
    assert tested and set(tested.values()) == {"passed"}, tested
    # Every test of the role ran: the security tests had a HelseID, every type had data.
    assert {"SK-SEC-001", "SK-SEC-002", "SK-API-001", "SK-API-008", "SK-API-009", "SK-KT-003",
            "SK-N2-002", "SK-DATA-005"} <= set(tested)
    for requirement in run.report["requirements"]:
        if requirement["status"] == "not-applicable":       # none here; if ever, it must say why
            assert requirement["message"], requirement["id"]


@pytest.mark.parametrize("defect", sorted(server_defects()))
def test_defective_variant_fails_exactly_its_requirements(small_cohort: Path, helseid, tmp_path: Path,
                                                          defect: str) -> None:
    spec = server_defects()[defect]
    run = run_server_role(small_cohort, tmp_path, helseid, frozenset({defect}), sample_size=4)
    failed = run.failed()
    assert run.returncode == 1
    assert sorted(failed) == sorted(spec.fails), f"{defect}: {failed}"
    assert all(spec.names in failed[r] for r in spec.fails[:1]), failed


def test_defects_are_server_requirements() -> None:
    from conformance.requirements import load_catalog
    catalog = load_catalog()
    for spec in server_defects().values():
        assert spec.fails and all(r in catalog and r.startswith(SERVER_REQUIREMENTS) for r in spec.fails), spec.id


# --- the EPJ's FHIR API directly ------------------------------------------------------------

@pytest.fixture()
def epj(small_cohort: Path, helseid):
    app = create_app(EpjConfig(platform_url="http://127.0.0.1:9/0301/fhir", cohort=small_cohort),
                     ServerConfig(security=helseid.security()))
    with start_in_thread(app) as server:
        yield server


@pytest.fixture()
def client(epj, helseid):
    with httpx.Client(base_url=f"{epj.url}/fhir/", auth=HelseIdAuth(HelseIdClientConfig.load(helseid.client_config)),
                      timeout=15) as http:
        yield http


def test_capability_statement_instantiates_the_guide(epj) -> None:
    statement = httpx.get(f"{epj.url}/fhir/metadata").json()       # public: no token needed
    assert statement["kind"] == "instance" and statement["instantiates"] == [support.guide()["capability"]]
    declared = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert list(declared) == list(support.types())
    assert [p["name"] for p in declared["Observation"]["searchParam"]] == \
        [p.name for p in support.types()["Observation"].search]
    assert "Observation:derived-from" in declared["Observation"]["searchInclude"]
    assert statement["rest"][0]["security"]["service"][0]["coding"][0]["code"] == "OAuth"


@pytest.mark.parametrize("key_type", ["EC", "RSA"])
def test_dpop_proofs_of_either_key_type_are_accepted(epj, helseid, key_type: str) -> None:
    from conformance.auth import dpop
    auth = HelseIdAuth(HelseIdClientConfig.load(helseid.client_config), dpop_key=dpop.generate_key(key_type))
    assert httpx.get(f"{epj.url}/fhir/Patient", params={"_count": 1}, auth=auth).status_code == 200


def test_requests_without_a_token_are_refused_with_an_operation_outcome(epj) -> None:
    response = httpx.get(f"{epj.url}/fhir/Patient")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("DPoP error=")
    assert response.json()["resourceType"] == "OperationOutcome"


def test_paging_follows_next_links_to_every_match(client, small_cohort: Path) -> None:
    from conformance.ground_truth import GroundTruth
    truth = GroundTruth.load(small_cohort)
    patient = truth.patients(1)[0]["id"]
    expected = {r["id"] for r in truth.for_patient("Observation", "subject", patient)}
    got, pages = [], 0
    response = client.get("Observation", params={"patient": patient, "_count": 7})
    while True:
        bundle = response.json()
        pages += 1
        assert len(bundle["entry"]) <= 7 and bundle["total"] == len(expected)
        got += [e["resource"]["id"] for e in bundle["entry"]]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            break
        response = client.get(following[0])
    assert sorted(got) == sorted(expected) and pages == -(-len(expected) // 7)


def test_withheld_free_text_and_bad_searches(client, small_cohort: Path) -> None:
    vedtak = client.get("EpisodeOfCare", params={"_count": 100}).json()["entry"]
    urls = {e["url"] for v in vedtak for e in v["resource"].get("extension", [])}
    assert urls and not urls & set(support.guide()["minimised_extensions"])
    refused = client.get("Observation", params={"nope": "1"}, headers={"Prefer": "handling=strict"})
    assert refused.status_code == 400 and refused.json()["issue"][0]["expression"] == ["nope"]
    assert client.get("Observation", params={"nope": "1"}).status_code == 200      # lenient by default
    assert client.get("Observation", params={"date": "sa2024-01-01"}).status_code == 400
    assert client.get("AuditEvent").status_code == 404
    assert client.get("Observation", params={"_count": "many"}).status_code == 400
    for bad in ({"date": "2024-13-45"}, {"_lastUpdated": "yesterday"}, {"code:text": "puls"}, {"_sort": "code"}):
        response = client.get("Observation", params=bad)
        assert response.status_code == 400 and response.json()["resourceType"] == "OperationOutcome", bad
    for method, path in (("POST", "Observation"), ("DELETE", "Patient/x"), ("GET", "Patient/x/y/z")):
        response = client.request(method, path)
        assert response.status_code in (404, 405) and response.json()["resourceType"] == "OperationOutcome"


def _blocked(truth) -> tuple[str, str, list[str]]:
    """(patient id, orgnr of the blocked organisation, references it may not see) of the cohort's
    first sperring that names an Organization."""
    for consent in truth.all("Consent"):
        provision = consent.get("provision", {})
        if not consent["meta"]["profile"][0].endswith("sk-sperring"):
            continue
        for actor in provision.get("actor", []):
            ref = actor["reference"].get("reference", "")
            if ref.startswith("Organization/"):
                orgnr = truth.get("Organization", ref.split("/")[1])["identifier"][0]["value"]
                data = [d["reference"]["reference"] for d in provision.get("data", [])]
                return consent["patient"]["reference"].split("/")[1], orgnr, data
    raise AssertionError("the cohort has no sperring against an organisation")


def test_sperring_and_internal_notes_are_withheld_and_said_so(small_cohort: Path, helseid, tmp_path: Path) -> None:
    from conformance.ground_truth import GroundTruth
    from conformance.reference_epj.resource_server import ApiSecurity
    from sandbox.cli import main as sandkasse
    truth = GroundTruth.load(small_cohort)
    patient, blocked_org, data = _blocked(truth)
    assert data, "the cohort's sperring names the resources it blocks"
    assert sandkasse(["client", "register", "--platform", helseid.root, "--name", "legevakt", "--organisation",
                      blocked_org, "--scope", "nhn:sandkasse-plattform/problem-diagnose-behov.read",
                      "--scope", "nhn:sandkasse-plattform/journalnotater.read", "--out", str(tmp_path / "lv.json")]) == 0
    security = ApiSecurity(issuer=helseid.issuer, organisations=frozenset({helseid.organisation, blocked_org}),
                           own_organisation=helseid.organisation)
    note = next(d for d in truth.all("DocumentReference")
                if any(s.get("code") == "R" for s in d["meta"].get("security", [])))
    app = create_app(EpjConfig(platform_url="http://127.0.0.1:9/0301/fhir", cohort=small_cohort),
                     ServerConfig(security=security))
    with start_in_thread(app) as epj:
        def reader(config: Path) -> httpx.Client:
            return httpx.Client(base_url=f"{epj.url}/fhir/", auth=HelseIdAuth(HelseIdClientConfig.load(config)))
        with reader(tmp_path / "lv.json") as legevakt, reader(helseid.client_config) as own:
            for ref in data:
                refused = legevakt.get(ref)
                assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "suppressed"
                assert own.get(ref).status_code == 200
            rtype = data[0].split("/")[0]
            bundle = legevakt.get(rtype, params={"patient": patient}).json()
            ids = [f"{rtype}/{e['resource']['id']}" for e in bundle["entry"] if e["search"]["mode"] == "match"]
            outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
            assert not set(data) & set(ids) and bundle["total"] == len(ids) and outcomes
            assert legevakt.get(f"Patient/{patient}").status_code == 200       # whose data is withheld shows
            assert legevakt.get(f"DocumentReference/{note['id']}").status_code == 403   # internal note
            assert own.get(f"DocumentReference/{note['id']}").status_code == 200


def test_command_line_serves_the_protected_api(small_cohort: Path, helseid) -> None:
    import socket
    import subprocess
    import sys
    import time
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "conformance.reference_epj", "--platform-url",
                                "http://127.0.0.1:9/0301/fhir", "--cohort", str(small_cohort), "--port", str(port),
                                "--helseid-issuer", helseid.issuer, "--organisation", helseid.organisation],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/fhir"
        for _ in range(100):
            try:
                statement = httpx.get(f"{base}/metadata").json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert statement["rest"][0]["security"]["description"].startswith(f"HelseID ({helseid.issuer})")
        assert httpx.get(f"{base}/Patient").status_code == 401
        auth = HelseIdAuth(HelseIdClientConfig.load(helseid.client_config))
        assert httpx.get(f"{base}/Patient", params={"_count": 1}, auth=auth).json()["total"] == 20
    finally:
        process.terminate()
        process.wait(timeout=10)
