"""The EPJ's own patient register, loaded from the published cohort (its local store)."""
from __future__ import annotations

import json
from pathlib import Path

OID_FNR = "urn:oid:2.16.578.1.12.4.1.4.1"


class PatientStore:
    def __init__(self, patients: list[dict]) -> None:
        self.patients = patients
        self._by_id = {p["id"]: p for p in patients}
        self._index = {self.fnr(p): i for i, p in enumerate(patients) if self.fnr(p)}

    @classmethod
    def load(cls, cohort: Path | None) -> "PatientStore":
        if cohort is None:
            return cls([])
        manifest = json.loads((cohort / "manifest.json").read_text(encoding="utf-8"))
        name = manifest["files"].get("Patient")
        if name is None:
            return cls([])
        with (cohort / name).open(encoding="utf-8") as handle:
            return cls([json.loads(line) for line in handle if line.strip()])

    @staticmethod
    def fnr(patient: dict) -> str | None:
        return next((i["value"] for i in patient.get("identifier", []) if i.get("system") == OID_FNR), None)

    def read(self, rid: str) -> dict | None:
        return self._by_id.get(rid)

    def search_identifier(self, system: str | None, value: str) -> list[dict]:
        return [p for p in self.patients
                if any(i.get("value") == value and (system is None or i.get("system") == system)
                       for i in p.get("identifier", []))]

    def by_fnr(self, fnr: str) -> dict:
        return {"fnr": fnr, "resource": self.patients[self._index[fnr]]}

    def neighbour_of(self, fnr: str) -> dict:
        """The patient listed after this one: what a mis-click in a patient list picks."""
        patient = self.patients[(self._index[fnr] + 1) % len(self.patients)]
        return {"fnr": self.fnr(patient), "resource": patient}
