"""NEWS2 scoring (Royal College of Physicians 2017), table-driven at every band edge."""
import pytest

from synthetic_data import news2

RESPIRATION = [(5, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (40, 3)]
SPO2_SCALE_1 = [(80, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
# scale 2: (spo2, on oxygen, score)
SPO2_SCALE_2 = [(83, False, 3), (84, False, 2), (85, False, 2), (86, False, 1), (87, False, 1),
                (88, False, 0), (92, False, 0), (93, False, 0), (99, False, 0),
                (88, True, 0), (92, True, 0), (93, True, 1), (94, True, 1), (95, True, 2), (96, True, 2),
                (97, True, 3), (100, True, 3), (83, True, 3)]
SYSTOLIC = [(70, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]
PULSE = [(30, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)]
TEMPERATURE = [(34.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2),
               (41.0, 2)]


@pytest.mark.parametrize("rate,expected", RESPIRATION)
def test_respiration(rate: int, expected: int) -> None:
    assert news2.respiration_score(rate) == expected


@pytest.mark.parametrize("spo2,expected", SPO2_SCALE_1)
def test_spo2_scale_1(spo2: int, expected: int) -> None:
    assert news2.spo2_score(spo2, 1, on_oxygen=False) == expected
    assert news2.spo2_score(spo2, 1, on_oxygen=True) == expected  # scale 1 ignores oxygen; it scores separately


@pytest.mark.parametrize("spo2,oxygen,expected", SPO2_SCALE_2)
def test_spo2_scale_2(spo2: int, oxygen: bool, expected: int) -> None:
    assert news2.spo2_score(spo2, 2, on_oxygen=oxygen) == expected


@pytest.mark.parametrize("systolic,expected", SYSTOLIC)
def test_systolic(systolic: int, expected: int) -> None:
    assert news2.systolic_score(systolic) == expected


@pytest.mark.parametrize("pulse,expected", PULSE)
def test_pulse(pulse: int, expected: int) -> None:
    assert news2.pulse_score(pulse) == expected


@pytest.mark.parametrize("celsius,expected", TEMPERATURE)
def test_temperature(celsius: float, expected: int) -> None:
    assert news2.temperature_score(celsius) == expected


def test_consciousness_and_oxygen() -> None:
    assert news2.consciousness_score("A") == 0
    assert [news2.consciousness_score(x) for x in "CVPU"] == [3, 3, 3, 3]
    assert news2.air_or_oxygen_score(False) == 0 and news2.air_or_oxygen_score(True) == 2
    with pytest.raises(ValueError):
        news2.consciousness_score("X")
    with pytest.raises(ValueError):
        news2.spo2_score(95, scale=3)


def _vitals(**overrides) -> news2.Vitals:
    values = dict(respiratory_rate=16, spo2=97, spo2_scale=1, on_oxygen=False, systolic=130, diastolic=80,
                  pulse=70, pulse_regular=True, consciousness="A", temperature=36.8)
    return news2.Vitals(**{**values, **overrides})


def test_total_and_risk_bands() -> None:
    assert news2.score(_vitals()).total == 0 and news2.score(_vitals()).risk == "low"
    single_red = news2.score(_vitals(consciousness="C"))
    assert single_red.total == 3 and single_red.risk == "low-medium"
    medium = news2.score(_vitals(respiratory_rate=22, pulse=115, spo2=95))  # 2 + 2 + 1
    assert medium.total == 5 and medium.risk == "medium"
    high = news2.score(_vitals(respiratory_rate=26, spo2=90, on_oxygen=True, systolic=95, pulse=120,
                               consciousness="V", temperature=39.5))
    assert high.components == {"respiratory-rate-score": 3, "spo2-score": 3, "air-or-oxygen-score": 2,
                               "systolic-bp-score": 2, "pulse-score": 2, "consciousness-score": 3,
                               "temperature-score": 2}
    assert high.total == 17 and high.risk == "high"


def test_kols_patient_on_scale_2_is_not_penalised_for_a_low_target_saturation() -> None:
    kols = news2.score(_vitals(spo2=89, spo2_scale=2))
    assert kols.components["spo2-score"] == 0
    assert news2.score(_vitals(spo2=89, spo2_scale=1)).components["spo2-score"] == 3
