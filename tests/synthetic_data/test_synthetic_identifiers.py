"""Identifier rules: control digits, month and day offsets, FH-numbers, organisation numbers and the
classifier the platform's real-data guard relies on."""
import random
from datetime import date

import pytest

from synthetic_data import identifiers as ids

BIRTHS = [date(1931, 2, 28), date(1944, 12, 31), date(1999, 1, 1), date(2000, 2, 29), date(2024, 6, 15)]


def _valid_real_fnr(birth: date, rng: random.Random) -> str:
    """A number in the real (unshifted) space, built here only to prove the classifier flags it."""
    while True:
        first_nine = f"{birth.day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randrange(500):03d}"
        digits = ids.control_digits(first_nine)
        if digits:
            return first_nine + digits


def test_control_digits_follow_the_published_weights() -> None:
    # K1 over weights 3 7 6 1 8 9 4 5 2, K2 over 5 4 3 2 7 6 5 4 3 2 (Skatteetaten)
    number = "17912099997"
    k1 = 11 - sum(int(d) * w for d, w in zip(number[:9], (3, 7, 6, 1, 8, 9, 4, 5, 2))) % 11
    k2 = 11 - sum(int(d) * w for d, w in zip(number[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))) % 11
    assert f"{k1 % 11}{k2 % 11}" == number[9:] == ids.control_digits(number[:9])


@pytest.mark.parametrize("birth", BIRTHS)
@pytest.mark.parametrize("offset,convention", [(80, "tenor"), (65, "nhn")])
def test_synthetic_fodselsnummer_offsets_and_classification(birth: date, offset: int, convention: str) -> None:
    rng = random.Random(birth.toordinal() + offset)
    for female in (True, False):
        fnr = ids.synthetic_fodselsnummer(birth, female, rng, month_offset=offset)
        assert ids.has_valid_control_digits(fnr)
        assert int(fnr[2:4]) == birth.month + offset and fnr[:2] == f"{birth.day:02d}"
        assert (int(fnr[8]) % 2 == 0) == female
        individual = int(fnr[6:9])
        assert (individual < 500) if birth.year < 2000 else (individual >= 500)
        c = ids.classify(fnr)
        assert (c.kind, c.synthetic, c.convention, c.real_looking) == ("fnr", True, convention, False)
        assert c.system == ids.OID_FNR


@pytest.mark.parametrize("birth", BIRTHS)
def test_synthetic_d_nummer_has_day_plus_40_and_month_plus_80(birth: date) -> None:
    dnr = ids.synthetic_d_nummer(birth, True, random.Random(1))
    assert int(dnr[:2]) == birth.day + 40 and int(dnr[2:4]) == birth.month + 80
    assert ids.has_valid_control_digits(dnr)
    c = ids.classify(dnr)
    assert (c.kind, c.synthetic, c.real_looking, c.system) == ("dnr", True, False, ids.OID_DNR)


def test_tenor_d_number_example_is_synthetic() -> None:
    assert ids.classify("57912075186") == ids.Classification("dnr", True, "tenor")


def test_synthetic_fh_nummer_first_digit_8_or_9_and_reserved_mark() -> None:
    rng = random.Random(3)
    numbers = [ids.synthetic_fh_nummer(rng) for _ in range(200)]
    assert {n[0] for n in numbers} == {"8", "9"}
    for n in numbers:
        assert n[1:3] == "99" and ids.has_valid_control_digits(n)
        assert ids.classify(n) == ids.Classification("fhn", True, "sandkasse")


def test_fh_number_outside_the_reserved_mark_is_real_looking() -> None:
    first_nine = next(f"8{n:08d}" for n in range(10**6) if not f"8{n:08d}"[1:3] == "99"
                      and ids.control_digits(f"8{n:08d}"))
    number = first_nine + ids.control_digits(first_nine)
    c = ids.classify(number)
    assert c.kind == "fhn" and c.real_looking


@pytest.mark.parametrize("birth", BIRTHS)
def test_real_space_numbers_are_real_looking(birth: date) -> None:
    rng = random.Random(birth.toordinal())
    fnr = _valid_real_fnr(birth, rng)
    assert ids.classify(fnr) == ids.Classification("fnr", False)
    assert ids.classify(fnr).real_looking
    dnr_nine = f"{birth.day + 40:02d}{fnr[2:9]}"
    if ids.control_digits(dnr_nine):
        dnr = dnr_nine + ids.control_digits(dnr_nine)
        assert ids.classify(dnr).kind == "dnr" and ids.classify(dnr).real_looking


def test_month_plus_40_is_an_h_number_ambiguous_with_nav_test_persons() -> None:
    nav = "15507600333"  # NAV Dolly style (+40): python-stdnum accepts it as an H-number
    c = ids.classify(nav)
    assert (c.kind, c.synthetic, c.ambiguous, c.convention) == ("hnr", False, True, "nav-or-hnr")
    assert c.real_looking  # not provably synthetic: the guard must refuse it


@pytest.mark.parametrize("number", ["17912099996", "1791209999", "179120999970", "1791209999a", "",
                                    "00000000000x"])
def test_invalid_numbers(number: str) -> None:
    c = ids.classify(number)
    assert c.kind == "invalid" and not c.real_looking and not c.synthetic


def test_valid_check_digits_but_impossible_date_is_invalid() -> None:
    first_nine = next(f"01{m:02d}50{i:03d}" for m in (13, 35, 60, 99) for i in range(500)
                      if ids.control_digits(f"01{m:02d}50{i:03d}"))
    assert ids.classify(first_nine + ids.control_digits(first_nine)).kind == "invalid"


def test_generation_rejects_other_offsets() -> None:
    with pytest.raises(ValueError):
        ids.synthetic_fodselsnummer(date(1950, 1, 1), True, random.Random(), month_offset=40)
    with pytest.raises(ValueError):
        ids.synthetic_fodselsnummer(date(1850, 1, 1), True, random.Random())


def test_organisation_numbers_mod11_and_synthetic_range() -> None:
    assert ids.is_valid_orgnr("974760673")  # Brønnøysundregistrene's own, a published real number
    assert not ids.is_synthetic_orgnr("974760673")
    assert not ids.is_valid_orgnr("974760674")
    rng = random.Random(5)
    for _ in range(300):
        number = ids.synthetic_orgnr(rng)
        weights = (3, 2, 7, 6, 5, 4, 3, 2)
        check = 11 - sum(int(d) * w for d, w in zip(number, weights)) % 11
        assert int(number[8]) == check % 11 and check != 10
        assert number[0] in "23" and ids.is_synthetic_orgnr(number)


def test_hpr_and_her_ids_come_from_reserved_ranges() -> None:
    rng = random.Random(9)
    hpr = {ids.synthetic_hpr(rng) for _ in range(100)}
    her = {ids.synthetic_her_id(rng) for _ in range(100)}
    assert all(len(h) == 9 and h.startswith("99") and h.isdigit() for h in hpr)
    assert all(len(h) == 7 and h.startswith("99") and h.isdigit() for h in her)


def test_oids_are_the_national_ones() -> None:
    assert ids.OID_FNR == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert ids.OID_DNR == "urn:oid:2.16.578.1.12.4.1.4.2"
    assert ids.OID_FHN == "urn:oid:2.16.578.1.12.4.1.4.3"
    assert ids.OID_HPR == "urn:oid:2.16.578.1.12.4.1.4.4"
    assert ids.OID_HER == "urn:oid:2.16.578.1.12.4.1.2"
    assert ids.OID_ORGNR == "urn:oid:2.16.578.1.12.4.1.4.101"
