"""The Python API around validate(): NDJSON streaming, arbitrary input never crashes, and the
OperationOutcome is all the platform's $validate needs."""
from __future__ import annotations

import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.validator import Issue, Validator, is_error, operation_outcome, validate

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1950-01-01",
           "name": [{"family": "Hansen", "given": ["Kari"]}], "telecom": [{"system": "phone", "value": "1"}],
           "address": [{"city": "Oslo", "_district": {"extension": [{"url": "x", "valueString": "y"}]}}]}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(PATIENT) if p]


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(PATHS), replacement=json_values)
def test_any_damage_to_a_resource_gives_issues_never_an_exception(path, replacement):
    resource = copy.deepcopy(PATIENT)
    target = resource
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    issues = Validator.default().validate(resource)
    assert all(isinstance(i, Issue) and i.fix for i in issues)
    json.dumps(operation_outcome(issues))  # always serialisable


@settings(max_examples=80, deadline=None)
@given(value=json_values)
def test_any_json_value_gives_issues_never_an_exception(value):
    issues = validate(value)
    assert issues and any(is_error(i) for i in issues)


def test_ndjson_is_streamed_line_by_line_with_line_numbers():
    lines = iter([json.dumps(PATIENT), "", "{broken", json.dumps({**PATIENT, "gender": "kvinne"})])
    results = list(Validator.default().validate_ndjson(lines))
    assert [n for n, _ in results] == [1, 3, 4]
    assert not any(is_error(i) for i in results[0][1])
    assert results[1][1][0].rule == "json-syntax"
    assert any(i.rule == "binding" for i in results[2][1])


def test_a_clean_outcome_says_so():
    outcome = operation_outcome([i for i in validate(PATIENT) if is_error(i)])
    assert outcome["issue"][0]["severity"] == "information"


def test_a_fresh_validator_gives_the_same_answers_from_many_threads():
    """The platform validates from request threads: lazily compiled types must never be seen half-built."""
    from concurrent.futures import ThreadPoolExecutor

    from conformance.validator.engine import Core
    from conformance.validator.profiles import ProfileSet
    resources = [json.loads(p.read_text(encoding="utf-8"))
                 for p in sorted((__import__("pathlib").Path(__file__).parent / "corpus").glob("*.json"))][:60]
    expected = [sorted((i.expression, i.rule) for i in Validator.default().validate(r)) for r in resources]
    core = Core()
    fresh = Validator(core, ProfileSet.from_guide(core))
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda r: sorted((i.expression, i.rule) for i in fresh.validate(r)), resources))
    assert got == expected
