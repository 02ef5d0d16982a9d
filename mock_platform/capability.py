"""The CapabilityStatement, generated from the search-parameter registry so that it states exactly
what the API supports (no more, no less)."""
from __future__ import annotations

from flask import current_app

from mock_platform.searchparams import registry

_DOC = {"token": "system|code, |code or code; comma for OR", "reference": "Type/id (patient: id alone is enough)",
        "date": "prefixes eq ne gt lt ge le sa eb ap; partial dates are ranges", "string": "case-insensitive prefix"}
_WRITE = ("read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type")


def capability_statement(base_url: str) -> dict:
    resources = []
    for info in registry().values():
        includes = [f"{info.name}:{p.name}" for p in info.params.values() if p.type == "reference"]
        revincludes = [f"{other.name}:{p.name}" for other in registry().values() for p in other.params.values()
                       if p.type == "reference"]
        resources.append({
            "type": info.name,
            "documentation": f"Informasjonstjeneste: {info.service}" if info.service else "",
            "interaction": [{"code": code} for code in _WRITE],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchInclude": includes,
            "searchRevInclude": revincludes,
            "searchParam": [
                {"name": "_id", "type": "token"},
                {"name": "_lastUpdated", "type": "date", "documentation": _DOC["date"]},
                *({"name": p.name, "type": p.type, "documentation": _DOC[p.type]} for p in info.params.values()),
            ],
            "operation": [{"name": "validate",
                           "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}],
        })
    resources.append({
        "type": "AuditEvent",
        "documentation": "Written by the platform for every read and write; read-only for clients.",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [{"name": "_id", "type": "token"},
                        {"name": "patient", "type": "reference", "documentation": "the patient's audit trail"}],
    })
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "kind": "instance",
        "software": {"name": "sandkasse mock platform", "version": current_app.config["VERSION"]},
        "implementation": {"description": "sandkasse: a logical copy of the municipal platform", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Search result parameters: _count (max 1000, paging links next/previous/first/last), "
                             "_sort (_id, _lastUpdated, date parameters; '-' for descending), _include, "
                             "_revinclude, _summary=count. Data withheld by a patient's sperring is reported in "
                             "an OperationOutcome entry with search.mode 'outcome'.",
            "security": {"cors": False, "service": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}],
                "description": "HelseID access tokens bound with DPoP (auth mode 'helseid')."},
            "resource": resources,
            "interaction": [{"code": "transaction"}],
            "operation": [{"name": "validate",
                           "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}],
        }],
    }
