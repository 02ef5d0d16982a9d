"""The consumer side of the reference EPJ: reads the information services, follows every page,
tells the user when the platform withholds data (sperring) and never shows it from a cache, and
says "unavailable" rather than show a partial list."""
from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from conformance.reference_epj import fhir
from conformance.reference_epj.auth import client_for
from conformance.reference_epj.config import Defect, EpjConfig

KPR = f"{fhir.SK}/CodeSystem/kpr-tjenestetype"
PAGE_SIZE = 50


@dataclass
class Result:
    resources: list[dict] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)     # the platform's "withheld" messages


class Unavailable(Exception):
    """The platform did not deliver a complete answer; the message is the user's warning."""


class Consumer:
    def __init__(self, config: EpjConfig) -> None:
        self.config = config
        timeout = None if config.has(Defect.NO_TIMEOUT) else config.timeout
        self.client = client_for(config, "consumer", timeout=timeout)
        # What was last shown per patient. Only the defective variant shows from it: a cache may
        # hold data that a sperring has since withheld.
        self._shown: dict[str, dict[str, dict]] = {}

    # -- what the EPJ shows ------------------------------------------------------------------

    def show_services(self, fnr: str) -> dict:
        try:
            params = {"patient": self._patient_id(fnr), "_count": PAGE_SIZE}
            if self.config.has(Defect.NO_PATIENT_FILTER):
                params.pop("patient")
            result = self._search("EpisodeOfCare", params)
        except Unavailable as error:
            return {"status": "unavailable", "warning": str(error), "services": []}
        services = {s["vedtak_id"]: s for s in map(_service, result.resources)}
        if self.config.has(Defect.SHOWS_BLOCKED):
            services = self._shown.get(fnr, {}) | services
        self._shown[fnr] = services
        answer = {"status": "complete", "services": list(services.values())}
        if result.withheld and not self.config.has(Defect.IGNORES_WITHHELD_WARNING):
            answer |= {"status": "partial-with-warning", "warning": " ".join(result.withheld)}
        return answer

    def show_news2(self, fnr: str) -> dict:
        try:
            result = self._search("Observation", {"patient": self._patient_id(fnr), "_count": PAGE_SIZE})
        except Unavailable as error:
            return {"status": "unavailable", "warning": str(error), "news2": []}
        shown = {f"Observation/{r['id']}": r for r in result.resources}
        sets = []
        for obs in shown.values():
            if _code(obs) != f"{fhir.NEWS2}|total":
                continue
            entry = {"effective": obs["effectiveDateTime"], "total": obs["valueInteger"]}
            if not self.config.has(Defect.NEWS2_SCORE_ONLY):
                parts = [shown.get(ref.get("reference", "")) for ref in obs.get("derivedFrom", [])]
                if any(p is None for p in parts) or len(parts) < 7:
                    continue  # the score alone is of little use: never show it without its measurements
                entry["measurements"] = _measurements(parts)
            sets.append(entry)
        answer = {"status": "complete", "news2": sorted(sets, key=lambda s: s["effective"], reverse=True)}
        if result.withheld:
            answer |= {"status": "partial-with-warning", "warning": " ".join(result.withheld)}
        return answer

    # -- reading -----------------------------------------------------------------------------

    def _patient_id(self, fnr: str) -> str:
        bundle = self._get("Patient", {"identifier": f"{fhir.OID_FNR}|{fnr}"})
        ids = [e["resource"]["id"] for e in bundle.get("entry", [])
               if e.get("search", {}).get("mode", "match") == "match"]
        if len(ids) != 1:
            raise Unavailable(f"the platform has {len(ids)} patients with this fødselsnummer")
        return ids[0]

    def _search(self, rtype: str, params: dict) -> Result:
        result = Result()
        url, query, page = rtype, params, 1
        while url:
            try:
                bundle = self._get(url, query)
            except Unavailable:
                if page > 1 and self.config.has(Defect.PARTIAL_AS_COMPLETE):
                    return result
                raise
            for entry in bundle.get("entry", []):
                mode = entry.get("search", {}).get("mode", "match")
                resource = entry.get("resource") or {}
                if mode == "match" and resource.get("resourceType") == rtype:
                    result.resources.append(resource)
                elif mode == "outcome":
                    result.withheld += [i.get("details", {}).get("text", "Some data is withheld.")
                                        for i in resource.get("issue", []) if i.get("code") == "suppressed"]
            url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)
            query, page = None, page + 1
            if self.config.has(Defect.IGNORES_PAGING):
                return result
            if url is None and isinstance(bundle.get("total"), int) and len(result.resources) < bundle["total"] \
                    and not self.config.has(Defect.SWALLOWS_TRUNCATED):
                # The last page, yet fewer matches than the server counted: entries were lost
                # on the way (a cut-off answer that still parses), so the list is not complete.
                raise Unavailable(f"the platform's answer was cut off ({len(result.resources)} of "
                                  f"{bundle['total']} entries arrived); the list cannot be shown")
        return result

    def _get(self, url: str, params: dict | None) -> dict:
        empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        try:
            response = self.client.get(url, params=params)
        except httpx.TimeoutException as error:
            raise Unavailable("the platform did not answer in time; the list cannot be shown") from error
        except httpx.HTTPError as error:
            raise Unavailable(f"the platform could not be reached ({error})") from error
        if response.status_code >= 500 and self.config.has(Defect.SWALLOWS_503):
            return empty
        if response.status_code != 200:
            raise Unavailable(f"the platform answered HTTP {response.status_code}; the list cannot be shown")
        try:
            bundle = response.json()
        except ValueError as error:
            if self.config.has(Defect.SWALLOWS_TRUNCATED):
                return empty
            raise Unavailable("the platform's answer was cut off; the list cannot be shown") from error
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise Unavailable("the platform's answer was not a search result; the list cannot be shown")
        return bundle


