"""Seeded generation of synthetic Norwegian patients.

Every patient draws from its own random stream, derived from (seed, index), so patient N is the
same whether a cohort has 10 or 10 million patients, and chunking never changes the output.
"""
from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from synthetic_data import identifiers, registries

GENERATOR_VERSION = "0.1.0"
REFERENCE_DATE = date(2026, 1, 1)  # fixed, so output never floats with the clock
_ID_NAMESPACE = uuid.UUID("6f1c2a8e-51d4-4a57-9a0c-5a1d0c0f2e11")


def patient_rng(seed: int, index: int, stream: str = "patient") -> random.Random:
    digest = hashlib.sha256(f"{seed}:{index}:{stream}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def resource_id(seed: int, index: int, kind: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{seed}:{index}:{kind}"))


@dataclass
class SyntheticPatient:
    index: int
    fodselsnummer: str
    resources: list[dict] = field(default_factory=list)

    @property
    def patient(self) -> dict:
        return self.resources[0]


def generate_patient(seed: int, index: int, kommunenummer: str = "0301") -> SyntheticPatient:
    rng = patient_rng(seed, index)
    female = rng.random() < 0.5
    birth = REFERENCE_DATE - timedelta(days=rng.randint(18 * 365, 95 * 365))
    fnr = identifiers.synthetic_fodselsnummer(birth, female, rng)
    kommune = registries.kommuner()[kommunenummer]
    post = rng.choice(registries.poststeder(kommunenummer))
    patient = {
        "resourceType": "Patient",
        "id": resource_id(seed, index, "Patient"),
        "identifier": [{"system": identifiers.OID_FNR, "value": fnr}],
        "name": [{
            "family": rng.choice(registries.names("family")),
            "given": [rng.choice(registries.names("female" if female else "male"))],
        }],
        "gender": "female" if female else "male",
        "birthDate": birth.isoformat(),
        "address": [{
            "use": "home",
            "line": [f"{rng.choice(registries.names('street'))} {rng.randint(1, 120)}"],
            "postalCode": post.postnummer,
            "city": post.poststed,
            "district": kommune.navn,
            "_district": {"extension": [{
                "url": "http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode",
                "valueCoding": {"system": registries.KOMMUNENUMMER_SYSTEM,
                                "code": kommune.nummer, "display": kommune.navn},
            }]},
            "country": "NO",
        }],
    }
    return SyntheticPatient(index=index, fodselsnummer=fnr, resources=[patient])
