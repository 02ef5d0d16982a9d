"""`sandkasse operator`: the marketplace operator's workflow, over HTTP against the platform's /operator.

    sandkasse operator keygen --out keys/                 # Ed25519 signing key (start the platform with it)
    sandkasse operator vendor-add 312345676 "Eksempel Journal AS"    # prints the vendor's API key once
    sandkasse operator product-add 312345676 EksJournal 4.2.1        # a new version makes older ones stale
    sandkasse operator record --vendor 312345676 --product EksJournal --version 4.2.1 report.json
    sandkasse operator run --vendor ... --product ... --version ... --target URL --cohort DIR
    sandkasse operator issue RUN_ID [--days 365] [--out signed.json]
    sandkasse operator revoke REPORT_ID --reason "..."
    sandkasse operator runs [--vendor ORG] | catalog

The platform URL comes from --url or SANDKASSE_OPERATOR_URL, the operator token from --token or
SANDKASSE_OPERATOR_TOKEN (default: the documented development token of an off-dev platform).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import httpx

from conformance.evidence import tls_fingerprint
from mock_platform.security.operator import DEV_OPERATOR_TOKEN
from reports.signing import generate_key, private_key_pem, public_jwk, public_key_pem


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("operator", help="the marketplace operator: vendors, runs, issuing, revoking, catalog")
    parser.add_argument("--url", default=os.environ.get("SANDKASSE_OPERATOR_URL", "http://127.0.0.1:8080"),
                        help="platform base URL (env SANDKASSE_OPERATOR_URL)")
    parser.add_argument("--token", default=os.environ.get("SANDKASSE_OPERATOR_TOKEN", DEV_OPERATOR_TOKEN),
                        help="operator token (env SANDKASSE_OPERATOR_TOKEN)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    keygen = actions.add_parser("keygen", help="create the operator's Ed25519 signing key")
    keygen.add_argument("--out", type=Path, required=True, help="folder for operator.key.pem, operator.pub.pem, "
                                                                "operator.jwk.json")
    keygen.set_defaults(func=run_keygen)

    vendor = actions.add_parser("vendor-add", help="register a vendor; prints its API key once")
    vendor.add_argument("vendor_org")
    vendor.add_argument("name")
    vendor.set_defaults(func=lambda a: _call(a, "POST", "/operator/vendors", {"vendor_org": a.vendor_org,
                                                                              "name": a.name}))

    product = actions.add_parser("product-add", help="register a product version")
    product.add_argument("vendor_org")
    product.add_argument("product")
    product.add_argument("version")
    product.set_defaults(func=lambda a: _call(a, "POST", "/operator/products", {
        "vendor_org": a.vendor_org, "product": a.product, "version": a.version}))

    for name, helptext in (("record", "record an observed run from the suite's report.json"),
                           ("run", "run the suite against a target, observe it and record the run")):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("--vendor", required=True, help="vendor organisation number")
        action.add_argument("--product", required=True)
        action.add_argument("--version", required=True)
        action.add_argument("--roles", default="", help="comma-separated roles verified")
        if name == "record":
            action.add_argument("report", type=Path)
            action.set_defaults(func=run_record)
        else:
            action.add_argument("--target", required=True, help="FHIR base URL of the vendor's system")
            action.add_argument("--cohort", type=Path, required=True, help="cohort folder loaded in the target")
            action.set_defaults(func=run_observed)

    issue = actions.add_parser("issue", help="sign and publish a verified run")
    issue.add_argument("run_id")
    issue.add_argument("--days", type=float, default=365, help="validity in days (default 365)")
    issue.add_argument("--out", type=Path, help="also write the signed report here")
    issue.set_defaults(func=run_issue)

    revoke = actions.add_parser("revoke", help="revoke an issued verification")
    revoke.add_argument("report_id")
    revoke.add_argument("--reason", required=True)
    revoke.set_defaults(func=lambda a: _call(a, "POST", f"/operator/reports/{a.report_id}/revoke",
                                             {"reason": a.reason}))

    runs = actions.add_parser("runs", help="list runs, optionally of one vendor")
    runs.add_argument("--vendor")
    runs.set_defaults(func=lambda a: _call(a, "GET", "/operator/runs", params={"vendor": a.vendor} if a.vendor else None))

    catalog = actions.add_parser("catalog", help="the public catalog of verified solutions")
    catalog.set_defaults(func=lambda a: _call(a, "GET", "/operator/catalog.json"))


def run_keygen(args: argparse.Namespace) -> int:
    key = generate_key()
    args.out.mkdir(parents=True, exist_ok=True)
    private = args.out / "operator.key.pem"
    # Write the private key with owner-only permissions from the start, never world-readable.
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(private_key_pem(key))
    (args.out / "operator.pub.pem").write_text(public_key_pem(key.public_key()), encoding="ascii")
    jwk = public_jwk(key.public_key())
    (args.out / "operator.jwk.json").write_text(json.dumps(jwk, indent=2) + "\n", encoding="ascii")
    print(f"key id {jwk['kid']}\n  private: {private} (start the platform with OPERATOR_KEY_FILE={private})\n"
          f"  public:  {args.out / 'operator.pub.pem'} and {args.out / 'operator.jwk.json'}")
    return 0


def _call(args: argparse.Namespace, method: str, path: str, body: dict | None = None,
          params: dict | None = None, quiet: bool = False) -> int | dict:
    try:
        response = httpx.request(method, args.url.rstrip("/") + path, json=body, params=params, timeout=30.0,
                                 headers={"Authorization": f"Bearer {args.token}"})
    except httpx.HTTPError as error:
        print(f"sandkasse operator: cannot reach {args.url}: {error}", file=sys.stderr)
        return 1
    try:
        payload = response.json()
    except ValueError:
        payload = {"text": response.text}
    if response.status_code >= 400:
        print(f"sandkasse operator: {method} {path} answered {response.status_code}", file=sys.stderr)
        for issue in payload.get("issue", []):
            print(f"  - {issue.get('details', {}).get('text')} {issue.get('diagnostics', '')}", file=sys.stderr)
        return 1
    if quiet:
        return payload
    print(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0


def _run_body(args: argparse.Namespace, report: dict) -> dict:
    return {"vendor_org": args.vendor, "product": args.product, "version": args.version,
            "roles": [r.strip() for r in args.roles.split(",") if r.strip()], "report": report}


def run_record(args: argparse.Namespace) -> int:
    report = json.loads(args.report.read_text(encoding="utf-8"))
    return _call(args, "POST", "/operator/runs", _run_body(args, report))


def run_observed(args: argparse.Namespace) -> int:
    """The operator's sandbox runs the suite itself, so it observed the traffic it reports on."""
    from mock_platform.operator.observer import observe
    from reports.dataflow import summarize
    from sandbox.loop import run_suite
    with tempfile.TemporaryDirectory(prefix="sandkasse-operator-") as folder, observe(args.target) as (proxy, log):
        report_dir = Path(folder)
        run_suite(proxy, args.cohort, report_dir)
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    report["target"] = args.target                    # the suite called it through the observer
    report["data_flow"] = [asdict(flow) for flow in summarize(log)]
    report["tls_fingerprint"] = tls_fingerprint(args.target)
    return _call(args, "POST", "/operator/runs", _run_body(args, report))


def run_issue(args: argparse.Namespace) -> int:
    result = _call(args, "POST", f"/operator/runs/{args.run_id}/issue", {"validity_days": args.days}, quiet=True)
    if isinstance(result, int):
        return result
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result["report"], indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    summary = {k: v for k, v in result.items() if k != "report"}
    print(json.dumps(summary | ({"written": str(args.out)} if args.out else {}), indent=2, ensure_ascii=False))
    return 0
