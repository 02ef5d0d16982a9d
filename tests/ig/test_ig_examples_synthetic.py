"""The guide's examples hold synthetic identifiers only: no real-looking national ID anywhere."""
from __future__ import annotations

import re

import conformance.ig as ig
from synthetic_data import identifiers


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _identifiers(system: str):
    for e in ig.load_examples():
        for identifier in e.get("identifier", []):
            if identifier.get("system") == system:
                yield e["id"], identifier["value"]


def test_every_eleven_digit_number_in_an_example_is_synthetic():
    seen = 0
    for e in ig.load_examples():
        for text in _strings(e):
            for number in re.findall(r"(?<!\d)\d{11}(?!\d)", text):
                seen += 1
                assert identifiers.classify(number).synthetic, f"{e['id']}: {number} is not synthetic"
    assert seen >= 1


def test_person_identifiers_are_synthetic_fodselsnummer():
    fnr = list(_identifiers(identifiers.OID_FNR))
    assert fnr
    for example_id, number in fnr:
        c = identifiers.classify(number)
        assert (c.kind, c.synthetic) == ("fnr", True), example_id
        assert identifiers.has_valid_control_digits(number)
        assert 81 <= int(number[2:4]) <= 92, f"{example_id}: month + 80 expected"


def test_organisation_and_personnel_numbers_are_in_the_test_ranges():
    orgnr = list(_identifiers(identifiers.OID_ORGNR))
    assert orgnr and all(identifiers.is_synthetic_orgnr(n) for _, n in orgnr)
    for _, hpr in _identifiers(identifiers.OID_HPR):
        assert hpr.startswith(identifiers.HPR_PREFIX)
    for _, her in _identifiers(identifiers.OID_HER):
        assert her.startswith(identifiers.HER_PREFIX)
