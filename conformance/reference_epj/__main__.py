"""Run the reference EPJ: `python -m conformance.reference_epj --platform-url URL --cohort DIR`.

It serves its FHIR API at /fhir and the scenario protocol at POST /test-control/steps; point the
suite at it with `--adapter http://HOST:PORT/test-control/steps`. `--defect ID` (repeatable)
switches on a defect from defects.yaml, to see what the suite reports for it. `--helseid-issuer URL`
protects the FHIR API with HelseID (readers: --organisation and each --reader), and
`--server-defect ID` switches on a defect of the FHIR API from server_defects.yaml.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from werkzeug.serving import run_simple

from conformance.auth import HelseIdClientConfig
from conformance.reference_epj.app import create_app
from conformance.reference_epj.config import Defect, EpjConfig, defect_catalog
from conformance.reference_epj.resource_server import ApiSecurity
from conformance.reference_epj.server import ServerConfig, server_defects


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.reference_epj", description=__doc__.splitlines()[0])
    parser.add_argument("--platform-url", required=True, help="the sandbox tenant's FHIR base, e.g. http://127.0.0.1:8080/0301/fhir")
    parser.add_argument("--cohort", type=Path, help="the published cohort (the EPJ's own patients)")
    parser.add_argument("--client-config", type=Path, help="HelseID client config (from `sandkasse client register`); "
                                                           "without it the EPJ signs development tokens itself")
    parser.add_argument("--organisation", default=EpjConfig.organisation, help="orgnr the EPJ acts on behalf of")
    parser.add_argument("--defect", action="append", default=[], choices=sorted(defect_catalog()),
                        help="switch on a defect (repeatable)")
    parser.add_argument("--helseid-issuer", help="protect the FHIR API: accept tokens of this HelseID issuer only")
    parser.add_argument("--reader", action="append", default=[], help="orgnr that may read the FHIR API (repeatable)")
    parser.add_argument("--server-defect", action="append", default=[], choices=sorted(server_defects()),
                        help="switch on a defect of the FHIR API (repeatable)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    args = parser.parse_args(argv)
    config = EpjConfig(platform_url=args.platform_url, cohort=args.cohort, organisation=args.organisation,
                       helseid=HelseIdClientConfig.load(args.client_config) if args.client_config else None,
                       defects=frozenset(Defect(d) for d in args.defect))
    print(f"reference EPJ: FHIR http://{args.host}:{args.port}/fhir, "
          f"test-control http://{args.host}:{args.port}/test-control/steps")
    security = ApiSecurity(issuer=args.helseid_issuer.rstrip("/"), own_organisation=args.organisation,
                           organisations=frozenset({args.organisation, *args.reader})) if args.helseid_issuer else None
    server = ServerConfig(security=security, defects=frozenset(args.server_defect))
    run_simple(args.host, args.port, create_app(config, server), threaded=True)


if __name__ == "__main__":
    main()
