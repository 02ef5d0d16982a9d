"""Fault injection for consumer testing: per tenant, per route (glob) and optionally per patient,
the platform answers slowly, with 429/500/503, with a truncated Bundle, or drops the connection,
so the suite can check that an EPJ warns instead of silently showing incomplete data.

Rules live in the tenant's row (PUT /admin/tenants/<id>/faults), so every platform process
applies the same rules; a rule with `times` fires that many times in total. The first rule that
matches decides. Kind `pass` lets matching requests through untouched (with `times`, only that
many); `skip: n` on a rule is short for a `pass` rule with `times: n` in front of it, so the
first n matching requests get through and later ones fail (a later page of a search, say).
Both counts are kept in the database, so they hold across processes.

A tenant's settings (PUT /admin/tenants/<id>/settings, `mock_platform.tenancy`) are test
conditions of the same kind, applied where they belong: `max_page_size` by the search's paging.
"""
from __future__ import annotations

import fnmatch
import json
import socket
import time

from flask import Flask, Response, g, request

from conformance.validator import Issue
from mock_platform.errors import FhirError
from mock_platform.tenancy import storage, tenant_row

KINDS = ("slow", "429", "500", "503", "truncated", "drop", "pass")
_FIX = "This is an injected fault (sandkasse fault injection); a client must retry later or warn its user."


def validate_rules(rules: object) -> tuple[list[dict], list[Issue]]:
    if not isinstance(rules, list):
        return [], [Issue("error", "structure", "Fault rules must be a JSON list.", "faults",
                          fix='Send e.g. [{"route": "Observation*", "kind": "503"}].')]
    clean, issues = [], []
    for i, rule in enumerate(rules):
        where = f"faults[{i}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("route", "*"), str):
            issues.append(Issue("error", "structure", "A rule is an object with a route glob.", where,
                                fix='{"route": "Patient/*", "kind": "429"}'))
            continue
        kind = str(rule.get("kind"))
        if kind not in KINDS:
            issues.append(Issue("error", "value", f"Unknown fault kind {rule.get('kind')!r}.", f"{where}.kind",
                                fix=f"Use one of {', '.join(KINDS)}."))
            continue
        delay, times, skip = rule.get("delay_ms", 2000 if kind == "slow" else 0), rule.get("times"), rule.get("skip")
        if not isinstance(delay, int) or not 0 <= delay <= 120_000:
            issues.append(Issue("error", "value", "delay_ms must be an integer 0–120000.", f"{where}.delay_ms",
                                fix="Give the delay in milliseconds, e.g. 3000."))
            continue
        if times is not None and (not isinstance(times, int) or times < 1):
            issues.append(Issue("error", "value", "times must be a positive integer.", f"{where}.times",
                                fix="Leave times out to fire on every matching request."))
            continue
        if skip is not None and (not isinstance(skip, int) or isinstance(skip, bool) or skip < 0 or kind == "pass"):
            issues.append(Issue("error", "value", "skip must be a non-negative integer on a fault rule.",
                                f"{where}.skip", fix='Let the first n matching requests through with "skip": n, '
                                                     'e.g. {"route": "EpisodeOfCare*", "kind": "503", "skip": 1}.'))
            continue
        out = {"route": rule.get("route", "*"), "kind": kind, "delay_ms": delay}
        if rule.get("patient") is not None:
            out["patient"] = str(rule["patient"]).removeprefix("Patient/")
        if times is not None:
            out["times"] = out["remaining"] = times
        if skip:
            clean.append({**{k: v for k, v in out.items() if k in ("route", "patient")}, "kind": "pass",
                          "delay_ms": 0, "times": skip, "remaining": skip, "skip_for": len(clean) + 1})
            out["skip"] = skip
        clean.append(out)
    return clean, issues


def install(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)


def _before() -> Response | None:
    tenant = (request.view_args or {}).get("tenant")
    if tenant is None or request.blueprint not in ("fhir", "feed"):
        return None
    rules = tenant_row(tenant)["faults"]
    if not rules:
        return None
    relative = request.path.split(f"/{tenant}/", 1)[-1].removeprefix("fhir").lstrip("/")
    for index, rule in enumerate(rules):
        if not (fnmatch.fnmatchcase(relative, rule["route"]) or fnmatch.fnmatchcase(request.path, rule["route"])):
            continue
        if "patient" in rule and rule["patient"] not in _patients():
            continue
        if "times" in rule and not storage().consume_fault(tenant, index):
            continue
        if rule["kind"] == "pass":
            return None
        return _fire(rule)
    return None


def _patients() -> set[str]:
    """The patients a request is about: Patient/<id> URLs and patient/subject parameters."""
    found = set()
    parts = request.path.split("/")
    if "Patient" in parts and parts.index("Patient") + 1 < len(parts):
        found.add(parts[parts.index("Patient") + 1])
    for name in ("patient", "subject", "_id"):
        for value in request.args.getlist(name):
            found.update(v.removeprefix("Patient/") for v in value.split(","))
    return found


def _fire(rule: dict) -> Response | None:
    kind = rule["kind"]
    if kind == "slow":
        time.sleep(rule["delay_ms"] / 1000)
        return None
    if kind == "truncated":
        g.sandkasse_truncate = True
        return None
    if kind == "drop":
        _drop_connection()
        return Response(status=499)
    status = int(kind)
    code = "throttled" if status == 429 else "transient" if status == 503 else "exception"
    headers = {"Retry-After": str(max(1, rule["delay_ms"] // 1000))} if status in (429, 503) else {}
    raise FhirError(status, Issue("error" if status != 500 else "fatal", code,
                                  f"Injected fault: HTTP {status}.", rule="sk-platform-fault-injection", fix=_FIX),
                    headers=headers)


def _drop_connection() -> None:
    sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if sock is None:
        raise FhirError(500, Issue("fatal", "exception", "Injected fault: connection drop is not possible on "
                                   "this server, answering 500 instead.", rule="sk-platform-fault-injection", fix=_FIX))
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _after(response: Response) -> Response:
    if not getattr(g, "sandkasse_truncate", False):
        return response
    body = response.get_data()
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("resourceType") == "Bundle":
        # The subtle failure: a well-formed Bundle that claims more than it carries, with no way on.
        entries = parsed.get("entry") or []
        parsed["entry"] = entries[: len(entries) // 2]
        parsed["link"] = [link for link in parsed.get("link", []) if link.get("relation") in ("self", "first")]
        response.set_data(json.dumps(parsed, ensure_ascii=False))
    else:
        response.set_data(body[: len(body) // 2])   # the blunt failure: a body cut off mid-way
    return response
