"""The FHIR R4 REST API of one tenant: `/<tenant>/fhir/...`."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, request

from conformance.validator import Issue
from mock_platform.errors import FhirError, fhir_response
from mock_platform.storage import SqliteStorage

bp = Blueprint("fhir", __name__, url_prefix="/<tenant>/fhir")

SUPPORTED_TYPES = ("Patient",)


def _storage() -> SqliteStorage:
    return current_app.extensions["sandkasse.storage"]


def _check_tenant(tenant: str) -> None:
    if tenant not in current_app.config["TENANTS"]:
        raise FhirError(404, Issue("error", "not-found", f"Unknown tenant '{tenant}'.",
                                   fix="Use the base URL printed by `sandkasse serve`, e.g. /0301/fhir."))


def _check_type(rtype: str) -> None:
    if rtype not in SUPPORTED_TYPES:
        raise FhirError(404, Issue("error", "not-supported", f"Resource type '{rtype}' is not served here.",
                                   expression=rtype,
                                   fix=f"Supported types: {', '.join(SUPPORTED_TYPES)} (see /metadata)."))


@bp.get("/metadata")
def metadata(tenant: str) -> Response:
    _check_tenant(tenant)
    return fhir_response(capability_statement(request.base_url.rsplit("/metadata", 1)[0]))


def capability_statement(base_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "kind": "instance",
        "software": {"name": "sandkasse mock platform", "version": current_app.config["VERSION"]},
        "implementation": {"description": "sandkasse: a logical copy of the municipal platform",
                           "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "interaction": [{"code": "transaction"}],
            "resource": [{
                "type": "Patient",
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [{"name": "identifier", "type": "token"}],
            }],
        }],
    }


@bp.get("/<rtype>/<rid>")
def read(tenant: str, rtype: str, rid: str) -> Response:
    _check_tenant(tenant)
    _check_type(rtype)
    stored = _storage().read(tenant, rtype, rid)
    if stored is None:
        raise FhirError(404, Issue("error", "not-found", f"{rtype}/{rid} does not exist in tenant {tenant}.",
                                   fix="Search by identifier to find the resource id."))
    return fhir_response(stored.resource, headers={"ETag": f'W/"{stored.version}"',
                                                    "Last-Modified": stored.last_updated})


@bp.get("/<rtype>")
def search(tenant: str, rtype: str) -> Response:
    _check_tenant(tenant)
    _check_type(rtype)
    unknown = sorted(set(request.args) - {"identifier"})
    if unknown:
        raise FhirError(400, Issue("error", "not-supported", f"Unknown search parameter '{unknown[0]}'.",
                                   expression=unknown[0], fix="Supported for Patient: identifier."))
    token = request.args.get("identifier")
    if not token:
        raise FhirError(400, Issue("error", "required", "A search needs the identifier parameter.",
                                   fix="Use identifier=system|value."))
    system, _, value = token.rpartition("|")
    matches = _storage().search_identifier(tenant, rtype, system or None, value)
    return fhir_response(searchset(request.url, matches))


def searchset(url: str, resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": url}],
        "entry": [{"fullUrl": f"{request.host_url.rstrip('/')}{request.path}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }


@bp.post("")
@bp.post("/")
def transaction(tenant: str) -> Response:
    """The intake (meldingsmottak): a transaction Bundle is stored whole or not at all."""
    _check_tenant(tenant)
    bundle = request.get_json(silent=True)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle" \
            or bundle.get("type") != "transaction":
        raise FhirError(400, Issue("error", "invalid", "The body is not a FHIR transaction Bundle.",
                                   expression="Bundle.type",
                                   fix='POST a Bundle with "type": "transaction" as application/fhir+json.'))
    resources = [entry.get("resource") for entry in bundle.get("entry", [])]
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict) or resource.get("resourceType") not in SUPPORTED_TYPES \
                or not resource.get("id"):
            raise FhirError(400, Issue("error", "invalid", "Each entry needs a supported resource with an id.",
                                       expression=f"Bundle.entry[{index}].resource",
                                       fix=f"Send one of {', '.join(SUPPORTED_TYPES)} with an id."))
    stored = _storage().put_many(tenant, resources)
    return fhir_response({
        "resourceType": "Bundle", "type": "transaction-response",
        "entry": [{"response": {"status": "200 OK", "etag": f'W/"{s.version}"',
                                "location": f"{s.resource['resourceType']}/{s.resource['id']}/_history/{s.version}",
                                "lastModified": s.last_updated}} for s in stored],
    })
