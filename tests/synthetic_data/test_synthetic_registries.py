"""The registries: the 357 kommuner of 2024 in 15 fylker, the numbers valid before 2024, postcodes."""
import pytest

from synthetic_data import registries


def test_357_kommuner_in_15_fylker_with_2024_numbers() -> None:
    kommuner = registries.kommuner()
    assert len(kommuner) == 357
    assert len(registries.fylker()) == 15
    assert set(registries.fylker()) == {"03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46",
                                       "50", "55", "56"}
    assert all(len(n) == 4 and n.isdigit() and n[:2] == k.fylkesnummer for n, k in kommuner.items())
    assert kommuner["0301"].navn == "Oslo" and kommuner["4601"].navn == "Bergen"
    assert kommuner["5001"].navn == "Trondheim" and kommuner["5501"].navn == "Tromsø"
    assert kommuner["3201"].navn == "Bærum" and kommuner["1508"].navn == "Ålesund"
    assert kommuner["1580"].navn == "Haram"


def test_numbers_valid_before_2024_map_to_2024() -> None:
    old = registries.historiske_kommunenummer()
    assert len(old) == 114  # Viken, Vestfold og Telemark, Troms og Finnmark and Ålesund
    assert old["3024"].nummer_2024 == "3201" and old["3024"].navn == "Bærum"
    assert old["5401"].nummer_2024 == "5501" and old["1507"].nummer_2024 == "1508"
    assert all(h.gyldig_til == "2023-12-31" and h.nummer_2024 in registries.kommuner() for h in old.values())
    assert registries.tidligere_nummer("3201").nummer == "3024"
    assert registries.tidligere_nummer("0301") is None
    assert registries.kommune("3024").nummer == "3201"
    with pytest.raises(KeyError):
        registries.kommune("9999")


def test_every_kommune_has_a_postcode() -> None:
    for nummer in registries.kommuner():
        places = registries.poststeder(nummer)
        assert places, nummer
        assert all(len(p.postnummer) == 4 and p.postnummer.isdigit() and p.poststed for p in places)
    assert {"0150", "0464"} <= {p.postnummer for p in registries.poststeder("0301")}
