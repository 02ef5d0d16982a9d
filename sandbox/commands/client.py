"""`sandkasse client register`: create a HelseID client for a vendor's EPJ in the sandbox.

    sandkasse client register --platform URL --name NAME --organisation ORGNR \\
        --scope nhn:sandkasse-plattform/kommunale-tjenester.read [--scope ...] \\
        --out client.json [--tenancy single|multi] [--child ORGNR] [--tenant 0301] \\
        [--passphrase-env VAR] [--key-type EC|RSA]

The key pair is generated here, on the vendor's side; only the public JWK is sent to the
sandbox HelseID. client.json holds the private key, encrypted with the passphrase from
$VAR when --passphrase-env is given (recommended), and is written readable by its owner only.
Use it with `conformance.auth.HelseIdAuth(HelseIdClientConfig.load("client.json"))`.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from conformance.auth import HelseIdClientConfig, dpop
from sandbox.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("client", help="register a HelseID client for your EPJ in the sandbox")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    reg = actions.add_parser("register", help="generate a key pair and register the client (public key only)")
    reg.add_argument("--platform", required=True, help="platform base URL, e.g. http://127.0.0.1:8080")
    reg.add_argument("--name", required=True, help="client name (shown in tokens as client_name)")
    reg.add_argument("--organisation", required=True, help="organisation number (synthetic: first digit 2 or 3)")
    reg.add_argument("--child", action="append", default=[], help="child organisation number the client may select")
    reg.add_argument("--scope", action="append", required=True, help="scope, repeatable (see the discovery document)")
    reg.add_argument("--tenancy", choices=("single", "multi"), default="single")
    reg.add_argument("--tenant", action="append", default=[],
                     help="kommunenummer whose platform instance this organisation works in (repeatable)")
    reg.add_argument("--out", type=Path, required=True, help="client configuration file to write")
    reg.add_argument("--passphrase-env", help="environment variable holding a passphrase to encrypt the private key")
    reg.add_argument("--key-type", choices=("EC", "RSA"), default="EC")
    reg.set_defaults(func=run_register)


def run_register(args: argparse.Namespace) -> int:
    passphrase = None
    if args.passphrase_env:
        passphrase = os.environ.get(args.passphrase_env)
        if not passphrase:
            raise UsageError(f"--passphrase-env {args.passphrase_env}: the variable is empty or not set")
    if args.out.exists():
        raise UsageError(f"--out {args.out}: the file exists; choose another name (a key is never overwritten)")
    key = dpop.generate_key(args.key_type)
    issuer = args.platform.rstrip("/") + "/helseid"
    with httpx.Client(timeout=30) as http:
        response = http.post(f"{issuer}/admin/clients", json={
            "client_name": args.name, "jwk": dpop.public_jwk(key), "scopes": args.scope,
            "organisations": [args.organisation], "children": args.child, "tenancy": args.tenancy})
        _check(response, "registration")
        registered = response.json()
        for tenant in args.tenant:
            _check(http.put(f"{issuer}/admin/tenants/{tenant}", json={"organisations": [args.organisation]}),
                   f"tenant {tenant}")
    config = HelseIdClientConfig(issuer=registered["issuer"], client_id=registered["client_id"],
                                 scopes=registered["scopes"], organisation={"parent": args.organisation},
                                 tenancy=args.tenancy, token_endpoint=registered["token_endpoint"])
    if passphrase:
        config.private_key_pem, config.passphrase_env = HelseIdClientConfig.encrypt_key(key, passphrase), args.passphrase_env
    else:
        config.private_jwk = key.as_dict(private=True)
        print("warning: the private key is stored unencrypted; use --passphrase-env outside throwaway tests",
              file=sys.stderr)
    config.save(args.out)
    print(f"registered {config.client_id} ({args.name}) for organisation {args.organisation}")
    print(f"  scopes: {' '.join(config.scopes)}")
    print(f"  config: {args.out} (private key {'encrypted' if passphrase else 'UNENCRYPTED'})")
    return 0


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        try:
            issue = response.json()["issue"][0]
            message = f"{issue['details']['text']} {issue.get('diagnostics', '')}".strip()
        except (ValueError, KeyError, IndexError):
            message = response.text[:200]
        raise UsageError(f"{what} refused ({response.status_code}): {message}")
