"""Domain rules (data in rules.toml): synthetic-only person numbers, mod-11 check digits, and the
right system for a person number. They run as hooks on every Identifier (and Coding).
Kommunenummer are checked by the guide's required binding to its kommunenummer value set."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from conformance.validator.fixes import identifier_system_name

_FILE = Path(__file__).with_name("rules.toml")
_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def _identifiers():
    # Imported on first use: importing the synthetic_data package costs ~0.5 s of cold start.
    from synthetic_data import identifiers
    return identifiers


def _person_number(value: str, path: str, ctx) -> None:
    kind = _identifiers().classify(value)
    if kind.kind == "invalid":
        ctx.add("error", "value", "sk-id-checksum", path,
                f"{value!r} is not a valid 11-digit person number (mod-11 check digits).", value=value)
    elif kind.real_looking:
        ctx.add("error", "security", "sk-real-id", path,
                f"{value!r} looks like a real {kind.kind}: sandkasse accepts synthetic numbers only.")


def _orgnr(value: str, path: str, ctx) -> None:
    ok = re.fullmatch(r"\d{9}", value) is not None
    if ok:
        check = 11 - sum(int(d) * w for d, w in zip(value, _ORGNR_WEIGHTS)) % 11
        ok = (0 if check == 11 else check) == int(value[8]) and check != 10
    if not ok:
        ctx.add("error", "value", "sk-id-checksum", path,
                f"{value!r} is not a valid organisasjonsnummer (9 digits, mod-11).", value=value)


_CHECKS = {"person-number": _person_number, "orgnr": _orgnr}


def load() -> tuple[dict, dict, dict]:
    table = tomllib.loads(_FILE.read_text(encoding="utf-8"))
    by_identifier = {r["system"]: _CHECKS[r["check"]] for r in table.get("identifier", ())}
    by_coding = {r["system"]: _CHECKS[r["check"]] for r in table.get("coding", ())}
    person_systems = {r["kind"]: r["system"] for r in table.get("person-number-system", ())}
    return by_identifier, by_coding, person_systems


def _wrong_system(value: str, system: object, person_systems: dict, path: str, ctx) -> None:
    if len(value) != 11 or not value.isdigit():
        return
    kind = _identifiers().classify(value).kind
    right = person_systems.get(kind)
    if right is not None and system != right:
        name = identifier_system_name(right) or kind
        ctx.add("error", "value", "sk-identifier-system", f"{path}.system",
                f"{value!r} is a {name} but the identifier's system is {system!r}.", system=right, name=name)


def hooks() -> dict:
    """{type code: hook(value, path, ctx)} for the engine."""
    by_identifier, by_coding, person_systems = load()

    def identifier(value: dict, path: str, ctx) -> None:
        system = value.get("system")
        check = by_identifier.get(system)
        v = value.get("value")
        if not isinstance(v, str) or not v:
            return
        if check is not None:
            check(v, f"{path}.value", ctx)
        elif system not in by_identifier:
            _wrong_system(v, system, person_systems, path, ctx)

    def coding(value: dict, path: str, ctx) -> None:
        check = by_coding.get(value.get("system"))
        v = value.get("code")
        if check is not None and isinstance(v, str) and v:
            check(v, f"{path}.code", ctx)

    return {"Identifier": identifier} | ({"Coding": coding} if by_coding else {})
