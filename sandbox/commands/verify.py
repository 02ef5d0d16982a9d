"""`sandkasse verify --config sandkasse.toml`: run the conformance suite against a vendor's EPJ.

The config file says what is verified and how to reach it; the command turns it into one pytest
run of `conformance.suite` with the plugin's options, in its own process (the suite knows the
target only over HTTP). Exit codes: 0 every selected requirement met, 1 a requirement failed,
2 a usage or configuration error (said in one line).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

from sandbox.cli import UsageError

# config key -> plugin option; paths are relative to the config file's folder
OPTIONS = {"target": "--target-url", "platform_url": "--platform-url", "platform_admin_url": "--platform-admin-url",
           "helseid_url": "--helseid-url", "adapter": "--adapter", "vendor_orgnr": "--vendor-orgnr",
           "product": "--product", "product_version": "--product-version", "sample_size": "--sample-size",
           "attempt": "--attempt"}
PATHS = {"cohort": "--cohort", "client_config": "--client-config"}
KNOWN = set(OPTIONS) | set(PATHS) | {"roles", "requirements", "report_dir", "evidence", "workers"}
ROLES = ("server", "producer", "consumer")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("verify", help="run the conformance suite against your EPJ, as configured")
    parser.add_argument("--config", type=Path, default=Path("sandkasse.toml"), help="the run's config (TOML)")
    parser.add_argument("--report-dir", type=Path, help="override report_dir of the config")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --, e.g. -- -k read")
    parser.set_defaults(func=run)


def build_command(config_path: Path, report_dir: Path | None = None, extra: list[str] | None = None) -> list[str]:
    if not config_path.is_file():
        raise UsageError(f"no config file {config_path} (see docs/vendor-guide.md for an example)")
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{config_path} is not valid TOML: {error}") from None
    unknown = sorted(set(config) - KNOWN)
    if unknown:
        raise UsageError(f"{config_path}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(KNOWN))}")
    roles = config.get("roles", ["server"])
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise UsageError(f"{config_path}: roles must be a non-empty list of {', '.join(ROLES)}")
    if "server" in roles and not config.get("target"):
        raise UsageError(f"{config_path}: the server role needs target (your EPJ's FHIR base URL)")
    if {"producer", "consumer"} & set(roles) and not (config.get("platform_url") and config.get("adapter")):
        raise UsageError(f"{config_path}: the producer and consumer roles need platform_url and adapter")
    base = config_path.parent
    report = report_dir or base / config.get("report_dir", "sandkasse-report")
    command = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-q", "-p", "no:cacheprovider",
               f"--report-dir={report}", f"--junitxml={Path(report) / 'junit.xml'}"]
    command += [f"--role={r}" for r in roles]
    command += [f"--requirement={r}" for r in config.get("requirements", [])]
    for key, option in OPTIONS.items():
        if key in config:
            command.append(f"{option}={config[key]}")
    for key, option in PATHS.items():
        if key in config:
            path = base / config[key]
            if not path.exists():
                raise UsageError(f"{config_path}: {key} {path} does not exist")
            command.append(f"{option}={path}")
    if config.get("evidence"):
        command.append("--evidence")
    if int(config.get("workers", 1)) > 1:
        command += ["-n", str(int(config["workers"]))]
    return command + list(extra or [])


def run(args: argparse.Namespace) -> int:
    code = subprocess.call(build_command(args.config, args.report_dir, args.pytest_args))
    if code == 5:
        raise UsageError(f"{args.config}: no test was selected; check roles, requirements and the pytest arguments")
    return {0: 0, 1: 1}.get(code, 2)   # pytest: 2 interrupted, 3 internal, 4 usage (it said why on stderr)
