"""The shared resources of a municipality: the kommune, its service units (tjenestesteder), GP
offices, practitioners and their roles. Patients reference them; they are written once, first.

Everything is drawn from the stream (seed, kommunenummer, "kommune"), so a municipality's units
are the same whatever the cohort size.
"""
from __future__ import annotations

import hashlib
import random
import re
import uuid
from dataclasses import dataclass, field
from functools import cache

from synthetic_data import identifiers, registries
from synthetic_data.fhir import (CS_ORGTYPE, EXT_MUNICIPALITY, HELSEPERSONELLKATEGORI, SNOMED, coding, concept, meta,
                                 ref)

_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "ü": "u", "ö": "o", "ä": "a"})

_NAMESPACE = uuid.UUID("0b9a4f7e-7a8e-4c1e-9a57-3b5f0f6c2d21")

# unit kind → (display of the type, how many, name patterns); {k} is the kommune's name
_UNITS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("tildelingskontor", "Tildelingskontor", 1, ("Tildelingskontoret i {k}",)),
    ("hjemmesykepleie", "Hjemmesykepleie", 3, ("Hjemmesykepleien sone nord", "Hjemmesykepleien sone sør",
                                                "Hjemmesykepleien sone sentrum")),
    ("sykehjem", "Sykehjem", 2, ("Solbakken sykehjem", "Fjordtun omsorgssenter")),
    ("korttidsavdeling", "Korttidsavdeling", 1, ("Korttidsavdelingen Solbakken",)),
    ("kad", "Kommunal akutt døgnenhet (KAD)", 1, ("KAD {k}",)),
    ("legevakt", "Legevakt", 1, ("{k} legevakt",)),
    ("helsestasjon", "Helsestasjon", 1, ("Helsestasjonen i {k}",)),
)
_GP_OFFICES = ("Sentrum legesenter", "Torget legekontor", "Fjordheim legesenter", "Bakkehaugen legekontor")

# unit kind → staff: (helsepersonellkategori code, display, count)
_STAFF = {
    "tildelingskontor": (("SP", "Sykepleier", 2),),
    "hjemmesykepleie": (("SP", "Sykepleier", 3), ("HF", "Helsefagarbeider", 1)),
    "sykehjem": (("SP", "Sykepleier", 2), ("LE", "Lege", 1)),
    "korttidsavdeling": (("SP", "Sykepleier", 2), ("FT", "Fysioterapeut", 1)),
    "kad": (("SP", "Sykepleier", 2), ("LE", "Lege", 1)),
    "legevakt": (("LE", "Lege", 1), ("SP", "Sykepleier", 1)),
    "helsestasjon": (("SP", "Sykepleier", 1), ("JO", "Jordmor", 1)),
    "legekontor": (("LE", "Lege", 2),),
}


@dataclass
class Unit:
    kind: str
    org_id: str
    name: str
    staff: list[tuple[str, str]] = field(default_factory=list)  # (practitioner id, role id)


@dataclass
class Municipality:
    """The shared resources of one kommune and the lookups the patient generator needs."""
    kommunenummer: str
    navn: str
    kommune_org_id: str
    resources: list[dict]
    units: dict[str, list[Unit]]

    def unit(self, kind: str, rng: random.Random) -> Unit:
        return rng.choice(self.units[kind])

    def staff(self, kind: str, rng: random.Random) -> tuple[str, str]:
        """(practitioner id, role id) of someone working at a unit of this kind."""
        return rng.choice(self.unit(kind, rng).staff)


