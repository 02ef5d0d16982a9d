"""Run the platform on a free localhost port in a background thread (tests, demo, CLI)."""
from __future__ import annotations

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


def start_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0,
                    ssl_context: ssl.SSLContext | None = None) -> RunningServer:
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandkasse-platform", daemon=True)
    thread.start()
    return RunningServer(server, thread)
