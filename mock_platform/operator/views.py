"""Routes of the operator blueprint.

Three audiences, three credentials:
- the public (no credential): the catalog page, issued reports, keys, the verification endpoint;
- the operator (Authorization: Bearer <OPERATOR_TOKEN>): vendors, runs, issuing, revoking;
- a vendor (Authorization: Bearer <vendor API key>, issued at registration): its own runs and
  reports only. Another vendor's run answers 404, exactly as a run that does not exist, so that
  ids do not leak who is being verified.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Response, json, redirect, render_template, request, url_for

from conformance.validator import Issue
from mock_platform.errors import FhirError
from mock_platform.operator import bp, records
from mock_platform.security.operator import bearer, is_operator_token
from reports import Report, to_html
from reports.model import VERIFIED
from reports.signing import Problem, public_jwk, sign, verify

JSON = "application/json; charset=utf-8"
MAX_VALIDITY_DAYS = 3 * 365


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=JSON)


def _not_found(what: str) -> FhirError:
    return FhirError(404, Issue("error", "not-found", f"No {what} with this id is visible to you.",
                                fix="Check the id; vendors see only their own runs and reports."))


def _invalid(message: str, expression: str, fix: str) -> FhirError:
    return FhirError(400, Issue("error", "invalid", message, expression=expression, fix=fix))


def _bearer() -> str | None:
    return bearer(request)


def _session() -> dict | None:
    """The console's session (a browser cannot send a bearer token): see console.py."""
    sid = request.cookies.get(records.SESSION_COOKIE)
    return records.session(sid) if sid else None


def _require_operator() -> None:
    if not is_operator_token(_bearer()):
        raise FhirError(401, Issue("error", "login", "This operator action needs the operator's credentials.",
                                   fix="Send Authorization: Bearer <operator token> (the platform's OPERATOR_TOKEN)."),
                        headers={"WWW-Authenticate": 'Bearer realm="sandkasse-operator"'})


def _require_vendor() -> dict:
    """A vendor by its API key, or (for pages, which are read-only) by its console session."""
    key = _bearer()
    found = records.vendor_for_key(key) if key else None
    if found is None and key is None:
        session = _session()
        found = records.vendor(session["org"]) if session and session.get("role") == "vendor" else None
    if found is None:
        raise FhirError(401, Issue("error", "login", "This view needs a vendor API key.",
                                   fix="Send Authorization: Bearer <API key> as issued at vendor registration."),
                        headers={"WWW-Authenticate": 'Bearer realm="sandkasse-vendor"'})
    return found


def _body(optional: bool = False) -> dict:
    """The request's JSON object; with `optional`, an empty body is an empty object."""
    if optional and not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _invalid("The request body is not a JSON object.", "$this",
                       "Send a JSON object with Content-Type: application/json.")
    return body


def _text(body: dict, name: str, fix: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"'{name}' is missing or empty.", name, fix)
    return value.strip()


def _org(body: dict) -> str:
    from synthetic_data.identifiers import is_valid_orgnr
    org = _text(body, "vendor_org", "Give the vendor's organisation number (9 digits).")
    if not is_valid_orgnr(org):
        raise _invalid(f"'{org}' is not a valid organisation number.", "vendor_org",
                       "Use the 9-digit organisation number with its mod-11 check digit.")
    return org


