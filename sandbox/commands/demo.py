"""`sandkasse demo`: the whole loop on the embedded default, in one command."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from sandbox.loop import run_demo


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="generate a cohort, start the platform, run the suite, write reports")
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default out/demo)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=50, help="patients in the cohort (default 50)")
    parser.add_argument("--auth", choices=("helseid", "off-dev"), default="helseid",
                        help="helseid (default): the platform enforces HelseID + DPoP and the demo logs in "
                             "with a registered client; off-dev: the development flag, no checks")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists():
        shutil.rmtree(args.out)  # a demo always starts clean, so its output is reproducible
    result = run_demo(args.out, seed=args.seed, size=args.size, auth=args.auth)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items()))
    print(f"\nsandkasse demo: {result.verdict} ({summary})")
    print(f"  cohort:  {result.cohort_dir}")
    for kind, path in result.report_paths.items():
        print(f"  {kind + ':':8} {path}")
    return 0 if result.exit_code == 0 and result.verdict == "verified" else 1
