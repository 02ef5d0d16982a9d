"""The operator's observer: a recording reverse proxy in front of the system under test.

The operator's sandbox runs the suite through it, so the data flow in an official report is what
the operator saw on the wire, not what the vendor says. It forwards every request unchanged and
records who (the access token's client_id, else the User-Agent) did what to which resource type.
"""
from __future__ import annotations

import base64
import json
import threading
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import quote

import httpx
from werkzeug.wrappers import Request, Response

from mock_platform.server import start_in_thread
from reports.dataflow import ObservedRequest

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"}


def client_of(headers) -> str:
    """The client_id claim of a HelseID access token (not verified: only used as a label)."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "dpop") and token.count(".") == 2:
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if isinstance(claims, dict) and claims.get("client_id"):
                return str(claims["client_id"])
        except ValueError:
            pass
    return headers.get("User-Agent", "unknown client")


def _bundle_types(body: bytes, content_type: str) -> tuple[str, ...]:
    if "json" not in content_type:
        return ()
    try:
        document = json.loads(body)
    except ValueError:
        return ()
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return ()
    types = {e.get("resource", {}).get("resourceType") for e in document.get("entry", []) if isinstance(e, dict)}
    return tuple(sorted(t for t in types if isinstance(t, str)))


class RecordingProxy:
    def __init__(self, target_base: str) -> None:
        self.target_base = target_base.rstrip("/")
        self.log: list[ObservedRequest] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=60.0)

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        query = "?" + request.query_string.decode("latin-1") if request.query_string else ""
        upstream = self._http.request(
            request.method, f"{self.target_base}{quote(request.path)}{query}", content=body,
            headers={k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP})
        observed = ObservedRequest(client_of(request.headers), request.method, request.path.lstrip("/"),
                                   _bundle_types(body, request.content_type or "")
                                   if request.path.strip("/") == "" else ())
        with self._lock:
            self.log.append(observed)
        response = Response(upstream.content, status=upstream.status_code,
                            headers=[(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in _HOP_BY_HOP])
        return response(environ, start_response)

    def close(self) -> None:
        self._http.close()


@contextmanager
def observe(target_base: str) -> Iterator[tuple[str, list[ObservedRequest]]]:
    """Serve a recording proxy for `target_base` on a free localhost port: yields (proxy base URL, log)."""
    proxy = RecordingProxy(target_base)
    server = start_in_thread(proxy)
    try:
        yield server.url, proxy.log
    finally:
        server.stop()
        proxy.close()
