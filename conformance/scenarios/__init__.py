"""Scenarios (steps as data) and the JSON Schemas of the scenario protocol.

`load_scenario(name)` reads `<name>.yaml`; `validate_step` / `validate_answer` check a message
against the schema of its step, on both sides of the protocol (suite and EPJ).
"""
from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

PROTOCOL = "sandkasse-scenario/1"
STEPS = ("register-vedtak", "update-vedtak", "end-vedtak", "record-news2", "resend-last",
         "show-services", "show-news2")


class ProtocolError(ValueError):
    """A step or an answer that does not follow the scenario protocol."""


@cache
def load_scenario(name: str) -> dict:
    return yaml.safe_load(files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    folder = files(__name__).joinpath("schema")
    resources = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


SCHEMA_BASE = "https://sandkasse.no/scenario-protocol/"


@cache
def _validator(kind: str, step: str) -> Draft202012Validator:
    uri = f"{SCHEMA_BASE}{step}.{kind}.schema.json"
    schema = _registry().get_or_retrieve(uri).value.contents
    return Draft202012Validator(schema, registry=_registry())


def _check(kind: str, message: object) -> None:
    if not isinstance(message, dict):
        raise ProtocolError(f"a {kind} must be a JSON object, got {type(message).__name__}")
    step = message.get("step")
    if step not in STEPS:
        raise ProtocolError(f"unknown step {step!r}; the protocol has {', '.join(STEPS)}")
    errors = sorted(_validator(kind, step).iter_errors(message), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        raise ProtocolError(f"{step} {kind} is invalid at {where}: {errors[0].message}")


def validate_step(step: dict) -> None:
    _check("step", step)


def validate_answer(answer: dict) -> None:
    _check("answer", answer)
