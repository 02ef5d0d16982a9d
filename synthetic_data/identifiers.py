"""Norwegian identifiers: the one source of truth for generating and classifying them.

Person numbers (11 digits: DDMMYY + three individual digits + two mod-11 control digits):
- fødselsnummer; synthetic ones follow Skatteetaten's Tenor (month + 80) or Norsk helsenett's
  reserved persons (month + 65). Nothing here ever produces a number in the real, issuable space.
- D-nummer: day + 40; synthetic ones also carry month + 80 (Tenor's D-numbers, e.g. 57912075186).
- H-nummer (local auxiliary number): month + 40. NAV's Dolly test persons use the same + 40, so a
  + 40 number is ambiguous: the classifier says so and treats it as real-looking.
- FH-nummer (felles hjelpenummer): first digit 8 or 9, the rest without meaning. No public
  synthetic range exists, so sandkasse reserves FH-numbers whose second and third digits are
  "99" and calls only those synthetic.

Organisation numbers (9 digits, weights 3 2 7 6 5 4 3 2, mod-11): synthetic ones start with 2 or 3
(Tenor's synthetic Enhetsregister); real ones start with 8 or 9. HPR-numbers and HER-ids carry no
control digit; sandkasse draws them from reserved ranges (HPR 9 digits starting 99, HER-id
7 digits starting 99) so a test fixture is recognisable at a glance.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

OID_FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
OID_DNR = "urn:oid:2.16.578.1.12.4.1.4.2"
OID_FHN = "urn:oid:2.16.578.1.12.4.1.4.3"
OID_HPR = "urn:oid:2.16.578.1.12.4.1.4.4"
OID_HER = "urn:oid:2.16.578.1.12.4.1.2"
OID_ORGNR = "urn:oid:2.16.578.1.12.4.1.4.101"

SYSTEM_FOR_KIND = {"fnr": OID_FNR, "dnr": OID_DNR, "fhn": OID_FHN}

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)

TENOR_MONTH_OFFSET = 80
NHN_MONTH_OFFSET = 65
NAV_MONTH_OFFSET = 40  # also the real H-number offset: never generated
D_NUMBER_DAY_OFFSET = 40
FHN_SYNTHETIC_MARK = "99"  # digits 2–3 of a sandkasse FH-number
HPR_PREFIX = "99"
HER_PREFIX = "99"
SYNTHETIC_ORGNR_FIRST_DIGITS = ("2", "3")


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


def _person_number(day_part: int, month_part: int, birth: date, female: bool, rng: random.Random) -> str:
    prefix = f"{day_part:02d}{month_part:02d}{birth.year % 100:02d}"
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


def _check_offset(month_offset: int) -> None:
    if month_offset not in (TENOR_MONTH_OFFSET, NHN_MONTH_OFFSET):
        raise ValueError("synthetic numbers use month + 80 (Tenor) or + 65 (NHN)")


def synthetic_fodselsnummer(birth: date, female: bool, rng: random.Random,
                            month_offset: int = TENOR_MONTH_OFFSET) -> str:
    """A synthetic fødselsnummer for a birth date and sex (month + 80, or + 65 for NHN style)."""
    _check_offset(month_offset)
    return _person_number(birth.day, birth.month + month_offset, birth, female, rng)


def synthetic_d_nummer(birth: date, female: bool, rng: random.Random,
                       month_offset: int = TENOR_MONTH_OFFSET) -> str:
    """A synthetic D-number: day + 40 and month + 80 (or + 65)."""
    _check_offset(month_offset)
    return _person_number(birth.day + D_NUMBER_DAY_OFFSET, birth.month + month_offset, birth, female, rng)


def synthetic_fh_nummer(rng: random.Random) -> str:
    """A sandkasse FH-number: first digit 8 or 9, then the reserved "99", random digits, K1 K2."""
    while True:
        first_nine = f"{rng.choice('89')}{FHN_SYNTHETIC_MARK}{rng.randrange(10**6):06d}"
        digits = control_digits(first_nine)
        if digits is not None:
            return first_nine + digits


def orgnr_control_digit(first_eight: str) -> int | None:
    return _mod11(first_eight, _ORGNR_WEIGHTS)


def is_valid_orgnr(number: str) -> bool:
    return (len(number) == 9 and number.isdigit() and number[0] != "0"
            and orgnr_control_digit(number[:8]) == int(number[8]))


def synthetic_orgnr(rng: random.Random) -> str:
    """A mod-11-valid organisation number in Tenor's synthetic space (first digit 2 or 3)."""
    while True:
        first_eight = f"{rng.choice(SYNTHETIC_ORGNR_FIRST_DIGITS)}{rng.randrange(10**7):07d}"
        check = orgnr_control_digit(first_eight)
        if check is not None:
            return f"{first_eight}{check}"


def is_synthetic_orgnr(number: str) -> bool:
    return is_valid_orgnr(number) and number[0] in SYNTHETIC_ORGNR_FIRST_DIGITS


def synthetic_hpr(rng: random.Random) -> str:
    return f"{HPR_PREFIX}{rng.randrange(10**7):07d}"


def synthetic_her_id(rng: random.Random) -> str:
    return f"{HER_PREFIX}{rng.randrange(10**5):05d}"


# Classification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    kind: str        # fnr | dnr | fhn | hnr | invalid
    synthetic: bool  # True only for the test conventions (month + 80 or + 65; sandkasse FH "99")
    convention: str | None = None  # tenor | nhn | sandkasse | nav-or-hnr | None
    ambiguous: bool = False        # True where a test convention collides with a real format

    @property
    def real_looking(self) -> bool:
        return self.kind != "invalid" and not self.synthetic

    @property
    def system(self) -> str | None:
        """The identifier system (OID) a number of this kind is sent with, if it has one."""
        return SYSTEM_FOR_KIND.get(self.kind)


_INVALID = Classification("invalid", False)


def _month_convention(month: int) -> tuple[int, str | None]:
    """The real month and the convention its offset names (None for an unshifted month)."""
    for offset, convention in ((TENOR_MONTH_OFFSET, "tenor"), (NHN_MONTH_OFFSET, "nhn"),
                               (NAV_MONTH_OFFSET, "nav-or-hnr")):
        if offset < month <= offset + 12:
            return month - offset, convention
    return month, None


def classify(number: str) -> Classification:
    """Which kind of 11-digit person number this is, and whether it is synthetic.

    Real-looking means: a number of a kind that identifies real persons, outside every test
    convention. The platform's real-data guard refuses those.
    """
    if not has_valid_control_digits(number):
        return _INVALID
    first = int(number[0])
    if first in (8, 9):
        synthetic = number[1:3] == FHN_SYNTHETIC_MARK
        return Classification("fhn", synthetic, "sandkasse" if synthetic else None)
    day, month = int(number[0:2]), int(number[2:4])
    kind = "fnr"
    if day > D_NUMBER_DAY_OFFSET:
        kind, day = "dnr", day - D_NUMBER_DAY_OFFSET
    month, convention = _month_convention(month)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return _INVALID
    if convention in ("tenor", "nhn"):
        return Classification(kind, True, convention)
    if convention == "nav-or-hnr":
        # NAV's Dolly test persons and real local H-numbers share month + 40: not provably synthetic.
        return Classification("hnr", False, convention, ambiguous=True)
    return Classification(kind, False)
