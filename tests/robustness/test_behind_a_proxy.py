"""The hosted service behind a TLS-terminating proxy: clients call https://sandkasse.example/base/...,
the platform receives http://127.0.0.1:<port>/..., and DPoP proofs name the URL the client used.

The proxy is an httpx transport that forwards every request over real HTTP to the platform, with
the path prefix stripped, as a load balancer does. With PUBLIC_BASE_URL the platform checks proofs
against the public URL (and its HelseID advertises public endpoints); without it every proof fails.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from conformance.auth import HelseIdAuth
from conformance.auth.client import TokenError
from mock_platform import PlatformConfig, create_app, start_in_thread
from tests.security.conftest import ORG_OSLO, SecurePlatform

PUBLIC = "https://sandkasse.example/base"


class Proxy(httpx.BaseTransport):
    """Terminates 'TLS' for PUBLIC and forwards to the platform's plain-HTTP address."""

    def __init__(self, upstream: str):
        self.upstream = httpx.URL(upstream)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url).startswith(PUBLIC), request.url
        headers = httpx.Headers(request.headers)
        headers["Host"] = self.upstream.netloc.decode()
        forwarded = httpx.Request(request.method, self.upstream.copy_with(raw_path=request.url.raw_path.removeprefix(
            b"/base")), headers=headers, content=request.read())
        response = self.inner.handle_request(forwarded)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read(),
                              request=request)

    def close(self) -> None:
        self.inner.close()


def _platform(folder: Path, public: str | None):
    extra = {"TENANT_ORGANISATIONS": {"0301": [ORG_OSLO]}}
    if public:
        extra["PUBLIC_BASE_URL"] = public
    return create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=("0301",), auth="helseid",
                                     extra=extra))


def _client(server_url: str, app) -> httpx.Client:
    config = SecurePlatform(server_url, app).register()
    public = dataclasses.replace(config, issuer=f"{PUBLIC}/helseid", token_endpoint=f"{PUBLIC}/helseid/connect/token")
    return httpx.Client(transport=Proxy(server_url), auth=HelseIdAuth(public))


def test_proofs_for_the_public_url_are_accepted_with_public_base_url(tmp_path: Path) -> None:
    app = _platform(tmp_path, PUBLIC)
    with start_in_thread(app) as server, _client(server.url, app) as client:
        discovery = client.get(f"{PUBLIC}/helseid/.well-known/openid-configuration").json()
        assert discovery["token_endpoint"] == f"{PUBLIC}/helseid/connect/token"
        response = client.get(f"{PUBLIC}/0301/fhir/Patient/does-not-exist")
        assert response.status_code == 404, response.text          # past every check, to the handler
        metadata = client.get(f"{PUBLIC}/0301/fhir/metadata").json()
        assert metadata["implementation"]["url"] == f"{PUBLIC}/0301/fhir"


def test_without_it_the_proofs_name_another_url_and_are_refused(tmp_path: Path) -> None:
    app = _platform(tmp_path, None)
    with start_in_thread(app) as server, _client(server.url, app) as client:
        with pytest.raises(TokenError, match="htu"):
            client.get(f"{PUBLIC}/0301/fhir/Patient/does-not-exist")


@pytest.mark.parametrize("bad", ["sandkasse.example", "ftp://sandkasse.example", "https://x?y=1"])
def test_a_public_base_url_that_is_not_one_is_refused_at_start(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        _platform(tmp_path, bad)
