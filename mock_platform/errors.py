"""Every error leaves the platform as a FHIR OperationOutcome, never as HTML or a stack trace."""
from __future__ import annotations

from flask import Flask, Response, json
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from conformance.validator import Issue, operation_outcome

FHIR_JSON = "application/fhir+json; charset=utf-8"

_HTTP_ISSUE_CODE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                    405: "not-supported", 406: "not-supported", 409: "conflict", 410: "deleted",
                    412: "conflict", 413: "too-costly", 415: "not-supported", 422: "processing",
                    429: "throttled"}


class FhirError(Exception):
    """Raised by handlers; rendered as an OperationOutcome with the given HTTP status."""

    def __init__(self, status: int, issues: list[Issue] | Issue, headers: dict[str, str] | None = None):
        super().__init__(issues)
        self.status = status
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        self.headers = headers or {}


try:  # orjson encodes a search page several times faster; optional (the `fast` extra)
    from orjson import dumps as _fast_dumps
except ImportError:  # pragma: no cover - depends on the installation
    _fast_dumps = None


def _encode(body: dict) -> bytes:
    if _fast_dumps is not None:
        try:
            return _fast_dumps(body)
        except TypeError:   # integers beyond 64 bits, lone surrogates: the standard library's way
            pass
    # JSON lets a caller send a lone surrogate ("\ud800"), which an answer may quote (an unknown
    # element's name); it has no UTF-8 form, so it leaves as the JSON escape it came in as
    # instead of failing the answer with a 500.
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")


def fhir_response(body: dict, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(body), status=status, headers=headers or {}, content_type=FHIR_JSON)


class _BoundedJSONProvider(DefaultJSONProvider):
    """Parses request bodies like the default, but a body nested too deep for the parser is
    an ordinary parse error (ValueError), so every route's `get_json(silent=True)` refuses it
    with a 400 instead of crashing with RecursionError."""

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def install_error_handlers(app: Flask) -> None:
    app.json = _BoundedJSONProvider(app)

    @app.errorhandler(FhirError)
    def _fhir_error(error: FhirError) -> Response:
        return fhir_response(operation_outcome(error.issues), error.status, error.headers)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        issue = Issue("error", _HTTP_ISSUE_CODE.get(status, "exception"), error.description or error.name,
                      fix=_fix_for(status))
        return fhir_response(operation_outcome([issue]), status)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error")
        issue = Issue("fatal", "exception", "The platform failed to process the request.",
                      fix="Retry later; if it persists, report it with the time of the request.")
        return fhir_response(operation_outcome([issue]), 500)


def _fix_for(status: int) -> str | None:
    return {404: "Check the resource type, id and tenant in the URL.",
            405: "See the CapabilityStatement (GET [base]/metadata) for the supported interactions.",
            413: "Send a smaller request body.",
            415: "Send FHIR JSON with Content-Type: application/fhir+json."}.get(status)