@bp.after_request
def _page_headers(response: Response) -> Response:
    """The pages are self-contained: a strict CSP says so to the browser, and makes injected
    markup in a report (evidence is vendor-controlled text) inert even if escaping ever failed."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.path.startswith(("/operator/console", "/operator/vendor/")):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- public --------------------------------------------------------------------------------------

@bp.get("/")
def index():
    return redirect(url_for("operator.catalog_page"))


@bp.get("/catalog")
def catalog_page():
    rows = [records.public_status(r) for r in records.all_issued()]
    return render_template("operator/catalog.html", rows=rows, issuer=records.issuer())


@bp.get("/catalog.json")
def catalog_json():
    return _json({"issuer": records.issuer(), "entries": [records.public_status(r) for r in records.all_issued()]})


@bp.get("/keys")
def keys():
    key = records.signing_key()
    return _json({"keys": [public_jwk(key.public_key())] if key else []})


@bp.get("/reports/<report_id>/report.json")
def issued_report_json(report_id: str):
    record = records.issued(report_id)
    if record is None:
        raise _not_found("issued report")
    return _json(record["report"])


@bp.get("/reports/<report_id>/report.html")
def issued_report_html(report_id: str):
    record = records.issued(report_id)
    if record is None:
        raise _not_found("issued report")
    return Response(to_html(record["report"]), content_type="text/html; charset=utf-8")


@bp.get("/verify/<report_id>")
def verify_status(report_id: str):
    record = records.issued(report_id)
    if record is None:
        raise _not_found("issued report")
    return _json(records.public_status(record))


@bp.post("/verify")
def verify_posted():
    """Anyone can post a report they were given and learn whether it is an official, valid one."""
    report = _body()
    key = records.signing_key()
    keyset = {public_jwk(key.public_key())["kid"]: key.public_key()} if key else {}
    record = records.issued(str(report.get("id")))
    status = records.public_status(record) if record else {}
    result = verify(report, keyset, now=records.now(), operator_status=status)
    if record is None and report.get("signature"):
        result.problems.append(Problem("unknown-to-operator", "the operator has no issued report with this id"))
    # `status` is the operator's record (verified, stale, revoked, expired, or unknown);
    # `valid` says whether this document is that record, unchanged and in force.
    return _json(result.to_dict() | {"status": status.get("status", "unknown")})


# --- operator ------------------------------------------------------------------------------------

@bp.post("/vendors")
def add_vendor():
    _require_operator()
    body = _body()
    org, name = _org(body), _text(body, "name", "Give the vendor's name.")
    api_key = records.add_vendor(org, name)
    if api_key is None:
        raise FhirError(409, Issue("error", "conflict", f"Vendor {org} is already registered.",
                                   expression="vendor_org", fix="Use the API key issued at registration."))
    return _json({"vendor_org": org, "name": name, "api_key": api_key,
                  "note": "The API key is shown once; the platform keeps only its hash."}, 201)


@bp.get("/vendors")
def list_vendors():
    _require_operator()
    return _json({"vendors": records.vendors()})


@bp.post("/products")
def register_product():
    _require_operator()
    body = _body()
    org = _registered_vendor(body)
    product = _text(body, "product", "Give the product name.")
    record = records.register_version(org, product, _text(body, "version", "Give the exact product version."))
    return _json(record, 201)


def _registered_vendor(body: dict) -> str:
    org = _org(body)
    if records.vendor(org) is None:
        raise FhirError(422, Issue("error", "processing", f"Vendor {org} is not registered.", expression="vendor_org",
                                   fix="Register the vendor first: POST /operator/vendors."))
    return org


@bp.post("/runs")
def record_run():
    """Record a run the operator's sandbox observed, with its (unsigned) report."""
    _require_operator()
    body = _body()
    org = _registered_vendor(body)
    product = _text(body, "product", "Give the product name.")
    version = _text(body, "version", "Give the exact product version.")
    roles = body.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _invalid("'roles' must be a list of strings.", "roles", 'e.g. ["source-system", "consumer"]')
    try:
        report = Report.from_dict(body.get("report") or {})
    except (TypeError, KeyError, AttributeError) as error:
        raise _invalid(f"'report' is not a sandkasse report: {error}", "report",
                       "Send report.json as written by the suite (--report-dir).") from error
    records.register_version(org, product, version)
    earlier = records.earlier_attempts(org, product, version)
    run_id = str(uuid.uuid4())
    vendor = records.vendor(org)
    report.id, report.signed, report.signature = run_id, False, None
    report.product.vendor_org, report.product.vendor_name = org, vendor["name"]
    report.product.name, report.product.version, report.product.roles = product, version, roles
    report.attempt = len(earlier) + 1
    report.history = [_attempt(r) for r in earlier]
    document = report.to_dict()
    record = {"run_id": run_id, "org": org, "product": product, "version": version, "roles": roles,
              "attempt": report.attempt, "recorded": records.iso(records.now()), "started": report.started,
              "finished": report.finished, "verdict": report.verdict, "counts": report.counts,
              "issued_report": None, "report": document}
    records.save_run(record)
    return _json(records.summary(record), 201)


def _attempt(run: dict):
    from reports import Attempt
    return Attempt(number=run["attempt"], started=run["started"], finished=run["finished"], verdict=run["verdict"],
                   run_id=run["run_id"], counts=run["counts"])


