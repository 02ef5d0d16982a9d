"""The reference EPJ as a scenario-protocol participant: `perform(step) -> answer`."""
from __future__ import annotations

import json
import os
from pathlib import Path

from conformance.auth import HelseIdClientConfig
from conformance.reference_epj.config import Defect, EpjConfig
from conformance.reference_epj.consumer import Consumer
from conformance.reference_epj.producer import Producer, StepFailed
from conformance.reference_epj.store import PatientStore
from conformance.scenarios import PROTOCOL, validate_answer, validate_step

CONFIG_ENV = "SANDKASSE_REFERENCE_EPJ_CONFIG"


class ReferenceEpj:
    """Also the class behind `--adapter python:conformance.reference_epj.epj:ReferenceEpj`; without
    a config it reads one from the JSON file named by $SANDKASSE_REFERENCE_EPJ_CONFIG."""

    def __init__(self, config: EpjConfig | None = None) -> None:
        self.config = config or config_from_file(Path(os.environ[CONFIG_ENV]))
        self.patients = PatientStore.load(self.config.cohort)
        self.producer = Producer(self.config, self.patients)
        self.consumer = Consumer(self.config)

    def perform(self, step: dict) -> dict:
        validate_step(step)
        name, params = step["step"], step["params"]
        answer = {"protocol": PROTOCOL, "id": step["id"], "step": name}
        if name == "show-services":
            answer |= self.consumer.show_services(params["patient"]["fnr"])
        elif name == "show-news2":
            answer |= self.consumer.show_news2(params["patient"]["fnr"])
        else:
            handler = getattr(self.producer, name.replace("-", "_"))
            try:
                answer |= {"status": "done", "references": handler(params)}
            except StepFailed as error:
                answer |= {"status": "failed", "detail": str(error)}
        validate_answer(answer)
        return answer


def config_from_file(path: Path) -> EpjConfig:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["defects"] = frozenset(Defect(d) for d in data.get("defects", []))
    if data.get("cohort"):
        data["cohort"] = Path(data["cohort"])
    if isinstance(data.get("helseid"), dict):
        data["helseid"] = HelseIdClientConfig(**data["helseid"])
    return EpjConfig(**data)