def _id(seed: int, kommunenummer: str, kind: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{seed}:{kommunenummer}:{kind}"))


def _rng(seed: int, kommunenummer: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{kommunenummer}:kommune".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(_ASCII)).strip("-")


def _email(local: str, kommune_navn: str) -> dict:
    # the reserved .invalid domain: a synthetic address can never reach anyone
    return {"system": "email", "value": f"{_slug(local)}@{_slug(kommune_navn)}.kommune.invalid", "use": "work"}


def _address(k: registries.Kommune, rng: random.Random) -> dict:
    post = rng.choice(registries.poststeder(k.nummer))
    return {"use": "work", "type": "physical",
            "line": [f"{rng.choice(registries.names('street'))} {rng.randint(1, 60)}"],
            "postalCode": post.postnummer, "city": post.poststed, "district": k.navn,
            "_district": {"extension": [{"url": EXT_MUNICIPALITY, "valueCoding": coding(
                registries.KOMMUNENUMMER_SYSTEM, k.nummer, k.navn)}]},
            "country": "NO"}


def _organization(oid: str, name: str, kind: str, display: str, rng: random.Random,
                  part_of: str | None, k: registries.Kommune, with_her: bool = True) -> dict:
    identifier = [{"system": identifiers.OID_ORGNR, "value": identifiers.synthetic_orgnr(rng)}]
    if with_her:
        identifier.append({"system": identifiers.OID_HER, "value": identifiers.synthetic_her_id(rng)})
    org = {"resourceType": "Organization", "id": oid, "meta": meta("sk-organization"), "identifier": identifier,
           "active": True, "type": [concept(CS_ORGTYPE, kind, display)], "name": name,
           "telecom": [_email(name, k.navn)], "address": [_address(k, rng)]}
    if part_of:
        org["partOf"] = ref("Organization", part_of)
    return org


@cache
def municipality(seed: int, kommunenummer: str) -> Municipality:
    k = registries.kommune(kommunenummer)
    rng = _rng(seed, k.nummer)
    kommune_id = _id(seed, k.nummer, "Organization:kommune")
    resources = [_organization(kommune_id, f"{k.navn} kommune", "kommune", "Kommune", rng, None, k)]
    units: dict[str, list[Unit]] = {}
    for kind, display, count, patterns in _UNITS:
        for n in range(count):
            oid = _id(seed, k.nummer, f"Organization:{kind}:{n}")
            part_of = units["sykehjem"][0].org_id if kind == "korttidsavdeling" else kommune_id
            name = patterns[n % len(patterns)].format(k=k.navn)
            resources.append(_organization(oid, name, kind, display, rng, part_of, k))
            units.setdefault(kind, []).append(Unit(kind, oid, name))
    for n, name in enumerate(_GP_OFFICES):  # GP offices are private: their own organisation, no partOf
        oid = _id(seed, k.nummer, f"Organization:legekontor:{n}")
        resources.append(_organization(oid, name, "legekontor", "Legekontor", rng, None, k))
        units.setdefault("legekontor", []).append(Unit("legekontor", oid, name))
    for kind, unit_list in units.items():
        for unit in unit_list:
            for code, display, count in _STAFF[kind]:
                for _ in range(count):
                    n = len(unit.staff)
                    pid = _id(seed, k.nummer, f"Practitioner:{unit.org_id}:{n}")
                    rid = _id(seed, k.nummer, f"PractitionerRole:{unit.org_id}:{n}")
                    practitioner = _practitioner(pid, rng, code, display, k)
                    resources.append(practitioner)
                    resources.append(_role(rid, pid, unit, code, display, kind, practitioner, k))
                    unit.staff.append((pid, rid))
    return Municipality(k.nummer, k.navn, kommune_id, resources, units)


def _practitioner(pid: str, rng: random.Random, code: str, display: str, k: registries.Kommune) -> dict:
    female = rng.random() < 0.7
    family, given = rng.choice(registries.names("family")), rng.choice(registries.names("female" if female else "male"))
    return {"resourceType": "Practitioner", "id": pid, "meta": meta("sk-practitioner"),
            "identifier": [{"system": identifiers.OID_HPR, "value": identifiers.synthetic_hpr(rng)}],
            "active": True,
            "name": [{"family": family, "given": [given]}],
            "telecom": [_email(f"{given}.{family}", k.navn)],
            "gender": "female" if female else "male",
            "qualification": [{"code": concept(HELSEPERSONELLKATEGORI, code, display)}]}


def _role(rid: str, pid: str, unit: Unit, code: str, display: str, kind: str, practitioner: dict,
          k: registries.Kommune) -> dict:
    role = {"resourceType": "PractitionerRole", "id": rid, "meta": meta("sk-practitionerrole"), "active": True,
            "practitioner": ref("Practitioner", pid), "organization": ref("Organization", unit.org_id, unit.name),
            "code": [concept(HELSEPERSONELLKATEGORI, code, display)], "telecom": practitioner["telecom"]}
    if kind == "legekontor":  # the fastlege
        role["specialty"] = [concept(SNOMED, "394814009", "General practice (specialty)", "Allmennmedisin")]
    return role
