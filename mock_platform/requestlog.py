"""The request log of each tenant: every request to its FHIR API and event feed, refused ones
included (401/403, 4xx, injected faults), as evidence for the sandbox operator and the suite's
producer and consumer checks (`GET /admin/tenants/<t>/requests`, see docs/platform.md).

It is operator-only evidence: the suite verifies the DPoP proof and reads the token's claims
from it, so the Authorization and DPoP headers are kept as sent. Other header values are not
kept, only their names. Bodies and answers are capped at REQUEST_LOG_MAX_BYTES.

Installed first, so its before hook sees every request before authorization can refuse it and
its after hook runs last, seeing the answer as it leaves (a truncation fault included).
"""
from __future__ import annotations

import re
import time
from urllib.parse import quote

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from mock_platform.storage.requestlog import RequestRecord
from mock_platform.tenancy import storage

LOGGED_HEADERS = ("authorization", "dpop", "content-type", "accept")
_TENANT_API = re.compile(r"^/(?P<tenant>[^/]+)/(?P<api>fhir|events)(?:/(?P<rest>.*))?$")
DEFAULT_KEEP = 10_000
DEFAULT_MAX_BYTES = 256 * 1024


def install(app: Flask) -> None:
    """REQUEST_LOG_KEEP (rows per tenant, 0 switches the log off) and REQUEST_LOG_MAX_BYTES
    come from PlatformConfig.extra."""
    app.config.setdefault("REQUEST_LOG_KEEP", DEFAULT_KEEP)
    app.config.setdefault("REQUEST_LOG_MAX_BYTES", DEFAULT_MAX_BYTES)
    app.extensions["sandkasse.storage"].request_log_keep = app.config["REQUEST_LOG_KEEP"]
    app.before_request(_arrived)
    app.after_request(_record)


def _arrived() -> None:
    g.sandkasse_arrived = time.time()


def _record(response: Response) -> Response:
    match = _TENANT_API.match(request.path)
    if match is None or not current_app.config["REQUEST_LOG_KEEP"]:
        return response
    tenant = match["tenant"]
    store = storage()
    if store.cached_tenant(tenant) is None:
        return response       # no such platform instance: nothing to keep evidence for
    cap = current_app.config["REQUEST_LOG_MAX_BYTES"]
    body, body_cut = _text(_request_body(), cap)
    answer, answer_cut = (None, False) if response.is_streamed or not _answer_is_evidence(response) \
        else _text(response.get_data(), cap)
    headers = {}
    others = []
    for name, value in request.headers.items():
        name = name.lower()
        if name in LOGGED_HEADERS:
            headers[name] = value
        else:
            others.append(name)
    # Relative to the FHIR base, as a client writes it: "" for the intake, "Patient/1", and
    # "../events" for the feed, which sits beside the FHIR base.
    rest = match["rest"] or ""
    path = rest if match["api"] == "fhir" else "../events" + (f"/{rest}" if rest else "")
    store.log_request(RequestRecord(
        tenant, g.get("sandkasse_arrived") or time.time(), request.method, _url(request.environ), path, headers,
        tuple(others), body, response.status_code, answer,
        tuple(name for name, cut in (("body", body_cut), ("response", answer_cut)) if cut)))
    return response


def _answer_is_evidence(response: Response) -> bool:
    """Writes, refusals and injected faults keep their answer. A successful read's answer is what
    the store holds anyway: keeping every page would turn each read into a write of its size."""
    return request.method not in ("GET", "HEAD") or not 200 <= response.status_code < 300 \
        or bool(g.get("sandkasse_truncate"))


def _url(environ: dict) -> str:
    """The absolute URL as the client sent it, straight from the WSGI environ: werkzeug's
    request.url (IRI decoding, host checks) would cost more than the rest of the recording."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        target = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~%")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
    return f"{environ['wsgi.url_scheme']}://{host}{target}"


def _request_body() -> bytes | None:
    if not request.content_length and request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return None           # no body (the common read): skip the stream machinery
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None           # refused before it was read; its size is in the answer


def _text(data: bytes | None, cap: int) -> tuple[str | None, bool]:
    if not data:
        return None, False
    return data[:cap].decode("utf-8", "replace"), len(data) > cap
