"""Fix hints, read once from fixes.toml: the concrete 'how to repair it' of every issue."""
from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

_FILE = Path(__file__).with_name("fixes.toml")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "…"


@cache
def _table() -> dict:
    return tomllib.loads(_FILE.read_text(encoding="utf-8"))


def fix_for(rule: str, **values: object) -> str:
    """The fix text for a rule id (or a FHIRPath constraint key), placeholders filled in."""
    table = _table()
    if rule in table["invariants"]:
        template = table["invariants"][rule]
    elif rule in table["rules"]:
        template = table["rules"][rule]["fix"]
    else:
        template = table["rules"]["invariant"]["fix"]
    return template.format_map(_Blank({k: v for k, v in values.items() if v is not None}))


def identifier_system_name(system: str) -> str | None:
    return _table()["identifier-systems"].get(system)
