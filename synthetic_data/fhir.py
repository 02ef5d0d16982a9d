"""The shapes every generated resource shares: canonical URLs from conformance/ig/CONTRACT.md and
tiny builders for references and codings. Kept in one place so the contract is written once."""
from __future__ import annotations

SK = "https://sandkasse.no/fhir"
CS = f"{SK}/CodeSystem"
SD = f"{SK}/StructureDefinition"

CS_NEWS2 = f"{CS}/news2"
CS_ACVPU = f"{CS}/acvpu"
CS_KPR = f"{CS}/kpr-tjenestetype"
CS_PROBLEMOMRADE = f"{CS}/sykepleie-problemomrade"
CS_IPLOS = f"{CS}/iplos-funksjon"
CS_ORGTYPE = f"{CS}/organisasjonstype"
CS_KRITISK = f"{CS}/kritisk-informasjon"
CS_SPERRETYPE = f"{CS}/sperretype"
EXT_VEDTAKSTIMER = f"{SD}/vedtakstimer"
EXT_REVURDERINGSDATO = f"{SD}/revurderingsdato"
EXT_VEDTAKSTEKST = f"{SD}/vedtakstekst"
EXT_MUNICIPALITY = "http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode"
SID_KILDESYSTEM = f"{SK}/sid/kildesystem"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ICPC2 = "http://hl7.org/fhir/sid/icpc-2"
ICD10 = "http://hl7.org/fhir/sid/icd-10-no"
ATC = "http://www.whocc.no/atc"
HELSEPERSONELLKATEGORI = "urn:oid:2.16.578.1.12.4.1.1.9060"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
COND_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"


def meta(profile_id: str) -> dict:
    """meta with the profile; a fresh dict each time so no two resources share one object."""
    return {"profile": [f"{SD}/{profile_id}"]}


def ref(rtype: str, rid: str, display: str | None = None) -> dict:
    return {"reference": f"{rtype}/{rid}", "display": display} if display else {"reference": f"{rtype}/{rid}"}


def coding(system: str, code: str, display: str | None = None) -> dict:
    return {"system": system, "code": code, "display": display} if display else {"system": system, "code": code}


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    cc = {"coding": [coding(system, code, display)]}
    if text:
        cc["text"] = text
    return cc


def category(system: str, code: str, display: str | None = None) -> list[dict]:
    return [concept(system, code, display)]
