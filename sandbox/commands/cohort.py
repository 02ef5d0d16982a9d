"""`sandkasse cohort`: generate a reproducible synthetic cohort (NDJSON, transaction Bundles, manifest)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sandbox.cli import UsageError
from synthetic_data import CohortSpec, write_cohort
from synthetic_data.cohort import FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("cohort", help="generate a reproducible synthetic Norwegian cohort",
                            description="Generate synthetic patients of one kommune as FHIR R4: NDJSON per "
                                        "resource type, one transaction Bundle per patient (bundles.ndjson, line 1 "
                                        "holds the shared organisations and practitioners) and manifest.json.")
    parser.add_argument("--size", type=int, default=100, help="patients, personas included (default 100)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--kommune", default="0301", metavar="NUMMER",
                        help="2024 kommunenummer the cohort lives in (default 0301 Oslo)")
    parser.add_argument("--age-distribution", default="kommunal", metavar="NAME|FRA-TIL:VEKT,...",
                        help="kommunal (default), befolkning, eldre, voksne, or bands such as 0-17:1,67-99:3")
    parser.add_argument("--prevalence", action="append", default=[], metavar="CONDITION=RATE",
                        help="override a condition's prevalence (0–1) for every age, e.g. kols=0.3 (repeatable)")
    parser.add_argument("--persona", action="append", default=[], metavar="NAME",
                        help="include a named persona (yamal, kari, petter, odd, randi, ...; 'all' for every one)")
    parser.add_argument("--historiske-kommunenummer", dest="historic", action="store_true",
                        help="give some patients an old address with the kommunenummer valid before 2024")
    parser.add_argument("--format", default="both", choices=FORMATS, help="what to write (default both)")
    parser.add_argument("--out", type=Path, default=Path("out/cohort"), help="output folder (default out/cohort)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _prevalence(items: list[str]) -> tuple[tuple[str, float], ...]:
    out = []
    for item in items:
        key, sep, rate = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out.append((key.strip(), float(rate)))
        except ValueError:
            raise UsageError(f"--prevalence {item!r}: write CONDITION=RATE, e.g. kols=0.3") from None
    return tuple(out)


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn in place (shown for runs of 1,000 patients or more)."""

    def __init__(self, width: int = 30) -> None:
        self.stream, self.width, self.started = sys.stderr, width, time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // max(total, 1)
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} patients "
                          f"({rate:,.0f}/s)")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    spec = CohortSpec(size=args.size, seed=args.seed, kommunenummer=args.kommune,
                      age_distribution=args.age_distribution, prevalence=_prevalence(args.prevalence),
                      personas=tuple(args.persona), format=args.format, historic_addresses=args.historic)
    try:
        spec.validate()
    except ValueError as error:
        raise UsageError(str(error)) from None
    progress = None if args.quiet or args.size < 1000 else _ProgressBar()
    manifest = write_cohort(spec, args.out, progress=progress)
    resources = sum(manifest.counts.values())
    print(f"sandkasse cohort: {manifest.size} patients, {resources} resources "
          f"(seed {manifest.seed}, kommune {manifest.kommunenummer}) in {args.out}")
    print(f"  manifest: {args.out / 'manifest.json'}  content sha256 {manifest.content_sha256[:16]}…")
    return 0
