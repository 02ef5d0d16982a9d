"""Registries the cohort lives in, read once from the data files shipped with the package."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

KOMMUNENUMMER_SYSTEM = "https://register.geonorge.no/subregister/sosi-kodelister/kartverket/kommunenummer-alle"


@dataclass(frozen=True)
class Kommune:
    nummer: str
    navn: str
    fylke: str


@dataclass(frozen=True)
class Poststed:
    postnummer: str
    poststed: str
    kommunenummer: str


def _rows(name: str) -> list[dict[str, str]]:
    with files("synthetic_data.data").joinpath(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def kommuner() -> dict[str, Kommune]:
    return {r["kommunenummer"]: Kommune(r["kommunenummer"], r["navn"], r["fylke"])
            for r in _rows("kommuner.csv")}


@cache
def poststeder(kommunenummer: str) -> tuple[Poststed, ...]:
    return tuple(Poststed(r["postnummer"], r["poststed"], r["kommunenummer"])
                 for r in _rows("postnummer.csv") if r["kommunenummer"] == kommunenummer)


@cache
def names(kind: str) -> tuple[str, ...]:
    return tuple(r["value"] for r in _rows("navn.csv") if r["kind"] == kind)
