"""The operator's workflow over real HTTP: vendors, observed runs, issuing, catalog statuses,
revocation, the public verification endpoints, and vendor isolation."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import unquote_plus

from report_support import OPERATOR_TOKEN, orgnr

from reports.signing import load_public_keys, verify


def _issued(operator, org, passing_report, version="4.2.1") -> dict:
    run = operator.record(org, passing_report.to_dict(), version=version)
    response = operator.issue(run["run_id"], days=30)
    assert response.status_code == 201, response.text
    return response.json()


def test_attempts_then_issue_and_verify_offline(operator, report, passing_report) -> None:
    org = orgnr(1)
    operator.add_vendor(org, "Eksempel Journal AS")
    first = operator.record(org, report.to_dict())
    assert first["attempt"] == 1 and first["verdict"] == "not verified"
    refused = operator.issue(first["run_id"])
    assert refused.status_code == 409
    assert refused.json()["resourceType"] == "OperationOutcome"

    second = operator.record(org, passing_report.to_dict())
    assert second["attempt"] == 2
    issued = operator.issue(second["run_id"], days=30)
    assert issued.status_code == 201, issued.text
    signed = issued.json()["report"]
    assert signed["signed"] is True and signed["attempt"] == 2
    assert [a["verdict"] for a in signed["history"]] == ["not verified"]
    assert signed["product"] == {"vendor_org": org, "vendor_name": "Eksempel Journal AS", "name": "EksJournal",
                                 "version": "4.2.1", "roles": ["source-system"]}
    assert operator.issue(second["run_id"]).status_code == 409          # once only

    keys = load_public_keys(operator.call("GET", "/operator/keys", token=None).text)
    assert verify(signed, keys, now=operator.clock.now).valid
    status = operator.call("GET", f"/operator/verify/{signed['id']}", token=None).json()
    expires = (operator.clock.now + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert status["status"] == "verified" and status["expires"] == expires


def test_new_version_makes_the_verification_stale(operator, passing_report) -> None:
    org = orgnr(2)
    operator.add_vendor(org, "Stale AS")
    signed = _issued(operator, org, passing_report)["report"]
    response = operator.call("POST", "/operator/products",
                             json={"vendor_org": org, "product": "EksJournal", "version": "4.3.0"})
    assert response.status_code == 201
    status = operator.call("GET", f"/operator/verify/{signed['id']}", token=None).json()
    assert status["status"] == "stale" and status["superseded_by"] == "4.3.0"
    posted = operator.call("POST", "/operator/verify", token=None, json=signed).json()
    assert posted["valid"] is False and [p["code"] for p in posted["problems"]] == ["stale"]


def test_revoke_and_expire(operator, passing_report) -> None:
    org = orgnr(3)
    operator.add_vendor(org, "Revoked AS")
    revoked = _issued(operator, org, passing_report, version="1.0")["report"]
    assert operator.call("POST", f"/operator/reports/{revoked['id']}/revoke", json={}).status_code == 400
    response = operator.call("POST", f"/operator/reports/{revoked['id']}/revoke",
                             json={"reason": "the build under test was not the build sold"})
    assert response.json()["status"] == "revoked"
    posted = operator.call("POST", "/operator/verify", token=None, json=revoked).json()
    assert [p["code"] for p in posted["problems"]] == ["revoked"]
    assert "not the build sold" in posted["problems"][0]["message"]

    expiring = _issued(operator, orgnr(3), passing_report, version="1.0")  # a second run of 1.0
    operator.clock.now += timedelta(days=31)
    assert operator.call("GET", f"/operator/verify/{expiring['report_id']}", token=None).json()["status"] == "expired"
    posted = operator.call("POST", "/operator/verify", token=None, json=expiring["report"]).json()
    assert [p["code"] for p in posted["problems"]] == ["expired"]


def test_post_verify_reports_tampering_and_unsigned(operator, passing_report) -> None:
    org = orgnr(4)
    operator.add_vendor(org, "Tamper AS")
    signed = _issued(operator, org, passing_report)["report"]
    assert operator.call("POST", "/operator/verify", token=None, json=signed).json()["valid"] is True
    signed["requirements"][2]["status"] = "passed"
    result = operator.call("POST", "/operator/verify", token=None, json=signed).json()
    assert result["valid"] is False
    assert result["problems"][0]["message"].startswith("requirement SEC-02 was changed after signing")
    local = operator.call("POST", "/operator/verify", token=None, json=passing_report.to_dict()).json()
    assert [p["code"] for p in local["problems"]] == ["unsigned"]


def test_catalog_json_lists_every_status(operator, passing_report) -> None:
    org = orgnr(5)
    operator.add_vendor(org, "Katalog AS")
    _issued(operator, org, passing_report)
    entries = operator.call("GET", "/operator/catalog.json", token=None).json()["entries"]
    assert [(e["product"], e["version"], e["status"], e["roles"]) for e in entries] == [
        ("EksJournal", "4.2.1", "verified", ["source-system"])]
    page = operator.call("GET", "/operator/catalog", token=None)
    assert page.headers["content-type"].startswith("text/html") and "EksJournal" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_vendors_see_only_their_own_runs_and_reports(operator, report, passing_report) -> None:
    org_a, org_b = orgnr(6), orgnr(7)
    key_a, key_b = operator.add_vendor(org_a, "A AS"), operator.add_vendor(org_b, "B AS")
    run_a = operator.record(org_a, report.to_dict(), product="AJournal")
    run_b = operator.record(org_b, report.to_dict(), product="BJournal")

    listed = operator.call("GET", "/operator/vendor/runs", token=key_a).json()
    assert [r["run_id"] for r in listed["runs"]] == [run_a["run_id"]]
    assert operator.call("GET", f"/operator/vendor/runs/{run_a['run_id']}/report.json", token=key_a).json()[
        "product"]["name"] == "AJournal"

    unknown = operator.call("GET", "/operator/vendor/runs/no-such-run", token=key_a)
    for path in (f"/operator/vendor/runs/{run_b['run_id']}", f"/operator/vendor/runs/{run_b['run_id']}/report.json",
                 f"/operator/vendor/runs/{run_b['run_id']}/report.html"):
        other = operator.call("GET", path, token=key_a)
        assert other.status_code == 404 == unknown.status_code       # 404, not 403: existence does not leak
        assert other.json() == unknown.json()
        assert "BJournal" not in other.text
    assert operator.call("GET", f"/operator/vendor/runs/{run_b['run_id']}", token=key_b).status_code == 200
    assert operator.call("GET", "/operator/vendor/reports", token=key_b).json()["reports"] == []

    assert operator.call("GET", "/operator/vendor/runs", token=None).status_code == 401
    assert operator.call("GET", "/operator/vendor/runs", token="sk_guess").status_code == 401
    # A vendor key is not an operator credential: it cannot list all runs or issue.
    assert operator.call("GET", "/operator/runs", token=key_a).status_code == 401
    assert operator.call("POST", f"/operator/runs/{run_a['run_id']}/issue", token=key_a, json={}).status_code == 401


def test_operator_actions_need_the_operator_token(operator) -> None:
    body = {"vendor_org": orgnr(8), "name": "X AS"}
    for token in (None, "wrong"):
        response = operator.call("POST", "/operator/vendors", token=token, json=body)
        assert response.status_code == 401
        issue = response.json()["issue"][0]
        assert "operator" in issue["details"]["text"] and issue["diagnostics"].startswith("Fix:")
    assert operator.call("POST", "/operator/vendors", token=OPERATOR_TOKEN, json=body).status_code == 201
    assert operator.call("POST", "/operator/vendors", json=body).status_code == 409


def test_bad_input_is_an_operation_outcome_with_a_fix(operator) -> None:
    bad_org = operator.call("POST", "/operator/vendors", json={"vendor_org": "123456789", "name": "X"})
    assert bad_org.status_code == 400
    issue = bad_org.json()["issue"][0]
    assert issue["expression"] == ["vendor_org"] and "mod-11" in issue["diagnostics"]
    not_json = operator.call("POST", "/operator/runs", content=b"<xml/>", headers={"Content-Type": "text/xml"})
    assert not_json.status_code == 400 and not_json.json()["resourceType"] == "OperationOutcome"
    org = orgnr(9)
    operator.add_vendor(org, "Y AS")
    broken = operator.call("POST", "/operator/runs", json={"vendor_org": org, "product": "P", "version": "1",
                                                           "report": {"target": "x"}})
    assert broken.status_code == 400 and broken.json()["issue"][0]["expression"] == ["report"]
    unregistered = operator.call("POST", "/operator/runs", json={"vendor_org": orgnr(10), "product": "P",
                                                                 "version": "1", "report": {}})
    assert unregistered.status_code == 422
    assert json.loads(unregistered.text)["issue"][0]["diagnostics"] == "Fix: Register the vendor first: POST /operator/vendors."


def test_console_session_cookie_and_csrf(operator, passing_report) -> None:
    org = orgnr(51)
    key = operator.add_vendor(org, "Cookie AS")
    run = operator.record(org, passing_report.to_dict())
    login = operator.http.post("/operator/console/login", data={"credential": OPERATOR_TOKEN})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/operator" in cookie
    # A cross-site form cannot know the CSRF token: nothing is issued.
    refused = operator.http.post(f"/operator/console/runs/{run['run_id']}/issue", data={"csrf": "guess"})
    assert refused.status_code == 303 and "expired" in unquote_plus(refused.headers["location"])
    assert operator.call("GET", "/operator/catalog.json", token=None).json()["entries"] == []
    # The session is a console credential only; the JSON API still wants the bearer token.
    assert operator.http.get("/operator/runs").status_code == 401

    operator.http.cookies.clear()
    assert operator.http.post("/operator/console/login", data={"credential": key}).status_code == 303
    refused = operator.http.post(f"/operator/console/runs/{run['run_id']}/issue", data={"csrf": "x"})
    assert "Sign in as the operator" in unquote_plus(refused.headers["location"])
    assert operator.http.get("/operator/vendor/runs").json()["vendor_org"] == org
    bad = operator.http.post("/operator/console/login", data={"credential": "sk_nope"})
    assert bad.status_code == 401 and "neither the operator token" in bad.text


def test_post_verify_of_a_report_the_operator_never_issued(operator, passing_report) -> None:
    from reports.signing import generate_key, sign
    forged = sign(passing_report, generate_key(), issuer="someone")
    result = operator.call("POST", "/operator/verify", token=None, json=forged).json()
    assert result["valid"] is False and result["status"] == "unknown"
    assert [p["code"] for p in result["problems"]] == ["unknown-key", "unknown-to-operator"]
    missing = operator.call("GET", "/operator/reports/nope/report.json", token=None)
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
