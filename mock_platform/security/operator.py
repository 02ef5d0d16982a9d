"""The sandbox operator's credential: who may run the platform itself (tenants, faults, issuing
verifications). HelseID identifies systems of the health sector; the operator is not one of them,
so the operator authenticates with its own secret, OPERATOR_TOKEN, sent as a Bearer token.

With the development flag (auth "off-dev") and no OPERATOR_TOKEN configured, the documented
development token below is accepted, so a local sandbox works without setup.
"""
from __future__ import annotations

import hmac

from flask import Request, current_app

DEV_OPERATOR_TOKEN = "sandkasse-dev-operator"


def operator_token() -> str | None:
    token = current_app.config.get("OPERATOR_TOKEN")
    if token:
        return token
    return DEV_OPERATOR_TOKEN if current_app.config.get("AUTH_MODE") == "off-dev" else None


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def is_operator_token(given: str | None) -> bool:
    expected = operator_token()
    return bool(expected and given and hmac.compare_digest(expected.encode(), given.encode()))
