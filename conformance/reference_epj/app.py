"""The reference EPJ's web app: its own FHIR API (server role, server.py) and the test-control endpoint."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, json, request

from conformance.reference_epj.config import EpjConfig
from conformance.reference_epj.epj import ReferenceEpj
from conformance.reference_epj.server import ServerConfig, install as install_fhir_api
from conformance.scenarios import ProtocolError

control_bp = Blueprint("epj_test_control", __name__, url_prefix="/test-control")


def create_app(config: EpjConfig, server: ServerConfig | None = None) -> Flask:
    """The EPJ. Its FHIR API serves the cohort it was loaded with (config.cohort), with HelseID
    checks when `server.security` is given, and the server defects of `server.defects` if any."""
    app = Flask("reference_epj")
    app.extensions["reference_epj"] = ReferenceEpj(config)
    install_fhir_api(app, config.cohort, server or ServerConfig())
    app.register_blueprint(control_bp)
    return app


def _epj() -> ReferenceEpj:
    return current_app.extensions["reference_epj"]


@control_bp.post("/steps")
def perform_step() -> Response:
    step = request.get_json(silent=True)
    try:
        answer = _epj().perform(step)
    except ProtocolError as error:
        return Response(json.dumps({"error": str(error)}), status=400, content_type="application/json")
    return Response(json.dumps(answer, ensure_ascii=False), content_type="application/json")
