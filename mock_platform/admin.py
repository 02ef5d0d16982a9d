"""The admin API: tenants (create, list, reset, seed), their settings, fault rules and request
log. JSON in and out; every error is an OperationOutcome like everywhere else on the platform."""
from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from conformance.validator import Issue, operation_outcome
from mock_platform import faults, intake, rules, security, subscriptions, tenancy
from mock_platform.errors import FhirError, fhir_response
from mock_platform.search import non_negative_int
from mock_platform.searchparams import index
from mock_platform.storage import Actor
from mock_platform.security.operator import bearer, is_operator_token
from mock_platform.tenancy import storage, tenant_row
from synthetic_data.identifiers import is_synthetic_orgnr

bp = Blueprint("admin", __name__, url_prefix="/admin")

SEED_SOURCE = "sandkasse-seed"
RESERVED = {"admin", "helseid", "operator", "static", "metadata"}
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
MAX_SEED_SIZE = 10_000


def _authorize(tenant: str | None) -> None:
    """Running the platform (tenants, seeding, faults) is the sandbox operator's job: with HelseID
    enforcement it needs the operator's token; the development flag lets anyone in."""
    if current_app.config["AUTH_MODE"] == "off-dev":
        return
    if not is_operator_token(bearer(request)):
        raise FhirError(401, Issue("error", "login", "The admin API needs the sandbox operator's credentials.",
                                   rule="sk-platform-admin",
                                   fix="Send Authorization: Bearer <operator token> (the platform's OPERATOR_TOKEN)."),
                        headers={"WWW-Authenticate": 'Bearer realm="sandkasse-operator"'})