def _code(resource: dict) -> str:
    coding = (resource.get("code", {}).get("coding") or [{}])[0]
    return f"{coding.get('system')}|{coding.get('code')}"


def _service(resource: dict) -> dict:
    kinds = resource.get("type", [{}])[0]
    service = {"vedtak_id": (resource.get("identifier") or [{}])[0].get("value", ""),
               "service_type": next((c["code"] for c in kinds.get("coding", []) if c.get("system") == KPR), ""),
               "status": resource.get("status", "active"), "start": resource.get("period", {}).get("start", "")}
    if kinds.get("text"):
        service["local_text"] = kinds["text"]
    if resource.get("period", {}).get("end"):
        service["end"] = resource["period"]["end"]
    for ext in resource.get("extension", []):
        if ext["url"].endswith("/vedtakstimer"):
            service["hours"] = ext["valueQuantity"]["value"]
        elif ext["url"].endswith("/revurderingsdato"):
            service["review_date"] = ext["valueDate"]
    return service


def _value(obs: dict, key: str):
    if key == "quantity":
        return obs["valueQuantity"]["value"]
    if key == "concept":
        return obs["valueCodeableConcept"]["coding"][0]["code"]
    raise KeyError(key)


def _component(obs: dict, code: str) -> dict:
    return next(c for c in obs.get("component", []) if c["code"]["coding"][0]["code"] == code)


def _measurements(parts: list[dict]) -> dict:
    by_code = {_code(p): p for p in parts}
    loinc, news2 = "http://loinc.org|", f"{fhir.NEWS2}|"
    bp = by_code[loinc + "85354-9"]
    spo2 = by_code[loinc + "59408-5"]
    pulse = by_code[loinc + "8867-4"]
    return {"respiratory_rate": int(_value(by_code[loinc + "9279-1"], "quantity")),
            "spo2": int(_value(spo2, "quantity")), "spo2_scale": _component(spo2, "spo2-scale")["valueInteger"],
            "air_or_oxygen": _value(by_code[news2 + "air-or-oxygen"], "concept"),
            "systolic": int(_component(bp, "8480-6")["valueQuantity"]["value"]),
            "diastolic": int(_component(bp, "8462-4")["valueQuantity"]["value"]),
            "pulse": int(_value(pulse, "quantity")),
            "pulse_regularity": _component(pulse, "pulse-regularity")["valueCodeableConcept"]["coding"][0]["code"],
            "consciousness": _value(by_code[news2 + "consciousness"], "concept"),
            "temperature": float(_value(by_code[loinc + "8310-5"], "quantity"))}
