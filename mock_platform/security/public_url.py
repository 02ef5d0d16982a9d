"""The URL clients use, when the platform runs behind a TLS-terminating proxy or load balancer.

A DPoP proof names the URL the client called (htu), and the platform compares it with the URL of
the request it received; HelseID's issuer and token endpoint are derived from it too. Behind a
proxy the platform receives http://10.0.0.5:8080/0301/fhir/... while the client called
https://sandkasse.example/0301/fhir/..., so every proof would be refused. With
`PlatformConfig(extra={"PUBLIC_BASE_URL": "https://sandkasse.example"})` every request is seen
as arriving at that base (scheme, host, port and path prefix), whatever the proxy forwarded.
A configured URL, not X-Forwarded-* headers: those are whatever the caller sends unless a proxy
strips them, and trusting them would let a client choose the URL its proof is checked against.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

_INSTALLED = "sandkasse.public-base-url"


def install(app: Flask) -> None:
    """Rewrite each request's scheme, host and script root to PUBLIC_BASE_URL (once per app)."""
    base = app.config.get("PUBLIC_BASE_URL")
    if not base or app.extensions.get(_INSTALLED):
        return
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_BASE_URL {base!r} is not an http(s) base URL such as https://sandkasse.example")
    port = str(parts.port or (443 if parts.scheme == "https" else 80))
    prefix = parts.path.rstrip("/")       # the proxy strips it before forwarding
    inner = app.wsgi_app

    def public(environ, start_response):
        environ.update({"wsgi.url_scheme": parts.scheme, "HTTP_HOST": parts.netloc, "SERVER_NAME": parts.hostname,
                        "SERVER_PORT": port, "SCRIPT_NAME": prefix})
        return inner(environ, start_response)

    app.wsgi_app = public
    app.extensions[_INSTALLED] = True
