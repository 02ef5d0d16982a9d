"""The CapabilityStatement, generated from the search-parameter registry so that it states exactly
what the API supports (no more, no less)."""
from __future__ import annotations

from flask import current_app

from mock_platform.intake import RESEND_WINDOW_MINUTES
from mock_platform.searchparams import registry
from mock_platform.security.scopes import policy

_DOC = {"token": "system|code, |code or code; comma for OR", "reference": "Type/id (patient: id alone is enough)",
        "date": "prefixes eq ne gt lt ge le sa eb ap; partial dates are ranges", "string": "case-insensitive prefix"}
_WRITE = ("read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type")


# R4 core Subscription with the rest-hook channel (mock_platform/subscriptions.py).
_SUBSCRIPTION = {
    "type": "Subscription",
    "documentation": "R4 Subscription, channel.type rest-hook only; criteria is a search of a served type "
                     "(same parameters as GET [type]?...; no result parameters); channel.payload empty (ping) or "
                     "application/fhir+json (a history Bundle: a Parameters subscription status with the event "
                     "sequence of the hendelseslager, then the matching resources). Status requested -> active "
                     "after the handshake, error when the endpoint refuses it or deliveries keep failing. "
                     "Visible only to the client that created it. Needs a read scope.",
    "interaction": [{"code": c} for c in ("read", "create", "update", "delete", "search-type")],
    "versioning": "versioned",          # meta.versionId counts the owner's updates; no vread
    "readHistory": False,
    "updateCreate": False,
    "searchParam": [{"name": "_id", "type": "token"},
                    {"name": "status", "type": "token", "documentation": "requested | active | error | off"}],
}


_MESSAGING = ("Messages (Bundle type message, MessageHeader first with eventCoding or eventUri, source.endpoint and "
              "focus on resources of the message) at $process-message, synchronous only (async=true is refused). Any "
              "event is accepted; its resources are validated and stored like a transaction's, as one event of kind "
              "message, or refused whole with every problem. The response message answers with response.code ok "
              "and focus on the stored versions. A resend (the same MessageHeader.id from the same client) is "
              "answered again without being stored twice, for at least reliableCache minutes (for as long as the "
              "message's event is kept).")


def _service_documentation(rtype: str) -> str:
    name = policy().service_name(rtype)
    service = policy().service_of.get(rtype)
    if service is not None:
        return f"Informasjonstjeneste: {name} (scope {policy().scope(service, 'read')} / .write)"
    return f"{name}: used with the scope of any information service" if name else ""


def capability_statement(base_url: str) -> dict:
    resources = []
    for info in registry().values():
        includes = [f"{info.name}:{p.name}" for p in info.params.values() if p.type == "reference"]
        revincludes = [f"{other.name}:{p.name}" for other in registry().values() for p in other.params.values()
                       if p.type == "reference"]
        resources.append(_without_empty({
            "type": info.name,
            "documentation": _service_documentation(info.name),
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
        }))
    resources.append(_SUBSCRIPTION)
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
        # What the implementation guide requires of any server of its data; the platform meets it
        # (the server role of the suite checks it against the platform in `make demo`).
        "instantiates": ["https://sandkasse.no/fhir/CapabilityStatement/sk-server"],
        "software": {"name": "sandkasse mock platform", "version": current_app.config["VERSION"]},
        "implementation": {"description": "sandkasse: a logical copy of the municipal platform", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Search result parameters: _count (max 1000, paging links next/previous/first/last), "
                             "_sort (_id, _lastUpdated, date parameters; '-' for descending), _include, "
                             "_revinclude, _summary=count. Data withheld by a patient's sperring, and other systems' "
                             "internal-only notes (meta.security R), are reported in an OperationOutcome entry "
                             "with search.mode 'outcome'. Subscription (rest-hook) notifies of new events.",
            "security": {"cors": False, "service": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}],
                "description": "HelseID access tokens bound with DPoP (auth mode 'helseid')."},
            "resource": resources,
            "interaction": [{"code": "transaction"}],
            "operation": [{"name": "validate",
                           "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"},
                          {"name": "process-message", "documentation": "FHIR messaging at the intake (see messaging).",
                           "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"}],
        }],
        # No supportedMessage: it names a MessageDefinition, and the intake takes every event alike.
        "messaging": [{
            "endpoint": [{"protocol": {"system": "http://terminology.hl7.org/CodeSystem/message-transport",
                                       "code": "http"},
                          "address": f"{base_url}/$process-message"}],
            "reliableCache": RESEND_WINDOW_MINUTES,
            "documentation": _MESSAGING,
        }],
    }


def _without_empty(element: dict) -> dict:
    """FHIR has no empty strings or arrays: leave out what a type does not have (e.g. includes)."""
    return {key: value for key, value in element.items() if value not in ("", [], None)}
