"""The producer side of the reference EPJ: scenario steps become transaction Bundles sent to the
platform's intake (meldingsmottak), with Provenance, conditional creates and If-Match updates."""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass

import httpx

from conformance.reference_epj import fhir
from conformance.reference_epj.auth import client_for
from conformance.reference_epj.config import Defect, EpjConfig
from conformance.reference_epj.store import PatientStore


class StepFailed(Exception):
    """The step could not be performed; the message goes into the answer's detail."""


@dataclass
class Vedtak:
    params: dict
    patient_ref: dict
    resource_id: str | None = None
    version: str | None = None


class Producer:
    def __init__(self, config: EpjConfig, patients: PatientStore) -> None:
        self.config = config
        self.patients = patients
        self.client = client_for(config, "producer", timeout=10.0)
        self.vedtak: dict[str, Vedtak] = {}
        self._last_bundle: dict | None = None

    # -- steps ---------------------------------------------------------------------------------

    def register_vedtak(self, params: dict) -> list[str]:
        patient_ref = self._patient_ref(params["patient"]["fnr"])
        record = self.vedtak[params["vedtak_id"]] = Vedtak(dict(params), patient_ref)
        resource = fhir.episode_of_care(params, patient_ref, self.config)
        entry = self._entry(resource, "POST", "EpisodeOfCare")
        if not self.config.has(Defect.RESEND_DUPLICATES):
            ident = resource["identifier"][0]
            entry["request"]["ifNoneExist"] = f"identifier={ident['system']}|{ident['value']}"
        entries = [entry, *self._extra_entries(params["patient"]["fnr"], patient_ref)]
        return self._send(entries, record, "CREATE")

    def update_vedtak(self, params: dict) -> list[str]:
        record = self._known(params["vedtak_id"])
        record.params.update({k: v for k, v in params.items() if k != "vedtak_id"})
        return self._send_version(record, "active")

    def end_vedtak(self, params: dict) -> list[str]:
        record = self._known(params["vedtak_id"])
        record.params["end"] = params["end"]
        status = "active" if self.config.has(Defect.ENDED_STILL_ACTIVE) else "finished"
        return self._send_version(record, status)

    def record_news2(self, params: dict) -> list[str]:
        patient_ref = self._patient_ref(params["patient"]["fnr"])
        pairs = fhir.news2_observations(params["measurements"], patient_ref, params["effective"], self.config)
        entries = [{"fullUrl": url, "resource": obs, "request": {"method": "POST", "url": "Observation"}}
                   for url, obs in pairs]
        return self._send(entries, None, "CREATE")

    def resend_last(self, params: dict) -> list[str]:
        if self._last_bundle is None:
            raise StepFailed("nothing has been sent yet, so there is nothing to resend")
        return self._post(self._last_bundle)

    # -- helpers -------------------------------------------------------------------------------

    def _known(self, vedtak_id: str) -> Vedtak:
        record = self.vedtak.get(vedtak_id)
        if record is None or record.resource_id is None:
            raise StepFailed(f"vedtak {vedtak_id} has not been registered by this EPJ")
        return record

    def _patient_ref(self, fnr: str) -> dict:
        if self.config.has(Defect.WRONG_PATIENT):
            fnr = self.patients.neighbour_of(fnr)["fnr"]
        return fhir.patient_reference(self.resolve_patient(fnr), fnr, self.config)

    def resolve_patient(self, fnr: str) -> str:
        response = self.client.get("Patient", params={"identifier": f"{fhir.OID_FNR}|{fnr}"})
        if response.status_code != 200:
            raise StepFailed(f"patient search answered HTTP {response.status_code}")
        matches = [e["resource"]["id"] for e in response.json().get("entry", [])
                   if e.get("search", {}).get("mode", "match") == "match"]
        if len(matches) != 1:
            raise StepFailed(f"the platform has {len(matches)} patients with this fødselsnummer")
        return matches[0]

    def _extra_entries(self, fnr: str, patient_ref: dict) -> list[dict]:
        entries = []
        if self.config.has(Defect.EXTRA_DATA):
            condition = {"resourceType": "Condition", "subject": patient_ref,
                         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icpc-2", "code": "P70",
                                              "display": "Demens"}]}}
            entries.append(self._entry(condition, "POST", "Condition"))
        if self.config.has(Defect.WRITES_OTHER_SOURCE):
            local = copy.deepcopy(self.patients.by_fnr(fnr)["resource"])
            local["id"] = patient_ref["reference"].split("/")[1]
            local.setdefault("telecom", []).append({"system": "phone", "value": "+4700000000"})
            entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": local,
                            "request": {"method": "PUT", "url": f"Patient/{local['id']}"}})
        return entries

    def _send_version(self, record: Vedtak, status: str) -> list[str]:
        resource = fhir.episode_of_care(record.params, record.patient_ref, self.config, status)
        if self.config.has(Defect.UPDATE_AS_NEW):
            entry = self._entry(resource, "POST", "EpisodeOfCare")
        else:
            resource["id"] = record.resource_id
            entry = self._entry(resource, "PUT", f"EpisodeOfCare/{record.resource_id}")
            if not self.config.has(Defect.UPDATE_WITHOUT_IF_MATCH):
                entry["request"]["ifMatch"] = f'W/"{record.version}"'
        return self._send([entry], record, "UPDATE")

    @staticmethod
    def _entry(resource: dict, method: str, url: str) -> dict:
        return {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource,
                "request": {"method": method, "url": url}}

    def _send(self, entries: list[dict], record: Vedtak | None, activity: str) -> list[str]:
        if not self.config.has(Defect.MISSING_PROVENANCE):
            targets = [e["fullUrl"] if e["request"]["method"] == "POST" else e["request"]["url"]
                       for e in entries if e["resource"]["resourceType"] in ("EpisodeOfCare", "Observation")]
            entries.append(self._entry(fhir.provenance(targets, self.config, activity), "POST", "Provenance"))
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        self._last_bundle = bundle
        locations = self._post(bundle)
        if record is not None:
            vedtak_location = next(loc for loc in locations if loc.startswith("EpisodeOfCare/"))
            parts = vedtak_location.split("/")
            record.resource_id, record.version = parts[1], parts[3] if len(parts) > 3 else None
        return locations

    def _post(self, bundle: dict) -> list[str]:
        try:
            response = self.client.post("", json=bundle, headers={"Content-Type": "application/fhir+json"})
        except httpx.HTTPError as error:
            raise StepFailed(f"the intake could not be reached: {error}") from error
        if response.status_code not in (200, 201):
            raise StepFailed(f"the intake answered HTTP {response.status_code}: {response.text[:500]}")
        return [e.get("response", {}).get("location", "") for e in response.json().get("entry", [])]
