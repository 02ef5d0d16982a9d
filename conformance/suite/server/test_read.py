"""Read and vread: the target serves every loaded resource by its id, unchanged (SK-API-002,
SK-API-014, SK-DATA-003), and finds a patient by national identifier (SK-API-003)."""
from __future__ import annotations

import uuid

import httpx
import pytest

from conformance.checks import fail, requirement
from conformance.suite.server import support

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
TYPES = list(support.types())


@requirement("SK-API-002")
@pytest.mark.parametrize("rtype", TYPES)
def test_read_returns_loaded_resource(served, ground_truth, minimised, rtype: str) -> None:
    support.require_in_cohort(ground_truth, rtype)
    for expected in served.expected(rtype):
        ref = f"{rtype}/{expected['id']}"
        response = served.read(ref)
        if response.status_code != 200:
            fail(f"GET {ref} answered HTTP {response.status_code}; the loaded {rtype} is missing.",
                 f"Load every {rtype} of the published cohort, keeping its id.")
        actual = support.body(response, f"GET {ref}")
        diff = support.first_difference(support.normalise(actual, ground_truth.reference, minimised),
                                        support.normalise(expected, ground_truth.reference, minimised), ref)
        if diff:
            path, got, want = diff
            element = path.removeprefix(ref + ".")
            fail(f"{path} is {got!r}, but the cohort has {want!r}.",
                 f"Return {rtype}.{element} exactly as loaded from the cohort.")


@requirement("SK-API-014")
@pytest.mark.parametrize("rtype", TYPES)
def test_read_unknown_id_is_not_found(target: httpx.Client, ground_truth, rtype: str) -> None:
    support.require_in_cohort(ground_truth, rtype)
    ref = f"{rtype}/{uuid.uuid4()}"
    response = target.get(ref)
    if response.status_code not in (404, 410):
        fail(f"GET {ref} (an id that was never loaded) answered HTTP {response.status_code}.",
             "Answer a read of an unknown id with 404 Not Found and an OperationOutcome.")
    body = support.body(response, f"GET {ref}")
    if body.get("resourceType") != "OperationOutcome":
        fail(f"GET {ref} answered 404 with a {body.get('resourceType')!r} instead of an OperationOutcome.",
             "Explain every error with an OperationOutcome.")


@requirement("SK-DATA-003")
@pytest.mark.parametrize("rtype", TYPES)
def test_vread_of_current_version(served, ground_truth, rtype: str) -> None:
    support.require_in_cohort(ground_truth, rtype)
    for actual in served.resources(rtype)[:5]:
        ref = f"{rtype}/{actual.get('id')}"
        version = (actual.get("meta") or {}).get("versionId")
        if not version:
            fail(f"{ref} is served without meta.versionId, so its history cannot be read.",
                 "Version every resource (meta.versionId) and keep every version (no hard deletes).")
        response = served.client.get(f"{ref}/_history/{version}")
        if response.status_code != 200:
            fail(f"GET {ref}/_history/{version} (the current version) answered HTTP {response.status_code}.",
                 "Support vread: GET [type]/[id]/_history/[vid] for every kept version.")
        body = support.body(response, f"vread {ref}")
        if body.get("id") != actual.get("id") or (body.get("meta") or {}).get("versionId") != version:
            fail(f"GET {ref}/_history/{version} returned {body.get('resourceType')}/{body.get('id')} "
                 f"version {(body.get('meta') or {}).get('versionId')!r}.",
                 "Return exactly the requested version from vread.")


@requirement("SK-API-003")
def test_identifier_search_finds_the_patient(target: httpx.Client, ground_truth, sample_size: int) -> None:
    for expected in ground_truth.patients(sample_size):
        fnr = next((i["value"] for i in expected.get("identifier", []) if i.get("system") == FNR_SYSTEM), None)
        if fnr is None:
            continue
        response = target.get("Patient", params={"identifier": f"{FNR_SYSTEM}|{fnr}"})
        if response.status_code != 200:
            fail(f"Searching Patient?identifier={FNR_SYSTEM}|{fnr} answered HTTP {response.status_code}.",
                 "Support token search on Patient.identifier with system|value.")
        bundle = support.body(response, "Patient?identifier search")
        ids = [e.get("resource", {}).get("id") for e in bundle.get("entry", [])
               if e.get("search", {}).get("mode", "match") == "match"]
        if ids != [expected["id"]]:
            fail(f"Searching for fødselsnummer {fnr} returned patients {ids}, expected exactly [{expected['id']}].",
                 "Match identifier searches on both system and value, and return only the matching patient.")
