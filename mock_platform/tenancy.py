"""Per-request context: which tenant (platform instance), which storage, who is calling, and the
tenant's settings (test conditions an operator sets: PUT /admin/tenants/<id>/settings)."""
from __future__ import annotations

import time

from flask import current_app, g, request

from conformance.validator import Issue
from mock_platform import security
from mock_platform.errors import FhirError
from mock_platform.search import MAX_COUNT
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


SETTINGS_NAMESPACE = "platform.tenant-settings"
SETTINGS_MAX_AGE = 1.0      # seconds another process's change may take to be seen here


def validate_settings(body: object) -> tuple[dict, list[Issue]]:
    """{"max_page_size": 1–MAX_COUNT or null (the platform's default paging)}: the tenant's
    searches, histories and audit queries answer with at most that many entries a page (a server
    may always return fewer than `_count` asks for), so a consumer's paging shows with a handful
    of records. Settings live in the database (the kv table), read at most once a second."""
    if not isinstance(body, dict):
        return {}, [Issue("error", "structure", "Settings are a JSON object.", "settings",
                          fix='Send e.g. {"max_page_size": 5}.')]
    issues = [Issue("error", "not-supported", f"Unknown setting {name!r}.", name, rule="sk-platform-tenant",
                    fix="Known settings: max_page_size.") for name in sorted(set(body) - {"max_page_size"})]
    size = body.get("max_page_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                             or not 1 <= size <= MAX_COUNT):
        issues.append(Issue("error", "value", f"max_page_size must be an integer 1–{MAX_COUNT}, or null.",
                            "max_page_size", rule="sk-platform-tenant",
                            fix="E.g. 5, so that a dozen records span three pages."))
    return ({"max_page_size": size} if size is not None else {}), issues


def tenant_settings(tenant: str) -> dict:
    cache = current_app.extensions.setdefault("sandkasse.tenant-settings", {})
    hit = cache.get(tenant)
    if hit is not None and time.monotonic() - hit[0] < SETTINGS_MAX_AGE:
        return hit[1]
    settings = storage().kv_get(SETTINGS_NAMESPACE, tenant) or {}
    cache[tenant] = (time.monotonic(), settings)
    return settings


def set_tenant_settings(tenant: str, settings: dict) -> None:
    storage().kv_put(SETTINGS_NAMESPACE, tenant, settings)
    current_app.extensions.setdefault("sandkasse.tenant-settings", {}).pop(tenant, None)


def page_limit(tenant: str) -> int:
    """The most entries one page of this tenant's answers may hold."""
    return tenant_settings(tenant).get("max_page_size") or MAX_COUNT
