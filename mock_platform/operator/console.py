"""The console: the operator's and the vendors' web pages at /operator/console.

A browser cannot send a bearer token, so the console signs in with the same credential (the
operator token, or a vendor API key) through a form and keeps a session: a random id in an
HttpOnly, SameSite=Strict cookie scoped to /operator, stored hashed with an 8-hour lifetime.
Forms that change state carry the session's CSRF token. The operator sees every vendor's runs
and issues and revokes; a vendor sees only its own runs and reports.
"""
from __future__ import annotations

import hmac

from flask import Response, make_response, redirect, render_template, request, url_for

from mock_platform.errors import FhirError
from mock_platform.operator import bp, records
from mock_platform.operator.views import is_operator_token, issue_run, revoke_report


def _current() -> tuple[str | None, dict | None]:
    sid = request.cookies.get(records.SESSION_COOKIE)
    return sid, (records.session(sid) if sid else None)


def _back(notice: str, fix: str | None = None, ok: bool = False) -> Response:
    return redirect(url_for("operator.console", notice=notice, fix=fix, ok="1" if ok else None), code=303)


@bp.get("/console")
def console():
    _, session = _current()
    notice = {"text": request.args.get("notice"), "fix": request.args.get("fix"), "ok": request.args.get("ok")}
    if session is None:
        return render_template("operator/login.html", notice=notice)
    if session["role"] == "operator":
        vendors = sorted(records.vendors(), key=lambda v: v["name"])
        runs = records.runs()
        issued = {r["report_id"]: records.public_status(r) for r in records.all_issued()}
        return render_template("operator/console.html", vendors=vendors, runs=runs, issued=issued,
                               csrf=session["csrf"], notice=notice)
    vendor = records.vendor(session["org"]) or {"org": session["org"], "name": ""}
    issued = {r["report_id"]: records.public_status(r) for r in records.all_issued(vendor["org"])}
    return render_template("operator/vendor_console.html", vendor=vendor, runs=records.runs(vendor["org"]),
                           issued=issued, csrf=session["csrf"], notice=notice)


@bp.post("/console/login")
def console_login():
    credential = (request.form.get("credential") or "").strip()
    if is_operator_token(credential):
        sid, _ = records.new_session("operator")
    elif (vendor := records.vendor_for_key(credential) if credential else None) is not None:
        sid, _ = records.new_session("vendor", vendor["org"])
    else:
        page = render_template("operator/login.html", notice={
            "text": "That is neither the operator token nor a vendor API key.",
            "fix": "Paste the operator token, or the API key your vendor received at registration."})
        return Response(page, status=401, content_type="text/html; charset=utf-8")
    response = make_response(redirect(url_for("operator.console"), code=303))
    response.set_cookie(records.SESSION_COOKIE, sid, max_age=records.SESSION_SECONDS, path="/operator",
                        httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@bp.post("/console/logout")
def console_logout():
    sid, session = _current()
    if sid and session and _csrf_ok(session):
        records.end_session(sid)
    response = make_response(redirect(url_for("operator.console"), code=303))
    response.delete_cookie(records.SESSION_COOKIE, path="/operator")
    return response


def _csrf_ok(session: dict) -> bool:
    return hmac.compare_digest(session["csrf"].encode(), (request.form.get("csrf") or "").encode())


def _operator_form() -> str | None:
    """None when the request is the operator's own form; else why not."""
    _, session = _current()
    if session is None or session["role"] != "operator":
        return "Sign in as the operator first."
    if not _csrf_ok(session):
        return "The form has expired; reload the page and try again."
    return None


@bp.post("/console/runs/<run_id>/issue")
def console_issue(run_id: str):
    if (problem := _operator_form()) is not None:
        return _back(problem)
    try:
        days = float(request.form.get("validity_days") or 365)
        record = issue_run(run_id, days)
    except ValueError:
        return _back("The validity must be a number of days.", "e.g. 365")
    except FhirError as error:
        return _back(error.issues[0].message, error.issues[0].fix)
    return _back(f"Issued {record['product']} {record['version']}, valid until {record['expires']}.", ok=True)


@bp.post("/console/reports/<report_id>/revoke")
def console_revoke(report_id: str):
    if (problem := _operator_form()) is not None:
        return _back(problem)
    try:
        record = revoke_report(report_id, request.form.get("reason"))
    except FhirError as error:
        return _back(error.issues[0].message, error.issues[0].fix)
    return _back(f"Revoked {record['product']} {record['version']}.", ok=True)
