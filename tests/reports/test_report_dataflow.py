"""The observed data flow: the operator's recording proxy in front of a real platform."""
from __future__ import annotations

import base64
import json

import httpx

from mock_platform.operator.observer import observe
from reports.dataflow import ObservedRequest, summarize
from reports.model import DataFlow


def _token(client_id: str) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none'})}.{part({'client_id': client_id})}.sig"


def test_summarize_classifies_reads_and_writes() -> None:
    flows = summarize([
        ObservedRequest("epj", "GET", "Patient?identifier=x"),
        ObservedRequest("epj", "GET", "Patient/1"),
        ObservedRequest("epj", "POST", "Observation/_search"),
        ObservedRequest("epj", "PUT", "Observation/2"),
        ObservedRequest("epj", "POST", "", ("Observation", "Patient")),
        ObservedRequest("epj", "GET", "metadata"),
        ObservedRequest("app", "GET", "ServiceRequest?patient=1"),
    ])
    assert flows == [DataFlow("app", "ServiceRequest", "read", 1), DataFlow("epj", "Observation", "read", 1),
                     DataFlow("epj", "Observation", "write", 2), DataFlow("epj", "Patient", "read", 2),
                     DataFlow("epj", "Patient", "write", 1)]


def test_the_observer_forwards_and_records(platform) -> None:
    base = f"{platform.url}/0301/fhir"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1"}, "request": {"method": "PUT", "url": "Patient/p1"}}]}
    with observe(base) as (proxy, log):
        with httpx.Client(base_url=proxy, headers={"Authorization": f"DPoP {_token('eks-journal')}"}) as client:
            direct = httpx.get(f"{base}/metadata")
            through = client.get("/metadata")
            assert through.status_code == direct.status_code == 200
            assert through.json()["resourceType"] == direct.json()["resourceType"] == "CapabilityStatement"
            client.post("/", content=json.dumps(bundle), headers={"Content-Type": "application/fhir+json"})
            search = client.get("/Patient", params={"identifier": "urn:oid:2.16.578.1.12.4.1.4.1|x"})
            assert search.status_code == httpx.get(f"{base}/Patient",
                                                   params={"identifier": "urn:oid:2.16.578.1.12.4.1.4.1|x"}).status_code
    assert summarize(log) == [DataFlow("eks-journal", "Patient", "read", 1),
                              DataFlow("eks-journal", "Patient", "write", 1)]
