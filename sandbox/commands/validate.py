"""`sandkasse validate FILE...`: validate resources, Bundles and NDJSON offline, the way the
platform's intake and the suite do (the same validator).

Exit code 1 when any error is found, 0 otherwise, 2 on usage errors.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from sandbox.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="validate FHIR resources, Bundles or NDJSON against the guide")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="a .json resource or Bundle, or an .ndjson file (streamed); - reads stdin")
    parser.add_argument("--format", choices=("text", "json", "outcome"), default="text",
                        help="text (default), json (one object per resource), or a FHIR OperationOutcome")
    parser.add_argument("--profile", metavar="URL", help="validate against this profile instead of meta.profile")
    parser.add_argument("--errors-only", action="store_true", help="leave warnings and information out")
    parser.set_defaults(func=run)


def _sources(path: Path) -> Iterator[tuple[str, object]]:
    """(label, resource) per resource in a file; NDJSON is read one line at a time."""
    if str(path) == "-":
        yield "<stdin>", _parse(sys.stdin.read(), "<stdin>")
        return
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if path.suffix == ".ndjson":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield f"{path}:{number}", _parse(line, f"{path}:{number}")
        return
    yield str(path), _parse(path.read_text(encoding="utf-8"), str(path))


class _NotJson:
    def __init__(self, error: ValueError) -> None:
        self.error = error


def _parse(text: str, label: str) -> object:
    try:
        return json.loads(text)
    except ValueError as error:
        return _NotJson(error)


def run(args: argparse.Namespace) -> int:
    from conformance.validator import Issue, Validator, is_error, operation_outcome
    for path in args.files:
        if str(path) != "-" and not path.is_file():
            raise UsageError(f"no such file: {path}")
    validator = Validator.default()
    if args.profile and validator.profiles is not None and validator.profiles.get(args.profile) is None:
        raise UsageError(f"unknown profile {args.profile}")
    errors = checked = 0
    outcome_issues: list[Issue] = []
    out = sys.stdout
    for path in args.files:
        for label, resource in _sources(path):
            checked += 1
            if isinstance(resource, _NotJson):
                issues = [Issue("fatal", "structure", f"Not JSON: {resource.error}.", None, "json-syntax",
                                "Send one complete JSON resource (or one per line in .ndjson).")]
            else:
                issues = validator.validate(resource, args.profile)
            if args.errors_only:
                issues = [i for i in issues if is_error(i)]
            errors += sum(1 for i in issues if is_error(i))
            if args.format == "text":
                _print_text(label, issues, out)
            elif args.format == "json":
                out.write(json.dumps({"source": label, "valid": not any(is_error(i) for i in issues),
                                      "issues": [_issue_json(i) for i in issues]}, ensure_ascii=False) + "\n")
            else:
                outcome_issues.extend(_with_source(i, label) for i in issues)
    if args.format == "outcome":
        out.write(json.dumps(operation_outcome(outcome_issues), ensure_ascii=False, indent=2) + "\n")
    elif args.format == "text":
        verdict = "invalid" if errors else "valid"
        out.write(f"{checked} resource(s) checked: {errors} error(s); {verdict}\n")
    return 1 if errors else 0


def _print_text(label: str, issues, out) -> None:
    from conformance.validator import is_error
    if not issues:
        out.write(f"{label}: OK\n")
        return
    status = "INVALID" if any(is_error(i) for i in issues) else "OK with warnings"
    out.write(f"{label}: {status}\n")
    for issue in issues:
        where = issue.expression or "-"
        rule = f" [{issue.rule}]" if issue.rule else ""
        out.write(f"  {issue.severity:<11} {where}{rule}: {issue.message}\n")
        if issue.fix:
            out.write(f"  {'':<11} fix: {issue.fix}\n")


def _issue_json(issue) -> dict:
    return {"severity": issue.severity, "code": issue.code, "expression": issue.expression,
            "rule": issue.rule, "message": issue.message, "fix": issue.fix}


def _with_source(issue, label: str):
    from dataclasses import replace
    return replace(issue, message=f"{label}: {issue.message}")
