"""SK-API-001: the CapabilityStatement says exactly what the server supports (FHIR R4, JSON, and every
type, interaction and search parameter the guide's CapabilityStatement (sk-server) requires for the
data of the published cohort)."""
from __future__ import annotations

import httpx
import pytest

from conformance.checks import fail, requirement
from conformance.suite.server import support


@pytest.fixture(scope="session")
def capability(target: httpx.Client) -> dict:
    response = target.get("metadata")
    if response.status_code != 200:
        fail(f"GET [base]/metadata answered HTTP {response.status_code}; no CapabilityStatement was served.",
             "Serve a CapabilityStatement at GET [base]/metadata with HTTP 200.")
    body = support.body(response, "GET [base]/metadata")
    if body.get("resourceType") != "CapabilityStatement":
        fail(f"GET [base]/metadata returned a {body.get('resourceType')!r}, not a CapabilityStatement.",
             "Return a CapabilityStatement resource from [base]/metadata.")
    return body


@requirement("SK-API-001")
def test_capability_statement_is_fhir_r4(capability: dict) -> None:
    if capability.get("fhirVersion") != "4.0.1":
        fail(f"The CapabilityStatement declares fhirVersion {capability.get('fhirVersion')!r}.",
             'Implement FHIR R4 and declare "fhirVersion": "4.0.1".')


@requirement("SK-API-001")
def test_capability_statement_declares_json(capability: dict) -> None:
    formats = capability.get("format", [])
    if not any(f in ("json", "application/fhir+json") for f in formats):
        fail(f"The CapabilityStatement declares formats {formats}, not FHIR JSON.",
             'Serve FHIR JSON and declare "format": ["application/fhir+json"].')


@requirement("SK-API-001")
@pytest.mark.parametrize("rtype", list(support.types()))
def test_capability_statement_declares_type(capability: dict, ground_truth, rtype: str) -> None:
    support.require_in_cohort(ground_truth, rtype)
    declared = {r.get("type"): r for rest in capability.get("rest", []) if rest.get("mode") == "server"
                for r in rest.get("resource", [])}
    if rtype not in declared:
        fail(f"The CapabilityStatement does not declare {rtype}, which the published cohort contains.",
             f"Serve {rtype} and declare it in rest[0].resource with {', '.join(support.types()[rtype].interactions)}.")
    interactions = {i.get("code") for i in declared[rtype].get("interaction", [])}
    missing = sorted(set(support.types()[rtype].interactions) - interactions)
    if missing:
        fail(f"The CapabilityStatement declares {rtype} without the interactions {missing}.",
             f"Support and declare {', '.join(missing)} for {rtype} (the guide's CapabilityStatement "
             f"{support.guide()['capability']} requires them).")
    params = {p.get("name") for p in declared[rtype].get("searchParam", [])}
    missing = [p.name for p in support.types()[rtype].search if p.name not in params]
    if missing:
        fail(f"The CapabilityStatement declares no search parameters {missing} for {rtype}.",
             f"Support the guide's search parameters for {rtype} and declare each in searchParam.")
