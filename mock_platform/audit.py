"""The audit log rendered as FHIR AuditEvent (profile sk-auditevent): who (system, organisation,
user), which patient, what (interaction and resource), when, why (purpose of use), and outcome."""
from __future__ import annotations

from mock_platform.rules import CLIENT_SYSTEM
from synthetic_data.identifiers import OID_HPR, OID_ORGNR

PROFILE = "https://sandkasse.no/fhir/StructureDefinition/sk-auditevent"
_ACTION_CODE = {"create": "C", "read": "R", "vread": "R", "search": "E", "history": "R", "update": "U",
                "delete": "D", "transaction": "E"}
_OUTCOME = {"0": "0", "4": "4", "8": "8"}


def render(row: dict) -> dict:
    agent = {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                             "code": "IRCP" if row["action"] in ("read", "vread", "search", "history") else "AUT"}]},
        "who": {"identifier": {"system": CLIENT_SYSTEM, "value": row["client_id"]}},
        "requestor": True,
    }
    if row["purpose"]:
        agent["purposeOfUse"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                              "code": row["purpose"]}]}]
    agents = [agent]
    if row["organisation"]:
        agents.append({"type": {"text": "organisation the access is made on behalf of"},
                       "who": {"identifier": {"system": OID_ORGNR, "value": row["organisation"]}},
                       "requestor": False})
    if row["user_hpr"]:
        agents.append({"type": {"text": "health personnel"},
                       "who": {"identifier": {"system": OID_HPR, "value": row["user_hpr"]}}, "requestor": True})
    entities = []
    if row["type"] and row["rid"]:
        entities.append({"what": {"reference": f"{row['type']}/{row['rid']}"},
                         "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"}})
    elif row["type"]:
        entities.append({"what": {"display": row["type"]}, "description": row["detail"] or row["type"]})
    if row["patient"]:
        entities.append({"what": {"reference": row["patient"]},
                         "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
                         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"}})
    if not entities:            # an access to no one resource (the event feed): what was asked
        entities.append({"what": {"display": row["detail"] or row["action"]}})
    event = {
        "resourceType": "AuditEvent",
        "id": row["id"],
        "meta": {"profile": [PROFILE], "versionId": "1", "lastUpdated": row["recorded"]},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": row["action"]}],
        "action": _ACTION_CODE.get(row["action"], "E"),
        "recorded": row["recorded"],
        "outcome": _OUTCOME.get(row["outcome"], "8"),
        "agent": agents,
        "source": {"observer": {"display": "sandkasse mock platform"}},
        "entity": entities,
    }
    if row["detail"] and row["outcome"] != "0":
        event["outcomeDesc"] = row["detail"]
    if row["purpose"]:
        event["purposeOfEvent"] = agent["purposeOfUse"]
    return event
