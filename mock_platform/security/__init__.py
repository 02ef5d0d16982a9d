"""Who is calling: the resource-server side of HelseID, applied to every platform request.

`authorize` returns the caller's AccessContext or raises FhirError(401/403). With the
documented development flag `PlatformConfig(auth="off-dev")` the checks are skipped and the
caller is the fixed development client below; that flag is the only way to switch them off.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Request

from conformance.validator import Issue
from mock_platform.errors import FhirError

DEV_CLIENT = "sandkasse-dev-client"


@dataclass(frozen=True)
class AccessContext:
    client_id: str                 # the calling system (HelseID client)
    organisation: str | None       # organisation number the call is made on behalf of
    scopes: frozenset[str]
    purpose_of_use: str | None     # why patient data is accessed (recorded in the audit log)
    user_pid: str | None = None    # the person behind the call, for user tokens
    user_hpr: str | None = None
    development: bool = False


def authorize(request: Request, tenant: str, resource_type: str | None, action: str,
              auth_mode: str) -> AccessContext:
    """action is "read" or "write"."""
    if auth_mode == "off-dev":
        return AccessContext(client_id=request.headers.get("X-Sandkasse-Dev-Client", DEV_CLIENT),
                             organisation=request.headers.get("X-Sandkasse-Dev-Org"),
                             scopes=frozenset({"*"}),
                             purpose_of_use=request.headers.get("X-Sandkasse-Dev-Purpose", "TREAT"),
                             development=True)
    raise FhirError(401, Issue("error", "login", "HelseID enforcement is not available in this build.",
                               fix="Start the platform with auth='off-dev' for development."),
                    headers={"WWW-Authenticate": 'DPoP error="invalid_token"'})
