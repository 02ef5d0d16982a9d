"""Registries the cohort lives in, read once from the data files shipped with the package:
the 357 kommuner of 2024 (15 fylker), the numbers valid before 2024, postcodes and names."""
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
    fylkesnummer: str = ""


@dataclass(frozen=True)
class HistoriskKommunenummer:
    """A kommunenummer valid before the 2024 county reform (or Ålesund/Haram split)."""
    nummer: str
    navn: str
    fylke: str
    gyldig_fra: str
    gyldig_til: str
    nummer_2024: str


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
    """The kommuner valid from 1 January 2024, by kommunenummer."""
    return {r["kommunenummer"]: Kommune(r["kommunenummer"], r["navn"], r["fylke"], r["fylkesnummer"])
            for r in _rows("kommuner.csv")}


@cache
def fylker() -> dict[str, str]:
    return {k.fylkesnummer: k.fylke for k in kommuner().values()}


@cache
def historiske_kommunenummer() -> dict[str, HistoriskKommunenummer]:
    """Numbers valid 2020–2023 that changed on 1 January 2024, by old number."""
    return {r["kommunenummer"]: HistoriskKommunenummer(r["kommunenummer"], r["navn"], r["fylke"], r["gyldig_fra"],
                                                       r["gyldig_til"], r["kommunenummer_2024"])
            for r in _rows("kommunenummer_for_2024.csv")}


@cache
def tidligere_nummer(kommunenummer: str) -> HistoriskKommunenummer | None:
    """The number a 2024 kommune had before 2024, if it changed."""
    return next((h for h in historiske_kommunenummer().values() if h.nummer_2024 == kommunenummer), None)


def kommune(nummer: str) -> Kommune:
    """A 2024 kommune; an old number is translated, an unknown one raises KeyError with a hint."""
    found = kommuner().get(nummer)
    if found is None and nummer in historiske_kommunenummer():
        found = kommuner()[historiske_kommunenummer()[nummer].nummer_2024]
    if found is None:
        raise KeyError(f"{nummer!r} is not a kommunenummer of 2024 (four digits, e.g. 0301 Oslo, 4601 Bergen)")
    return found


@cache
def _postnummer() -> dict[str, tuple[Poststed, ...]]:
    out: dict[str, list[Poststed]] = {}
    for r in _rows("postnummer.csv"):
        out.setdefault(r["kommunenummer"], []).append(Poststed(r["postnummer"], r["poststed"], r["kommunenummer"]))
    return {k: tuple(v) for k, v in out.items()}


def poststeder(kommunenummer: str) -> tuple[Poststed, ...]:
    return _postnummer().get(kommunenummer, ())


@cache
def names(kind: str) -> tuple[str, ...]:
    return tuple(r["value"] for r in _rows("navn.csv") if r["kind"] == kind)
