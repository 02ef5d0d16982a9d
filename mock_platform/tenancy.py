"""Per-request context: which tenant (platform instance), which storage, who is calling."""
from __future__ import annotations

from flask import current_app, g, request

from conformance.validator import Issue
from mock_platform import security
from mock_platform.errors import FhirError
from mock_platform.storage import Actor, SqlStorage


def storage() -> SqlStorage:
    return current_app.extensions["sandkasse.storage"]


def tenant_row(tenant: str) -> dict:
    """The tenant's row (read once per request); 404 if no such platform instance exists."""
    cached = getattr(g, "sandkasse_tenant", None)
    if cached is not None and cached["id"] == tenant:
        return cached
    row = storage().cached_tenant(tenant)
    if row is None:
        raise FhirError(404, Issue("error", "not-found", f"Unknown tenant '{tenant}'.", rule="sk-platform-tenant",
                                   fix="Use a base URL printed by `sandkasse serve` (e.g. /0301/fhir), or create "
                                       "the tenant with POST /admin/tenants."))
    g.sandkasse_tenant = row
    return row


def caller(tenant: str, resource_type: str | None, action: str) -> tuple[Actor, security.AccessContext]:
    """Authorize the request (security engineer's hook) and describe the caller for audit."""
    tenant_row(tenant)
    context = security.authorize(request, tenant, resource_type, action, current_app.config["AUTH_MODE"])
    actor = Actor(context.client_id, context.organisation, context.purpose_of_use, context.user_hpr)
    g.sandkasse_actor = actor
    return actor, context
