"""Norwegian identifiers: the one source of truth for generating and classifying them.

Synthetic fødselsnummer follow the test conventions: Skatteetaten's Tenor (month + 80) and
Norsk helsenett's reserved persons (month + 65). Nothing here ever produces a number in the
space of real, issuable fødselsnummer.
"""
from __future__ import annotations

import random
from datetime import date

OID_FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
OID_DNR = "urn:oid:2.16.578.1.12.4.1.4.2"
OID_FHN = "urn:oid:2.16.578.1.12.4.1.4.3"
OID_HPR = "urn:oid:2.16.578.1.12.4.1.4.4"
OID_HER = "urn:oid:2.16.578.1.12.4.1.2"
OID_ORGNR = "urn:oid:2.16.578.1.12.4.1.4.101"

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

TENOR_MONTH_OFFSET = 80
NHN_MONTH_OFFSET = 65


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 control digit, or None where the remainder makes the base number unusable."""
    check = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def control_digits(first_nine: str) -> str | None:
    """K1 and K2 for the first nine digits, or None if no valid pair exists."""
    k1 = _mod11(first_nine, _K1_WEIGHTS)
    if k1 is None:
        return None
    k2 = _mod11(first_nine + str(k1), _K2_WEIGHTS)
    return None if k2 is None else f"{k1}{k2}"


def has_valid_control_digits(number: str) -> bool:
    return len(number) == 11 and number.isdigit() and control_digits(number[:9]) == number[9:]


def _individual_range(year: int) -> range:
    if 1900 <= year <= 1999:
        return range(0, 500)
    if 2000 <= year <= 2039:
        return range(500, 1000)
    raise ValueError(f"year {year} is outside the supported 1900–2039 range")


def synthetic_fodselsnummer(birth: date, female: bool, rng: random.Random,
                            month_offset: int = TENOR_MONTH_OFFSET) -> str:
    """A synthetic fødselsnummer for a birth date and sex (month + 80, or + 65 for NHN style)."""
    if month_offset not in (TENOR_MONTH_OFFSET, NHN_MONTH_OFFSET):
        raise ValueError("synthetic numbers use month + 80 (Tenor) or + 65 (NHN)")
    prefix = f"{birth.day:02d}{birth.month + month_offset:02d}{birth.year % 100:02d}"
    individuals = _individual_range(birth.year)
    while True:
        individual = rng.choice(individuals)
        if (individual % 2 == 0) != female:  # the ninth digit is even for women
            individual += 1
            if individual not in individuals:
                continue
        first_nine = f"{prefix}{individual:03d}"
        digits = control_digits(first_nine)
        if digits is not None:
            return first_nine + digits


# Classification ---------------------------------------------------------------------------------

from dataclasses import dataclass  # noqa: E402  (kept next to its only use)


@dataclass(frozen=True)
class Classification:
    kind: str        # fnr | dnr | fhn | hnr | invalid
    synthetic: bool  # True only for the test conventions (month + 80 or + 65)

    @property
    def real_looking(self) -> bool:
        return self.kind != "invalid" and not self.synthetic


def classify(number: str) -> Classification:
    """Which kind of 11-digit person number this is, and whether it is synthetic."""
    if not has_valid_control_digits(number):
        return Classification("invalid", False)
    first, month = int(number[0]), int(number[2:4])
    if first in (8, 9):
        return Classification("fhn", False)
    kind = "dnr" if first >= 4 else "fnr"
    if 81 <= month <= 92 or 66 <= month <= 77:
        return Classification(kind, True)
    if 41 <= month <= 52:
        return Classification("hnr", False)
    return Classification(kind, False)
