"""The reference EPJ's configuration and its defect switches (data in defects.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from conformance.auth import HelseIdClientConfig


class Defect(StrEnum):
    """One deliberate fault each; the value is the id in defects.yaml."""
    WRONG_IDENTIFIER_SYSTEM = "wrong-identifier-system"
    WRONG_KOMMUNENUMMER = "wrong-kommunenummer"
    WRONG_PATIENT = "wrong-patient"
    REAL_LOOKING_FNR = "real-looking-fnr"
    WRONG_HOURS_UNIT = "wrong-hours-unit"
    MISSING_REVIEW_DATE = "missing-review-date"
    ENDED_STILL_ACTIVE = "ended-still-active"
    SENDS_FREE_TEXT = "sends-free-text"
    EXTRA_DATA = "extra-data"
    WRITES_OTHER_SOURCE = "writes-other-source"
    MISSING_PROVENANCE = "missing-provenance"
    MISSING_DPOP = "missing-dpop"
    BEARER_SCHEME = "bearer-scheme"
    REUSED_DPOP_PROOF = "reused-dpop-proof"
    WRONG_SCOPE = "wrong-scope"
    WRONG_AUDIENCE = "wrong-audience"
    STALE_TOKEN = "stale-token"
    RESEND_DUPLICATES = "resend-duplicates"
    UPDATE_WITHOUT_IF_MATCH = "update-without-if-match"
    UPDATE_AS_NEW = "update-as-new"
    WRONG_NEWS2_SUM = "wrong-news2-sum"
    MISSING_DERIVED_FROM = "missing-derived-from"
    WRONG_TEMPERATURE_UNIT = "wrong-temperature-unit"
    IGNORES_PAGING = "ignores-paging"
    NO_PATIENT_FILTER = "no-patient-filter"
    SHOWS_BLOCKED = "shows-blocked"
    IGNORES_WITHHELD_WARNING = "ignores-withheld-warning"
    SWALLOWS_503 = "swallows-503"
    SWALLOWS_TRUNCATED = "swallows-truncated"
    NO_TIMEOUT = "no-timeout"
    PARTIAL_AS_COMPLETE = "partial-as-complete"
    CONSUMER_MISSING_DPOP = "consumer-missing-dpop"
    CONSUMER_WRONG_SCOPE = "consumer-wrong-scope"
    NO_PURPOSE_OF_USE = "no-purpose-of-use"
    NEWS2_SCORE_ONLY = "news2-score-only"


@dataclass(frozen=True)
class DefectSpec:
    id: str
    role: str
    description: str
    fails: tuple[str, ...]
    names: str
    # The sandbox the variant is proven on: "helseid" (enforced) or "development" (the platform's
    # development flag, for defects of the EPJ's own token or proof, which enforcement would
    # refuse before any data arrived; the suite judges them from the request log either way).
    platform: str = "helseid"


@cache
def defect_catalog() -> dict[str, DefectSpec]:
    entries = yaml.safe_load(files(__package__).joinpath("defects.yaml").read_text(encoding="utf-8"))
    return {e["id"]: DefectSpec(e["id"], e["role"], e["description"], tuple(e["fails"]), str(e["names"]),
                                e.get("platform", "helseid")) for e in entries}


@dataclass
class EpjConfig:
    platform_url: str                      # the platform tenant's FHIR base, e.g. http://host/0301/fhir
    kommunenummer: str = "0301"
    cohort: Path | None = None             # the EPJ's own patients (its local store)
    organisation: str = "810000147"        # orgnr of the municipality running the EPJ
    source_system: str = "sandkasse-reference-epj"
    # None: a development token issuer inside the EPJ (the platform's HelseID is not in front);
    # otherwise a registered HelseID client (see `sandkasse client register`).
    helseid: HelseIdClientConfig | None = None
    timeout: float = 1.0                   # seconds the consumer waits for the platform
    token_lifetime: int = 300
    defects: frozenset[Defect] = field(default_factory=frozenset)

    def has(self, defect: Defect) -> bool:
        return defect in self.defects
