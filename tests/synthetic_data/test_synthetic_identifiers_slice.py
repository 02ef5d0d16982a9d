import random
from datetime import date

import pytest

from synthetic_data import identifiers


@pytest.mark.parametrize("seed", range(50))
def test_synthetic_fnr_has_month_plus_80_and_valid_check_digits(seed: int) -> None:
    rng = random.Random(seed)
    birth = date(1940 + seed, 1 + seed % 12, 1 + seed % 28)
    female = seed % 2 == 0
    fnr = identifiers.synthetic_fodselsnummer(birth, female, rng)
    assert len(fnr) == 11 and fnr.isdigit()
    assert int(fnr[2:4]) == birth.month + 80
    assert fnr[0:2] == f"{birth.day:02d}" and fnr[4:6] == f"{birth.year % 100:02d}"
    assert identifiers.has_valid_control_digits(fnr)
    assert (int(fnr[8]) % 2 == 0) == female


def test_known_tenor_examples_are_valid() -> None:
    # Published Skatteetaten Tenor test persons
    for fnr in ("17912099997", "12829499914", "16858399649"):
        assert identifiers.has_valid_control_digits(fnr)


def test_changed_digit_breaks_check_digits() -> None:
    assert not identifiers.has_valid_control_digits("17912099996")
