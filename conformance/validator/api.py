"""The validator's entry points: one compiled Validator, used by the intake, the suite and the CLI.

`Validator.default()` loads the compiled R4 core and compiles the guide's profiles once; after
that `validate()` is a walk over the resource's JSON.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache

from conformance.validator import rules
from conformance.validator.bundle import check_bundle
from conformance.validator.engine import Context, Core
from conformance.validator.outcome import Issue


class Validator:
    """Compiled once (base R4 plus the guide's profiles); validate() is then cheap."""

    def __init__(self, core: Core | None = None, profiles=None) -> None:
        self.core = core or Core()
        self.core.hooks.update(rules.hooks())
        self.profiles = profiles

    @classmethod
    @cache
    def default(cls) -> "Validator":
        from conformance.validator.profiles import ProfileSet
        core = Core()
        return cls(core, ProfileSet.from_guide(core))

    def validate(self, resource: object, profile: str | None = None) -> list[Issue]:
        """Every issue of one resource (or Bundle), against its meta.profile or `profile`."""
        ctx = Context(resource if isinstance(resource, dict) else {})
        self.core.validate_resource(resource, "", ctx)
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            return ctx.issues
        if self.profiles is not None:
            self.profiles.check(resource, resource["resourceType"], ctx, profile)
        if resource["resourceType"] == "Bundle":
            self._bundle(resource, ctx)
        return ctx.issues

    def _bundle(self, bundle: dict, ctx: Context) -> None:
        check_bundle(self.core, bundle, ctx)
        entries = bundle.get("entry")
        if self.profiles is None or not isinstance(entries, list):
            return
        for i, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
                self.profiles.check(resource, f"Bundle.entry[{i}].resource", ctx, None)

    validate_bundle = validate

    def validate_ndjson(self, lines: Iterable[str | bytes], profile: str | None = None
                        ) -> Iterator[tuple[int, list[Issue]]]:
        """Stream NDJSON: (line number, issues) per non-blank line, one line in memory at a time."""
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                resource = json.loads(line)
            except ValueError as error:
                yield number, [Issue("error", "structure", f"Line {number} is not JSON: {error}.", None,
                                     "json-syntax", "Put one complete JSON resource on each line of an NDJSON file.")]
                continue
            yield number, self.validate(resource, profile)


def validate(resource: object, profile: str | None = None) -> list[Issue]:
    return Validator.default().validate(resource, profile)
