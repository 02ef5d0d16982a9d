"""The reference EPJ's web app: its own FHIR API (server role) and the test-control endpoint."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, json, request

from conformance.reference_epj.config import EpjConfig
from conformance.reference_epj.epj import ReferenceEpj
from conformance.scenarios import ProtocolError
from conformance.validator import Issue, operation_outcome

FHIR_JSON = "application/fhir+json; charset=utf-8"

fhir_bp = Blueprint("epj_fhir", __name__, url_prefix="/fhir")
control_bp = Blueprint("epj_test_control", __name__, url_prefix="/test-control")


def create_app(config: EpjConfig) -> Flask:
    app = Flask("reference_epj")
    app.extensions["reference_epj"] = ReferenceEpj(config)
    app.register_blueprint(fhir_bp)
    app.register_blueprint(control_bp)
    return app


def _epj() -> ReferenceEpj:
    return current_app.extensions["reference_epj"]


def _fhir(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON)


def _error(status: int, issue: Issue) -> Response:
    return _fhir(operation_outcome([issue]), status)


@fhir_bp.get("/metadata")
def metadata() -> Response:
    return _fhir({"resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01",
                  "kind": "instance", "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
                  "software": {"name": "sandkasse reference EPJ"},
                  "rest": [{"mode": "server", "resource": [{
                      "type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                      "searchParam": [{"name": "identifier", "type": "token"}]}]}]})


@fhir_bp.get("/Patient/<rid>")
def read_patient(rid: str) -> Response:
    patient = _epj().patients.read(rid)
    if patient is None:
        return _error(404, Issue("error", "not-found", f"Patient/{rid} is not in this EPJ.",
                                 fix="Search by identifier to find the patient's id."))
    return _fhir(patient)


@fhir_bp.get("/Patient")
def search_patient() -> Response:
    token = request.args.get("identifier")
    if not token:
        return _error(400, Issue("error", "required", "A Patient search needs the identifier parameter.",
                                 expression="identifier", fix="Use identifier=system|value."))
    system, _, value = token.rpartition("|")
    matches = _epj().patients.search_identifier(system or None, value)
    return _fhir({"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                  "entry": [{"fullUrl": f"{request.host_url}fhir/Patient/{p['id']}", "resource": p,
                             "search": {"mode": "match"}} for p in matches]})


@control_bp.post("/steps")
def perform_step() -> Response:
    step = request.get_json(silent=True)
    try:
        answer = _epj().perform(step)
    except ProtocolError as error:
        return Response(json.dumps({"error": str(error)}), status=400, content_type="application/json")
    return Response(json.dumps(answer, ensure_ascii=False), content_type="application/json")
