"""`sandkasse serve`: run the mock platform, seeded or empty, and print each tenant's base URL.

One worker runs the development server (werkzeug, threaded); more workers run gunicorn (gthread
workers), which needs a database that processes can share (a SQLite file or PostgreSQL).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the mock platform (FHIR API, intake, event feed, admin API)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="port (0: a free one)")
    parser.add_argument("--tenant", action="append", dest="tenants", metavar="KOMMUNENUMMER",
                        help="municipality tenant to create at start (repeatable; default 0301)")
    parser.add_argument("--database", default=":memory:",
                        help="SQLite file, :memory: (default, one worker only) or postgresql://...")
    parser.add_argument("--workers", type=int, default=1, help="1: development server; N>1: gunicorn")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")
    parser.add_argument("--seed-cohort", type=int, default=0, metavar="SIZE",
                        help="load a synthetic cohort of SIZE patients into each tenant before serving")
    parser.add_argument("--seed", type=int, default=42, help="seed of that cohort (default 42)")
    parser.add_argument("--auth", choices=("helseid", "off-dev"), default="helseid",
                        help="helseid (default) enforces HelseID + DPoP; off-dev is the documented development flag")
    parser.add_argument("--tls", choices=("valid", "self-signed", "expired", "wrong-host"),
                        help="serve HTTPS: 'valid' with a certificate from the sandbox CA, or a deliberately "
                             "invalid certificate, so clients can be checked to refuse it")
    parser.add_argument("--tls-dir", type=Path, default=Path("out/tls"),
                        help="where the sandbox CA (ca.pem) and server certificates live (default out/tls)")
    parser.add_argument("--public-url", metavar="URL",
                        help="the base URL clients use when a proxy terminates TLS in front of the platform "
                             "(e.g. https://sandkasse.example): DPoP proofs are checked against it and HelseID "
                             "advertises it (docs/hosting.md)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mock_platform import PlatformConfig, create_app

    tenants = tuple(args.tenants or ["0301"])
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.workers > 1 and args.database == ":memory:":
        raise UsageError("several workers cannot share an in-memory database; give --database platform.sqlite3 "
                         "or --database postgresql://...")
    extra = {"PUBLIC_BASE_URL": args.public_url} if args.public_url else {}
    config = PlatformConfig(database=args.database, tenants=tenants, auth=args.auth, extra=extra)
    try:
        app = create_app(config)
    except ValueError as error:      # a configuration the platform refuses, e.g. a bad --public-url
        raise UsageError(str(error)) from error
    if args.seed_cohort:
        _seed(app, tenants, args.seed_cohort, args.seed)
    if args.workers == 1:
        return _serve_dev(app, args, tenants)
    return _serve_gunicorn(config, args, tenants)


def _seed(app, tenants: tuple[str, ...], size: int, seed: int) -> None:
    client = app.test_client()
    for tenant in tenants:
        response = client.post(f"/admin/tenants/{tenant}/seed", json={"cohort": {"size": size, "seed": seed}})
        if response.status_code != 200:
            issues = response.get_json().get("issue", [])[:5]
            raise UsageError(f"seeding tenant {tenant} failed: {json.dumps(issues, ensure_ascii=False)}")
        print(f"seeded tenant {tenant}: {response.get_json()['loaded_bundles']} bundles", flush=True)


def _announce(url: str, tenants: tuple[str, ...]) -> None:
    print(f"sandkasse platform on {url}", flush=True)
    for tenant in tenants:
        print(f"  tenant {tenant}: {url}/{tenant}/fhir   (events: {url}/{tenant}/events)", flush=True)
    print(f"  admin: {url}/admin/tenants", flush=True)


def _serve_dev(app, args: argparse.Namespace, tenants: tuple[str, ...]) -> int:
    from mock_platform import prepare_worker, start_in_thread
    context = None
    if args.tls:
        from mock_platform.security import tls
        context = tls.ssl_context(args.tls, args.tls_dir)
    server = start_in_thread(prepare_worker(app), args.host, args.port, ssl_context=context)
    if args.tls:
        print(f"TLS: {args.tls} certificate; trust the sandbox CA at {args.tls_dir / 'ca.pem'}", flush=True)
    _announce(server.url, tenants)
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.stop()
    return 0


def _serve_gunicorn(config, args: argparse.Namespace, tenants: tuple[str, ...]) -> int:
    from gunicorn.app.base import BaseApplication

    from mock_platform import create_app, prepare_worker

    class Platform(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", args.threads)
            self.cfg.set("keepalive", 30)
            self.cfg.set("timeout", 120)           # long-polls of the event feed wait up to 60 s
            self.cfg.set("accesslog", None)
            if args.tls:
                from mock_platform.security import tls
                files = tls.server_certificate(args.tls, args.tls_dir)
                self.cfg.set("certfile", str(files.cert))
                self.cfg.set("keyfile", str(files.key))
            self.cfg.set("when_ready", lambda server: _announce(_bound_url(server, args.host, args.tls), tenants))

        def load(self):
            return prepare_worker(create_app(config))   # one app (and connection pool) per worker

    Platform().run()
    return 0


def _bound_url(server, host: str, tls: str | None) -> str:
    sock = server.LISTENERS[0].sock
    return f"{'https' if tls else 'http'}://{host}:{sock.getsockname()[1]}"


