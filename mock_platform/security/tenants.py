"""Which organisations may act in which tenant (municipality).

A tenant is one kommune's platform instance; the organisations allowed there are the kommune
itself and the organisations working for it, by organisation number (the token's
orgnr_parent or orgnr_child must be one of them). The registry lives in the shared database;
`PlatformConfig(extra={"TENANT_ORGANISATIONS": {"0301": ["3xxxxxxxx"]}})` seeds it.
"""
from __future__ import annotations

NAMESPACE = "security.tenant-organisations"


def allowed_organisations(storage, tenant: str, seed: dict | None = None) -> set[str]:
    record = storage.kv_get(NAMESPACE, tenant)
    if record is not None:
        return set(record.get("organisations", []))
    return set((seed or {}).get(tenant, []))


def allow_organisations(storage, tenant: str, organisations: list[str], seed: dict | None = None) -> list[str]:
    merged = sorted(allowed_organisations(storage, tenant, seed) | set(organisations))
    storage.kv_put(NAMESPACE, tenant, {"organisations": merged})
    return merged
