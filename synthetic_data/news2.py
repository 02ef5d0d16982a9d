"""NEWS2 scoring, exactly as the Royal College of Physicians' chart (2017): pure functions only.

Bands are inclusive on both edges and written as data; values between two integer bands (e.g. a
respiratory rate is an integer, a temperature has one decimal) fall in the band whose upper edge
they do not exceed.
"""
from __future__ import annotations

from dataclasses import dataclass

# (upper edge inclusive, score); the last band has no upper edge.
_RESPIRATION = ((8, 3), (11, 1), (20, 0), (24, 2), (None, 3))
_SPO2_SCALE_1 = ((91, 3), (93, 2), (95, 1), (None, 0))
_SYSTOLIC = ((90, 3), (100, 2), (110, 1), (219, 0), (None, 3))
_PULSE = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (None, 3))
_TEMPERATURE = ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (None, 2))

CONSCIOUSNESS_LEVELS = ("A", "C", "V", "P", "U")
COMPONENTS = ("respiratory-rate-score", "spo2-score", "air-or-oxygen-score", "systolic-bp-score",
              "pulse-score", "consciousness-score", "temperature-score")


def _band(value: float, bands: tuple) -> int:
    for upper, score in bands:
        if upper is None or value <= upper:
            return score
    raise AssertionError("unreachable: the last band is open")


def respiration_score(rate: int) -> int:
    return _band(rate, _RESPIRATION)


def spo2_score(spo2: int, scale: int = 1, on_oxygen: bool = False) -> int:
    """Scale 1 for most patients; scale 2 for confirmed hypercapnic respiratory failure (e.g. KOLS),
    where 88–92 % is the target and high saturations score only while on oxygen."""
    if scale == 1:
        return _band(spo2, _SPO2_SCALE_1)
    if scale != 2:
        raise ValueError("SpO2 scale is 1 or 2")
    if spo2 <= 83:
        return 3
    if spo2 <= 85:
        return 2
    if spo2 <= 87:
        return 1
    if spo2 <= 92 or not on_oxygen:  # 88–92, or ≥ 93 on air
        return 0
    if spo2 <= 94:
        return 1
    if spo2 <= 96:
        return 2
    return 3


def air_or_oxygen_score(on_oxygen: bool) -> int:
    return 2 if on_oxygen else 0


def systolic_score(systolic: int) -> int:
    return _band(systolic, _SYSTOLIC)


def pulse_score(pulse: int) -> int:
    return _band(pulse, _PULSE)


def consciousness_score(level: str) -> int:
    if level not in CONSCIOUSNESS_LEVELS:
        raise ValueError(f"consciousness is one of {CONSCIOUSNESS_LEVELS} (ACVPU), not {level!r}")
    return 0 if level == "A" else 3


def temperature_score(celsius: float) -> int:
    return _band(round(celsius, 1), _TEMPERATURE)


@dataclass(frozen=True)
class Vitals:
    respiratory_rate: int
    spo2: int
    spo2_scale: int
    on_oxygen: bool
    systolic: int
    diastolic: int
    pulse: int
    pulse_regular: bool
    consciousness: str
    temperature: float


@dataclass(frozen=True)
class Score:
    components: dict[str, int]  # keyed by the news2 component codes, in COMPONENTS order

    @property
    def total(self) -> int:
        return sum(self.components.values())

    @property
    def risk(self) -> str:
        """RCP clinical risk: low, low-medium (a single red score of 3), medium (5–6), high (≥ 7)."""
        if self.total >= 7:
            return "high"
        if self.total >= 5:
            return "medium"
        if 3 in self.components.values():
            return "low-medium"
        return "low"


def score(v: Vitals) -> Score:
    return Score(dict(zip(COMPONENTS, (
        respiration_score(v.respiratory_rate),
        spo2_score(v.spo2, v.spo2_scale, v.on_oxygen),
        air_or_oxygen_score(v.on_oxygen),
        systolic_score(v.systolic),
        pulse_score(v.pulse),
        consciousness_score(v.consciousness),
        temperature_score(v.temperature),
    ))))
