"""Clinical code lists of the synthetic population, read once from synthetic_data/data/."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

AGE_BANDS = ("barn", "voksen", "eldre", "eldst")


def age_band(age: int) -> str:
    if age < 18:
        return "barn"
    if age < 67:
        return "voksen"
    return "eldre" if age < 85 else "eldst"


def _text(name: str) -> str:
    return files("synthetic_data.data").joinpath(name).read_text(encoding="utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_text(name).splitlines()))


@dataclass(frozen=True)
class Tilstand:
    key: str
    icpc2: tuple[str, str]
    icd10: tuple[str, str]
    forekomst: dict[str, float]
    news2: dict[str, float]
    problemomrader: tuple[str, ...]
    tjenester: tuple[str, ...]
    skropelighet: int


@dataclass(frozen=True)
class Legemiddel:
    atc: str
    navn: str
    tilstand: str
    dosering: str
    ved_behov: bool


@dataclass(frozen=True)
class Tjeneste:
    key: str
    kpr: str
    lokal: tuple[str, str]
    enhet: str
    timer: tuple[int, int] | None
    varighet_dager: tuple[int, int] | None
    tekst: tuple[str, ...]


@cache
def tilstander() -> dict[str, Tilstand]:
    out = {}
    for key, d in yaml.safe_load(_text("tilstander.yaml")).items():
        out[key] = Tilstand(key, tuple(d["icpc2"]), tuple(d["icd10"]), dict(d["forekomst"]), dict(d["news2"] or {}),
                            tuple(d["problemomrader"]), tuple(d["tjenester"]), int(d.get("skrøpelighet", 0)))
    return out


@cache
def legemidler() -> dict[str, tuple[Legemiddel, ...]]:
    """Medications by the condition key they treat."""
    out: dict[str, list[Legemiddel]] = {}
    for r in _rows("legemidler.csv"):
        out.setdefault(r["tilstand"], []).append(
            Legemiddel(r["atc"], r["navn"], r["tilstand"], r["dosering"], r["ved_behov"] == "1"))
    return {k: tuple(v) for k, v in out.items()}


@cache
def tjenester() -> dict[str, Tjeneste]:
    out = {}
    for key, d in yaml.safe_load(_text("tjenester.yaml")).items():
        out[key] = Tjeneste(key, str(d["kpr"]), tuple(d["lokal"]), d["enhet"],
                            tuple(d["timer"]) if d["timer"] else None,
                            tuple(d["varighet_dager"]) if d["varighet_dager"] else None, tuple(d["tekst"]))
    return out


@cache
def kpr_tjenestetyper() -> dict[str, str]:
    return {r["kode"]: r["visning"] for r in _rows("kpr_tjenestetyper.csv")}


@cache
def problemomrader() -> dict[str, dict[str, str]]:
    return {r["kode"]: r for r in _rows("problemomrader.csv")}


@cache
def iplos_variabler() -> tuple[dict[str, str], ...]:
    return tuple(_rows("iplos_funksjon.csv"))


@cache
def allergier() -> tuple[dict[str, str], ...]:
    return tuple(_rows("allergier.csv"))


@cache
def notater() -> dict[str, tuple[dict[str, str], ...]]:
    out: dict[str, list[dict[str, str]]] = {}
    for r in _rows("notater.csv"):
        out.setdefault(r["type"], []).append(r)
    return {k: tuple(v) for k, v in out.items()}


@cache
def sosialt() -> tuple[dict[str, str], ...]:
    return tuple(_rows("sosialt.csv"))


@cache
def aldersfordelinger() -> dict[str, tuple[tuple[int, int, float], ...]]:
    out: dict[str, list[tuple[int, int, float]]] = {}
    for r in _rows("aldersfordeling.csv"):
        out.setdefault(r["navn"], []).append((int(r["fra"]), int(r["til"]), float(r["vekt"])))
    return {k: tuple(v) for k, v in out.items()}


@cache
def personas() -> dict[str, dict]:
    return yaml.safe_load(_text("personas.yaml"))
