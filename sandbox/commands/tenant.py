"""`sandkasse tenant create|list|reset|seed`: manage platform tenants over the admin API (HTTP)."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import httpx

from mock_platform.security.operator import DEV_OPERATOR_TOKEN
from sandbox.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tenant", help="create, list, reset or seed tenants of a running platform")
    parser.add_argument("--platform", default="http://127.0.0.1:8080", help="platform URL (default %(default)s)")
    parser.add_argument("--token", default=os.environ.get("SANDKASSE_OPERATOR_TOKEN", DEV_OPERATOR_TOKEN),
                        help="the operator's token for the admin API (default: $SANDKASSE_OPERATOR_TOKEN, "
                             "else the development token, which only a platform in off-dev mode accepts)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a tenant")
    create.add_argument("id")
    create.add_argument("--kind", choices=("municipality", "vendor"), default="vendor")
    create.add_argument("--kommunenummer", help="the municipality the tenant copies (default: the id for "
                                                "a municipality)")
    create.add_argument("--organisation", action="append", dest="organisations", metavar="ORGNR",
                        help="organisation whose HelseID clients may use the tenant (repeatable)")
    actions.add_parser("list", help="list tenants and their base URLs")
    reset = actions.add_parser("reset", help="delete all data and audit log of a tenant")
    reset.add_argument("id")
    seed = actions.add_parser("seed", help="load a cohort (bundles.ndjson or a generated one) into a tenant")
    seed.add_argument("id")
    source = seed.add_mutually_exclusive_group(required=True)
    source.add_argument("--bundles", type=Path, help="NDJSON of transaction Bundles (a cohort's bundles.ndjson)")
    source.add_argument("--size", type=int, help="generate a cohort of SIZE patients on the platform")
    seed.add_argument("--seed", type=int, default=42)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    admin = f"{args.platform.rstrip('/')}/admin/tenants"
    with httpx.Client(timeout=600.0, headers={"Authorization": f"Bearer {args.token}"}) as client:
        try:
            response = _call(client, admin, args)
        except httpx.HTTPError as error:
            raise UsageError(f"cannot reach the platform at {args.platform}: {error}") from error
    body = response.json() if response.content else {}
    if response.status_code >= 400:
        for issue in body.get("issue", []):
            print(f"error: {issue.get('details', {}).get('text')}  {issue.get('diagnostics', '')}")
        return 1
    if args.action == "list":
        for tenant in body["tenants"]:
            print(f"{tenant['id']:<16} {tenant['kind']:<13} {tenant['kommunenummer']}  {tenant['fhir_base']}"
                  f"  ({tenant['events']} events)")
    else:
        print(json.dumps(body, ensure_ascii=False, indent=2))
    return 0


def _call(client: httpx.Client, admin: str, args: argparse.Namespace) -> httpx.Response:
    if args.action == "create":
        payload = {"id": args.id, "kind": args.kind}
        if args.kommunenummer:
            payload["kommunenummer"] = args.kommunenummer
        if args.organisations:
            payload["organisations"] = args.organisations
        return client.post(admin, json=payload)
    if args.action == "list":
        return client.get(admin)
    if args.action == "reset":
        return client.delete(f"{admin}/{args.id}/data")
    if args.bundles is not None:
        if not args.bundles.exists():
            raise UsageError(f"{args.bundles} does not exist")
        return client.post(f"{admin}/{args.id}/seed", content=args.bundles.read_bytes(),
                           headers={"Content-Type": "application/x-ndjson"})
    return client.post(f"{admin}/{args.id}/seed", json={"cohort": {"size": args.size, "seed": args.seed}})
