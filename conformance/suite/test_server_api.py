"""Server role: the target's FHIR API, checked against the ground truth of the published cohort."""
from __future__ import annotations

import httpx

from conformance.checks import fail, requirement

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
COMPARED = ("identifier", "name", "gender", "birthDate")


def _json(response: httpx.Response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        fail(f"{what} answered HTTP {response.status_code} with a body that is not JSON "
             f"(Content-Type {response.headers.get('content-type')!r}).",
             "Answer with FHIR JSON (application/fhir+json).")
    if not isinstance(body, dict):
        fail(f"{what} answered with JSON that is not a FHIR resource.", "Answer with a FHIR resource object.")
    return body


@requirement("SK-API-001")
def test_capability_statement_is_fhir_r4(target: httpx.Client) -> None:
    response = target.get("metadata")
    if response.status_code != 200:
        fail(f"GET [base]/metadata answered HTTP {response.status_code}; no CapabilityStatement was served.",
             "Serve a CapabilityStatement at GET [base]/metadata with HTTP 200.")
    body = _json(response, "GET [base]/metadata")
    if body.get("resourceType") != "CapabilityStatement":
        fail(f"GET [base]/metadata returned a {body.get('resourceType')!r}, not a CapabilityStatement.",
             "Return a CapabilityStatement resource from [base]/metadata.")
    if body.get("fhirVersion") != "4.0.1":
        fail(f"The CapabilityStatement declares fhirVersion {body.get('fhirVersion')!r}.",
             'Implement FHIR R4 and declare "fhirVersion": "4.0.1".')


@requirement("SK-API-002")
def test_read_returns_loaded_patient(target: httpx.Client, ground_truth, sample_size: int) -> None:
    for expected in ground_truth.sample("Patient", sample_size):
        response = target.get(f"Patient/{expected['id']}")
        if response.status_code != 200:
            fail(f"GET Patient/{expected['id']} answered HTTP {response.status_code}; the loaded patient is missing.",
                 "Load every patient of the published cohort, keeping its id.")
        actual = _json(response, f"GET Patient/{expected['id']}")
        for element in COMPARED:
            if actual.get(element) != expected.get(element):
                fail(f"Patient/{expected['id']}.{element} is {actual.get(element)!r}, "
                     f"but the cohort has {expected.get(element)!r}.",
                     f"Return Patient.{element} exactly as loaded from the cohort.")


@requirement("SK-API-003")
def test_identifier_search_finds_the_patient(target: httpx.Client, ground_truth, sample_size: int) -> None:
    for expected in ground_truth.sample("Patient", sample_size):
        fnr = next(i["value"] for i in expected["identifier"] if i["system"] == FNR_SYSTEM)
        response = target.get("Patient", params={"identifier": f"{FNR_SYSTEM}|{fnr}"})
        if response.status_code != 200:
            fail(f"Searching Patient?identifier={FNR_SYSTEM}|{fnr} answered HTTP {response.status_code}.",
                 "Support token search on Patient.identifier with system|value.")
        bundle = _json(response, "Patient?identifier search")
        ids = [e.get("resource", {}).get("id") for e in bundle.get("entry", [])
               if e.get("search", {}).get("mode", "match") == "match"]
        if ids != [expected["id"]]:
            fail(f"Searching for fødselsnummer {fnr} returned patients {ids}, expected exactly [{expected['id']}].",
                 "Match identifier searches on both system and value, and return only the matching patient.")