def _json(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


def describe(tenant: dict) -> dict:
    base = request.host_url.rstrip("/")
    return {"id": tenant["id"], "kind": tenant["kind"], "kommunenummer": tenant["kommunenummer"],
            "created": tenant["created"], "events": tenant["seq"], "faults": len(tenant["faults"]),
            "fhir_base": f"{base}/{tenant['id']}/fhir", "events_url": f"{base}/{tenant['id']}/events"}


@bp.post("/tenants")
def create_tenant() -> Response:
    body = request.get_json(force=True, silent=True)
    _authorize(body.get("id") if isinstance(body, dict) else None)
    if not isinstance(body, dict):
        raise _bad("The body is not a JSON object.", "", 'Send {"id": "acme-test", "kind": "vendor", '
                   '"kommunenummer": "0301"}.')
    tid, kind, kommune = body.get("id"), body.get("kind", "vendor"), body.get("kommunenummer")
    if not isinstance(tid, str) or not _TENANT_ID.match(tid) or tid in RESERVED:
        raise _bad(f"Invalid tenant id {tid!r}.", "id", "Use 1–40 letters, digits and '-', starting with a letter "
                   "or digit (a municipality's tenant is its kommunenummer, e.g. 0301).")
    if kind not in ("municipality", "vendor"):
        raise _bad(f"Unknown tenant kind {kind!r}.", "kind", 'Use "municipality" or "vendor".')
    if kommune is None and kind == "municipality":
        kommune = tid
    if not isinstance(kommune, str) or not re.fullmatch(r"\d{4}", kommune):
        raise _bad(f"kommunenummer {kommune!r} is not a 4-digit municipality number.", "kommunenummer",
                   "Give the kommunenummer whose platform the tenant copies, e.g. 0301 (Oslo).")
    organisations = body.get("organisations", [])
    if not isinstance(organisations, list) or not all(
            isinstance(o, str) and is_synthetic_orgnr(o) for o in organisations):
        raise _bad("organisations must be a list of synthetic organisation numbers.", "organisations",
                   "Give the organisation numbers whose HelseID clients may use this tenant "
                   "(9 digits, mod-11, first digit 2 or 3), e.g. [\"312345674\"].")
    if not storage().create_tenant(tid, kind, kommune):
        raise FhirError(409, Issue("error", "duplicate", f"Tenant {tid!r} exists already.", "id",
                                   rule="sk-platform-tenant", fix="Reset it (DELETE /admin/tenants/<id>/data) or "
                                   "choose another id."))
    if organisations:  # in HelseID mode only these organisations' clients are let in
        security.tenants.allow_organisations(storage(), tid, organisations,
                                             current_app.config.get("TENANT_ORGANISATIONS"))
    return _json(describe(tenant_row(tid)), 201)


@bp.get("/tenants")
def list_tenants() -> Response:
    _authorize(None)
    return _json({"tenants": [describe(t) for t in storage().list_tenants()]})


@bp.get("/tenants/<tenant>")
def get_tenant(tenant: str) -> Response:
    _authorize(tenant)
    return _json(describe(tenant_row(tenant)))


@bp.delete("/tenants/<tenant>/data")
def reset_tenant(tenant: str) -> Response:
    _authorize(tenant)
    tenant_row(tenant)
    storage().reset_tenant(tenant)
    storage().clear_request_log(tenant)
    subscriptions.forget_tenant(storage(), tenant)   # a reset tenant starts without subscriptions
    return _json({"id": tenant, "reset": True})


@bp.post("/tenants/<tenant>/seed")
def seed_tenant(tenant: str) -> Response:
    _authorize(tenant)
    row = tenant_row(tenant)
    # Seeded data is the sandbox's own: its source system is the seed source, on no one's behalf.
    actor = Actor(request.args.get("source", SEED_SOURCE), None, "SYSDEV")
    body = request.get_data()
    spec = _cohort_spec(body)
    if spec is not None:
        loaded, issues = _seed_cohort(tenant, row["kommunenummer"] or "0301", actor, *spec)
    else:
        loaded, issues = seed_lines(tenant, actor, body.decode("utf-8", "replace").splitlines())
    storage().refresh_statistics()          # a bulk load: the planner sees the data it will search
    if issues:
        return fhir_response(operation_outcome(issues), 422)
    return _json({"id": tenant, "loaded_bundles": loaded, "events": storage().last_seq(tenant)})


def _cohort_spec(body: bytes) -> tuple[int, int] | None:
    try:
        parsed = json.loads(body) if body.strip().startswith(b"{") and b"\n{" not in body.strip() else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or "cohort" not in parsed:
        return None
    cohort = parsed["cohort"]
    size, seed = (cohort.get("size"), cohort.get("seed", 42)) if isinstance(cohort, dict) else (None, None)
    if not isinstance(size, int) or not 1 <= size <= MAX_SEED_SIZE or not isinstance(seed, int):
        raise _bad("cohort needs an integer size (1–10000) and an integer seed.", "cohort",
                   'Send {"cohort": {"size": 20, "seed": 42}}.')
    return size, seed


def _seed_cohort(tenant: str, kommunenummer: str, actor: Actor, size: int, seed: int) -> tuple[int, list[Issue]]:
    from synthetic_data import CohortSpec, write_cohort  # the generator's public API, only when asked
    with tempfile.TemporaryDirectory(prefix="sandkasse-seed-") as folder:
        try:
            write_cohort(CohortSpec(size=size, seed=seed, kommunenummer=kommunenummer), Path(folder))
        except ValueError as error:   # e.g. a kommunenummer the registry does not know
            return 0, [Issue("error", "value", f"No cohort can be generated for this tenant: {error}", "cohort",
                             rule="sk-platform-tenant", fix="Seed a tenant whose kommunenummer is a municipality "
                             "of the registry (e.g. 0301), or send your own bundles as NDJSON.")]
        with (Path(folder) / "bundles.ndjson").open(encoding="utf-8") as lines:
            return seed_lines(tenant, actor, lines)


def seed_lines(tenant: str, actor: Actor, lines: Iterable[str]) -> tuple[int, list[Issue]]:
    """Load transaction Bundles through the intake, one event each; a bad line is reported, the
    others are still loaded."""
    loaded, issues = 0, []
    store = storage()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entries = intake.bundle_entries(json.loads(line))
            writes = intake.prepare(store, tenant, entries)
            store.append(tenant, "transaction", writes, actor, rules.ownership_check(actor))
            loaded += 1
        except ValueError:
            issues.append(Issue("error", "structure", f"Line {number} is not JSON.", f"line[{number}]",
                                rule="sk-platform-intake", fix="Send one transaction Bundle per line (NDJSON)."))
        except FhirError as error:
            issues += [Issue(i.severity, i.code, f"Line {number}: {i.message}", i.expression, i.rule, i.fix)
                       for i in error.issues]
    return loaded, issues


@bp.post("/tenants/<tenant>/rebuild")
def rebuild_tenant(tenant: str) -> Response:
    """Replay the tenant's events into fresh projections (what the information services serve)."""
    _authorize(tenant)
    tenant_row(tenant)
    replayed = storage().rebuild_projections(tenant, _derive)
    storage().refresh_statistics()
    return _json({"id": tenant, "events_replayed": replayed})


def _derive(resource: dict, resolve) -> tuple:
    blocks = rules.blocks_of(resource, resolve) if resource.get("resourceType") == "Consent" else []
    return index(resource), blocks


@bp.get("/tenants/<tenant>/faults")
def get_faults(tenant: str) -> Response:
    _authorize(tenant)
    return _json({"id": tenant, "faults": tenant_row(tenant)["faults"]})


@bp.put("/tenants/<tenant>/faults")
def put_faults(tenant: str) -> Response:
    _authorize(tenant)
    tenant_row(tenant)
    body = request.get_json(force=True, silent=True)
    if isinstance(body, dict) and "faults" in body:
        body = body["faults"]
    clean, issues = faults.validate_rules(body)
    if issues:
        raise FhirError(400, issues)
    storage().set_faults(tenant, clean)
    return _json({"id": tenant, "faults": clean})


@bp.delete("/tenants/<tenant>/faults")
def clear_faults(tenant: str) -> Response:
    _authorize(tenant)
    tenant_row(tenant)
    storage().set_faults(tenant, [])
    return _json({"id": tenant, "faults": []})


@bp.get("/tenants/<tenant>/settings")
def get_settings(tenant: str) -> Response:
    _authorize(tenant)
    tenant_row(tenant)
    return _json({"id": tenant, "settings": tenancy.tenant_settings(tenant)})


@bp.put("/tenants/<tenant>/settings")
def put_settings(tenant: str) -> Response:
    """Test conditions of a tenant, e.g. {"max_page_size": 5} (see mock_platform.faults)."""
    _authorize(tenant)
    tenant_row(tenant)
    clean, issues = tenancy.validate_settings(request.get_json(force=True, silent=True))
    if issues:
        raise FhirError(400, issues)
    tenancy.set_tenant_settings(tenant, clean)
    return _json({"id": tenant, "settings": clean})


MAX_REQUESTS_PAGE = 10_000


@bp.get("/tenants/<tenant>/requests")
def get_requests(tenant: str) -> Response:
    """The tenant's request log after `since` (operator-only: it holds tokens and DPoP proofs)."""
    _authorize(tenant)
    tenant_row(tenant)
    since = non_negative_int(request.args.get("since", "0"))
    limit = non_negative_int(request.args.get("limit", "1000"))
    if since is None or limit is None or not 1 <= limit <= MAX_REQUESTS_PAGE:
        raise FhirError(400, Issue("error", "invalid", "since must be a non-negative integer and limit 1–10000.",
                                   "since" if since is None else "limit", rule="sk-platform-request-log",
                                   fix="GET /admin/tenants/<id>/requests?since=<last seq you saw>&limit=1000."))
    head, rows, more = storage().request_log(tenant, since, limit)
    body = {"id": tenant, "since": since, "requests": rows, "last": head}
    if more:
        body["next"] = f"{request.base_url}?since={rows[-1]['seq']}&limit={limit}"
    return _json(body)


def _bad(message: str, where: str, fix: str) -> FhirError:
    return FhirError(400, Issue("error", "invalid", message, where or None, rule="sk-platform-tenant", fix=fix))
