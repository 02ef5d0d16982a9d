"""Run the platform on a free localhost port in a background thread (tests, demo, CLI)."""
from __future__ import annotations

import gc
import ssl
import threading
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


@dataclass
class RunningServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        scheme = "https" if getattr(self.server, "ssl_context", None) else "http"
        return f"{scheme}://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietHandler(WSGIRequestHandler):
    """Access lines would drown the suite's output; the audit log is the record of requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What http.server refuses before the app sees the request (a header line over 64 KB,
        more than 100 headers, a malformed request line) is answered like every other refusal:
        an OperationOutcome, not http.server's HTML page."""
        import json

        from conformance.validator import Issue, operation_outcome
        text = message or self.responses.get(code, ("Bad request",))[0]
        code_name = "too-costly" if code in (413, 414, 431) else "structure"
        fix = ("Send smaller headers: at most 100 header lines of at most 64 KB each."
               if code_name == "too-costly" else "Send a well-formed HTTP/1.1 request.")
        body = json.dumps(operation_outcome([Issue("error", code_name, f"HTTP {code}: {text}.",
                                                   rule="sk-platform-http", fix=fix)])).encode()
        self.close_connection = True
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass


def start_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0,
                    ssl_context: ssl.SSLContext | None = None) -> RunningServer:
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandkasse-platform", daemon=True)
    thread.start()
    return RunningServer(server, thread)


def prepare_worker(app: Flask) -> Flask:
    """Make a long-running worker ready before its first request: compile the validator and the
    search-parameter registry now, then move everything built so far (tens of MB of compiled
    profiles) out of the garbage collector's sight with gc.freeze(). Otherwise each full
    collection walks all of it and stalls a request for 50–100 ms, which is the intake's p99."""
    from conformance.validator import Validator
    from mock_platform.searchparams import registry

    Validator.default()
    registry()
    gc.collect()
    gc.freeze()
    return app