@bp.get("/runs")
def list_runs():
    _require_operator()
    return _json({"runs": [records.summary(r) for r in records.runs(request.args.get("vendor"))]})


@bp.post("/runs/<run_id>/issue")
def issue(run_id: str):
    _require_operator()
    body = _body(optional=True)
    record = issue_run(run_id, body.get("validity_days", 365))
    return _json(records.public_status(record) | {"report": record["report"]}, 201)


def issue_run(run_id: str, days) -> dict:
    """Sign a verified run with the operator's key and publish it in the catalog."""
    run = records.run(run_id)
    if run is None:
        raise _not_found("run")
    if not isinstance(days, (int, float)) or isinstance(days, bool) or not 0 < days <= MAX_VALIDITY_DAYS:
        raise _invalid(f"validity_days {days!r} is out of range.", "validity_days",
                       f"Give a number of days between 1 and {MAX_VALIDITY_DAYS}.")
    if run["verdict"] != VERIFIED:
        raise FhirError(409, Issue("error", "business-rule", f"Run {run_id} is '{run['verdict']}'; only verified runs "
                                   "are issued.", fix="Fix the failed requirements and run the verification again."))
    if records.current_version(run["org"], run["product"]) != run["version"]:
        raise FhirError(409, Issue("error", "business-rule", f"{run['product']} {run['version']} is no longer the "
                                   "current version.", fix="Verify the current version of the product."))
    key = records.signing_key()
    if key is None:
        raise FhirError(409, Issue("error", "processing", "The operator has no signing key.",
                                   fix="Start the platform with OPERATOR_KEY_FILE (see `sandkasse operator keygen`)."))
    if not records.claim_issue(run_id):
        raise FhirError(409, Issue("error", "duplicate", f"Run {run_id} is already issued.",
                                   fix="Use the issued report; revoke it and run again to replace it."))
    moment = records.now()
    signed = sign(run["report"], key, issuer=records.issuer(), validity=timedelta(days=days), now=moment)
    vendor = records.vendor(run["org"]) or {}
    record = {"report_id": signed["id"], "run_id": run_id, "org": run["org"], "vendor_name": vendor.get("name"),
              "product": run["product"], "version": run["version"], "roles": run["roles"],
              "verdict": run["verdict"], "issued": records.iso(moment),
              "expires": records.iso(moment + timedelta(days=days)), "revoked": None, "report": signed}
    records.save_issued(record)
    records.save_run(run | {"issued_report": signed["id"]})
    return record


@bp.post("/reports/<report_id>/revoke")
def revoke(report_id: str):
    _require_operator()
    return _json(records.public_status(revoke_report(report_id, _body(optional=True).get("reason"))))


def revoke_report(report_id: str, reason) -> dict:
    record = records.issued(report_id)
    if record is None:
        raise _not_found("issued report")
    if not isinstance(reason, str) or not reason.strip():
        raise _invalid("A revocation needs a reason.", "reason", "Say why, e.g. 'evidence did not match the build'.")
    if not record.get("revoked"):
        record["revoked"] = {"at": records.iso(records.now()), "reason": reason.strip()}
        records.save_issued(record)
    return record


# --- vendor views --------------------------------------------------------------------------------

def _own_run(run_id: str) -> dict:
    vendor = _require_vendor()
    run = records.run(run_id)
    if run is None or run["org"] != vendor["org"]:
        raise _not_found("run")          # the same answer whether it is someone else's or none
    return run


@bp.get("/vendor/runs")
def vendor_runs():
    vendor = _require_vendor()
    return _json({"vendor_org": vendor["org"], "runs": [records.summary(r) for r in records.runs(vendor["org"])]})


@bp.get("/vendor/runs/<run_id>")
def vendor_run(run_id: str):
    return _json(records.summary(_own_run(run_id)))


@bp.get("/vendor/runs/<run_id>/report.json")
def vendor_run_report(run_id: str):
    return _json(_own_run(run_id)["report"])


@bp.get("/vendor/runs/<run_id>/report.html")
def vendor_run_report_html(run_id: str):
    return Response(to_html(_own_run(run_id)["report"]), content_type="text/html; charset=utf-8")


@bp.get("/vendor/reports")
def vendor_reports():
    vendor = _require_vendor()
    return _json({"vendor_org": vendor["org"],
                  "reports": [records.public_status(r) for r in records.all_issued(vendor["org"])]})

