"""`sandkasse report`: render a report, or verify that it is an official, unchanged, valid one.

    sandkasse report verify REPORT --key operator.pub.pem [--operator URL]
    sandkasse report render REPORT --format html|junit|json [--out FILE]

`verify` exits 0 when the report is valid and 1 when it is not, printing each problem.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

import httpx

from reports.render import RENDERERS
from reports.signing import Problem, load_public_keys, verify


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="verify or render a verification report")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser("verify", help="check signature, hashes, expiry (and revocation, online)")
    check.add_argument("report", type=Path, help="report.json (signed by the operator)")
    check.add_argument("--key", type=Path, required=True,
                       help="the operator's public key: PEM, JWK or JWKS (GET /operator/keys)")
    check.add_argument("--operator", help="operator base URL, to check revocation and staleness online")
    check.add_argument("--now", help="check validity at this ISO 8601 time instead of now")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=run_verify)

    render = actions.add_parser("render", help="render a report as HTML, JUnit XML or canonical JSON")
    render.add_argument("report", type=Path)
    render.add_argument("--format", choices=sorted(RENDERERS), default="html")
    render.add_argument("--out", type=Path, help="file to write (default: standard output)")
    render.set_defaults(func=run_render)


def _load(path: Path) -> dict:
    from sandbox.cli import UsageError
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the report {path}: {error}") from error


def run_verify(args: argparse.Namespace) -> int:
    from sandbox.cli import UsageError
    report = _load(args.report)
    try:
        keys = load_public_keys(args.key.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the key {args.key}: {error}") from error
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else None
    status, online_problem = _operator_status(args.operator, report) if args.operator else ({}, None)
    result = verify(report, keys, now=now, operator_status=status)
    if online_problem:
        result.problems.append(online_problem)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif result.valid:
        product = report.get("product") or {}
        print(f"VALID: official verification {report.get('id')} of {product.get('name')} {product.get('version')} "
              f"({report.get('verdict')}), issued by {result.claims.get('iss')}, "
              f"valid until {_iso(result.claims.get('exp'))}"
              + (", not revoked" if args.operator else ""))
    else:
        print(f"INVALID: {args.report}", file=sys.stderr)
        for problem in result.problems:
            print(f"  - {problem}", file=sys.stderr)
    return 0 if result.valid else 1


def _operator_status(base_url: str, report: dict) -> tuple[dict, Problem | None]:
    """The operator's record of the report; a missing record is itself a problem."""
    url = f"{base_url.rstrip('/')}/operator/verify/{report.get('id')}"
    try:
        response = httpx.get(url, timeout=10.0)
    except httpx.HTTPError as error:
        return {}, Problem("offline", f"could not reach the operator at {url}: {error}")
    if response.status_code == 404:
        return {}, Problem("unknown-to-operator", f"the operator has no issued report with id {report.get('id')}")
    if response.status_code != 200:
        return {}, Problem("offline", f"the operator answered {response.status_code} at {url}")
    return response.json(), None


def _iso(timestamp: int | None) -> str | None:
    from datetime import timezone
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


def run_render(args: argparse.Namespace) -> int:
    text = RENDERERS[args.format](_load(args.report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(args.out)
    else:
        sys.stdout.write(text)
    return 0
