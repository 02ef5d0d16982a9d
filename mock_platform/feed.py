"""The event feed of a tenant's hendelseslager: `GET /<tenant>/events?since=<seq>&wait=<s>&_count=<n>`.

A JSON feed (not a FHIR Bundle: an event groups several resource versions, which a Bundle cannot
express without losing the grouping). A consumer keeps the last sequence number it has seen and
asks for what came after; with `wait` the request long-polls until something newer exists.
Changes name the resource version (vread it for the content) and are filtered by sperring and by
the restricted-notes rule (other systems' internal-only notes), counted in `withheld`.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, json, request

from conformance.validator import Issue
from mock_platform import rules
from mock_platform.errors import FhirError
from mock_platform.search import non_negative_int
from mock_platform.storage import AuditRow
from mock_platform.tenancy import caller, storage

bp = Blueprint("feed", __name__, url_prefix="/<tenant>/events")

MAX_WAIT = 60.0
MAX_COUNT = 1000


@bp.get("")
def events(tenant: str) -> Response:
    actor, _ = caller(tenant, None, "read")
    since, wait, count = _int("since", 0), _float("wait", 0.0), min(_int("_count", 100), MAX_COUNT)
    store = storage()
    if wait > 0:
        store.wait_for_events(tenant, since, min(wait, MAX_WAIT))
    found = store.events(tenant, since, count)
    blocks = store.blocks_for(tenant, rules.actor_keys(actor))
    withheld: dict[str, int] = {}
    out, patients = [], set()
    for event in found:
        changes = []
        for change in event["changes"]:
            # Only a resource's source system writes it, so the event's client is the note's source
            # and the event's organisation the one it was written for.
            reason = "sperring" if rules.blocking(blocks, change["type"], change["id"], change["patient"]) else \
                "restricted" if rules.restricted_for(actor, change["type"], change.get("resource"), event["source"],
                                                     event["organisation"]) else None
            if reason is not None:
                withheld[reason] = withheld.get(reason, 0) + 1
                continue
            patients.add(change["patient"])
            changes.append({k: change[k] for k in ("method", "type", "id", "version", "patient")}
                           | {"reference": f"{change['type']}/{change['id']}/_history/{change['version']}"})
        out.append({k: event[k] for k in ("seq", "recorded", "kind", "source", "organisation")} | {"changes": changes}
                   | _message_of(event))
    last = out[-1]["seq"] if out else since
    body = {"tenant": tenant, "since": since, "last_seq": last, "head": store.last_seq(tenant), "events": out,
            "next": f"{request.base_url}?{urlencode({'since': last, 'wait': int(wait) or 30, '_count': count})}"}
    if withheld:
        issues = [issue.to_fhir() for issue in rules.withheld_issues(withheld, "changes")]
        body["withheld"] = {"count": sum(withheld.values()), "outcome": issues[0], "issues": issues}
    store.audit(tenant, actor, [AuditRow("search", None, None, p, detail="event feed") for p in sorted(
        p for p in patients if p)] or [AuditRow("search", None, None, None, detail="event feed")])
    return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")


def _int(name: str, default: int) -> int:
    value = request.args.get(name, str(default))
    number = non_negative_int(value)
    if number is None:
        raise FhirError(400, Issue("error", "invalid", f"{name} must be a non-negative integer below 2^63, "
                                   f"not {value!r}.", name, rule="sk-platform-feed", fix=f"Use e.g. {name}={default}."))
    return number


def _float(name: str, default: float) -> float:
    value = request.args.get(name, str(default))
    try:
        result = float(value)
    except ValueError:
        result = -1.0
    if not 0 <= result <= 3600:
        raise FhirError(400, Issue("error", "invalid", f"{name} must be a number of seconds, not {value!r}.", name,
                                   rule="sk-platform-feed", fix=f"Use e.g. {name}=30 (at most {MAX_WAIT:.0f} s is used)."))
    return result


def _message_of(event: dict) -> dict:
    """The FHIR message an event stored, as its sender named it (MessageHeader.id, Bundle.id, the
    event code); the key and digest are the platform's own."""
    message = event.get("message")
    if message is None:
        return {}
    return {"message": {k: message[k] for k in ("id", "bundle", "event")}}
