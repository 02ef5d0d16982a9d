"""Every search parameter the guide requires, with ground truth: each search is scoped to one
patient where the type has one, runs with a small `_count`, follows every `next` link, and must
return every matching record of the cohort (recall) and nothing else (precision)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from conformance.checks import fail, requirement
from conformance.suite.server import support
from conformance.suite.server.support import SearchParam

PAGE = support.guide()["page_size"]
EXTRA_REQUIREMENTS = {   # search parameters that also carry an information service's own requirement
    ("EpisodeOfCare", "status"): ("SK-KT-002",),
    ("Provenance", "target"): ("SK-DATA-002",),
    ("Consent", "patient"): ("SK-DATA-005",),
}


def _marks(rtype: str, p: SearchParam) -> list:
    return [requirement(*EXTRA_REQUIREMENTS[(rtype, p.name)])] if (rtype, p.name) in EXTRA_REQUIREMENTS else []


def _cases(kind: str) -> list:
    return [pytest.param(rtype, p, id=f"{rtype}-{p.name}", marks=_marks(rtype, p)) for rtype, p in support.params(kind)]


def _date_cases() -> list:
    """One case per date parameter and comparator its definition in the guide lists."""
    return [pytest.param(rtype, p, comparator, id=f"{rtype}-{p.name}-{comparator}", marks=_marks(rtype, p))
            for rtype, p in support.params("date") for comparator in p.comparators or ("eq",)]


def _patients_with(served, rtype: str, limit: int = 5) -> list[tuple[str, list[dict]]]:
    """Sampled patients that have data of this type, with that data."""
    spec = support.types()[rtype]
    out = []
    for patient in served.truth.patients(served.sample_size):
        own = served.truth.for_patient(rtype, spec.patient, patient["id"])
        if own:
            out.append((patient["id"], own))
        if len(out) >= limit:
            break
    if not out:
        pytest.skip(f"not applicable: no sampled patient of the cohort has {rtype}")
    return out


def _scopes(served, rtype: str, limit: int = 5) -> list[tuple[dict, list[dict]]]:
    """(base query, candidate resources): one per patient, or the whole sampled type."""
    support.require_in_cohort(served.truth, rtype)
    spec = support.types()[rtype]
    if spec.patient:
        return [({"patient": f"Patient/{pid}"}, own) for pid, own in _patients_with(served, rtype, limit)]
    return [({}, served.truth.all(rtype))]


FIX_RECALL = "Return every matching record across all pages, and only matching records."


@requirement("SK-API-004")
@pytest.mark.parametrize("rtype, param", _cases("reference"))
def test_search_by_reference(served, rtype: str, param: SearchParam) -> None:
    support.require_in_cohort(served.truth, rtype)
    spec = support.types()[rtype]
    if param.path == spec.patient:
        cases = [(f"Patient/{pid}", own) for pid, own in _patients_with(served, rtype)]
    else:   # a reference to shared data: pick referenced targets from the cohort
        targets = sorted({served.truth.reference(v["reference"]) for r in served.truth.all(rtype)
                          for v in support.values(r, param.path) if isinstance(v, dict) and "reference" in v})
        cases = [(ref, [r for r in served.truth.all(rtype)
                        if any(served.truth.reference(v.get("reference", "")) == ref
                               for v in support.values(r, param.path) if isinstance(v, dict))])
                 for ref in targets[:5]]
    for value, expected in cases:
        got, _, _ = support.search_all(served.client, rtype, {param.name: value, "_count": PAGE})
        support.check_same_ids(f"GET {rtype}?{param.name}={value}", got, expected, FIX_RECALL)


@requirement("SK-API-005")
@pytest.mark.parametrize("rtype, param", _cases("token"))
def test_token_search(served, rtype: str, param: SearchParam) -> None:
    checked = 0
    for base, candidates in _scopes(served, rtype):
        token = next((t for r in candidates for v in support.values(r, param.path) for t in support.tokens(v)), None)
        if token is None:
            continue
        system, code = token
        expected = [r for r in candidates if support.has_token(r, param.path, system, code)]
        query = {**base, param.name: support.token_param(system, code), "_count": PAGE}
        got, _, _ = support.search_all(served.client, rtype, query)
        support.check_same_ids(f"GET {rtype}?{httpx.QueryParams(query)}", got, expected, FIX_RECALL)
        checked += 1
    if not checked:
        pytest.skip(f"not applicable: the cohort has no {rtype}.{param.path} to search for")


@requirement("SK-API-006")
@pytest.mark.parametrize("rtype, param, comparator", _date_cases())
def test_date_search(served, rtype: str, param: SearchParam, comparator: str) -> None:
    checked = 0
    for base, candidates in _scopes(served, rtype):
        if comparator == "eq":
            ranges = [t0 for r in candidates for t0, _ in support.date_ranges(r, param.path) if t0.year > 1]
            day = min(ranges).date() if ranges else None
        else:
            day = support.pivot_day(candidates, param.path)
        if day is None:
            continue
        expected = [r for r in candidates if support.date_matches(r, param.path, comparator, day)]
        query = {**base, param.name: f"{comparator}{day.isoformat()}", "_count": PAGE}
        got, _, _ = support.search_all(served.client, rtype, query)
        support.check_same_ids(f"GET {rtype}?{httpx.QueryParams(query)}", got, expected,
                               f"Apply FHIR date semantics for '{comparator}': compare the ranges the search "
                               "value and the element stand for (search.html#date).")
        checked += 1
    if not checked:
        pytest.skip(f"not applicable: no {rtype}.{param.path} dates to compare in the sample")


@requirement("SK-API-007")
@pytest.mark.parametrize("rtype", list(support.types()))
def test_last_updated_search(served, rtype: str) -> None:
    base, candidates = _scopes(served, rtype, limit=1)[0]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    for query, expected in (({**base, "_lastUpdated": f"le{tomorrow}"}, candidates),
                            ({**base, "_lastUpdated": f"gt{tomorrow}"}, [])):
        got, _, _ = support.search_all(served.client, rtype, {**query, "_count": 50})   # paging is tested apart
        support.check_same_ids(f"GET {rtype}?{httpx.QueryParams(query)}", got, expected,
                               "Support _lastUpdated with comparators on meta.lastUpdated.")


@requirement("SK-API-008")
@pytest.mark.parametrize("rtype", list(support.types()))
def test_paging_respects_count(served, rtype: str) -> None:
    base, candidates = max(_scopes(served, rtype), key=lambda scope: len(scope[1]))
    if len(candidates) <= 1:
        pytest.skip(f"not applicable: no sampled scope has more than one {rtype}")
    response = served.client.get(rtype, params={**base, "_count": 1})
    bundle = support.body(response, f"GET {rtype}?_count=1")
    matches = [e for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]
    if response.status_code != 200 or len(matches) != 1:
        fail(f"GET {rtype}?{httpx.QueryParams(base)}&_count=1 answered HTTP {response.status_code} with "
             f"{len(matches)} matches on the first page; {len(candidates)} records match.",
             "Honour _count: return at most _count matches per page and link the rest with `next`.")
    if not any(link.get("relation") == "next" for link in bundle.get("link", [])):
        fail(f"GET {rtype}?_count=1 has no `next` link although {len(candidates)} records match.",
             "Add a `next` link to every page but the last.")
    count = max(1, len(candidates) // 4)          # a few pages, however large the cohort
    got, _, pages = support.search_all(served.client, rtype, {**base, "_count": count})
    support.check_same_ids(f"Paging {rtype}?_count={count}", got, candidates, FIX_RECALL)
    if max(pages) > count:
        fail(f"Paging {rtype}?_count={count} returned a page of {max(pages)} matches.",
             "Honour _count on every page, not only the first.")


def _patient_types() -> list[str]:
    return [t.name for t in support.types().values() if t.patient]


@requirement("SK-API-009")
@pytest.mark.parametrize("rtype", _patient_types())
def test_include_patient(served, rtype: str) -> None:
    pid, own = _patients_with(served, rtype, limit=1)[0]
    query = {"patient": f"Patient/{pid}", "_include": f"{rtype}:patient"}
    got, included, _ = support.search_all(served.client, rtype, query)
    support.check_same_ids(f"GET {rtype}?{httpx.QueryParams(query)}", got, own, FIX_RECALL)
    if [r.get("id") for r in included if r.get("resourceType") == "Patient"] != [pid]:
        fail(f"GET {rtype}?{httpx.QueryParams(query)} included {[r.get('id') for r in included]}, "
             f"not the patient {pid} (search.mode = include).",
             "Support _include of the patient reference and mark included entries search.mode = include.")


@requirement("SK-API-009")
@pytest.mark.parametrize("rtype", _patient_types())
def test_revinclude_from_patient(served, rtype: str) -> None:
    pid, own = _patients_with(served, rtype, limit=1)[0]
    query = {"_id": pid, "_revinclude": f"{rtype}:patient"}
    got, included, _ = support.search_all(served.client, "Patient", query)
    if [r.get("id") for r in got] != [pid]:
        fail(f"GET Patient?{httpx.QueryParams(query)} matched {[r.get('id') for r in got]}, not [{pid}].",
             "Support _id on Patient.")
    support.check_same_ids(f"The {rtype} _revincluded by GET Patient?{httpx.QueryParams(query)}",
                           [r for r in included if r.get("resourceType") == rtype], own,
                           f"Support _revinclude={rtype}:patient and include every {rtype} of the patient.")


@requirement("SK-API-013")
@pytest.mark.parametrize("rtype", list(support.types()))
def test_unknown_search_parameter_is_refused(served, rtype: str) -> None:
    support.require_in_cohort(served.truth, rtype)
    response = served.client.get(rtype, params={"sandkasse-no-such-parameter": "x"},
                                 headers={"Prefer": "handling=strict"})
    if response.status_code != 400:
        fail(f"GET {rtype}?sandkasse-no-such-parameter=x with Prefer: handling=strict answered "
             f"HTTP {response.status_code}.",
             "Refuse unknown search parameters under strict handling with 400 and an OperationOutcome "
             "that names the parameter (search.html#errors).")
    body = support.body(response, f"GET {rtype}?sandkasse-no-such-parameter=x")
    issues = body.get("issue", []) if body.get("resourceType") == "OperationOutcome" else []
    if not issues:
        fail(f"The 400 answer to an unknown {rtype} search parameter is a {body.get('resourceType')!r}, "
             "not an OperationOutcome with an issue.",
             "Explain every refused request with an OperationOutcome: what is wrong and how to fix it.")


@requirement("SK-DATA-006")
@pytest.mark.parametrize("rtype", _patient_types())
def test_unknown_patient_search_is_empty(served, rtype: str) -> None:
    support.require_in_cohort(served.truth, rtype)
    stranger = f"Patient/{uuid.uuid4()}"
    response = served.client.get(rtype, params={"patient": stranger})
    if response.status_code != 200:
        fail(f"GET {rtype}?patient={stranger} (a person not registered here) answered HTTP {response.status_code}.",
             "Answer a search for an unregistered person with an empty searchset, not an error.")
    got, _, _ = support.search_all(served.client, rtype, {"patient": stranger})
    if got:
        fail(f"GET {rtype}?patient={stranger} returned {len(got)} records of other patients.",
             "Return only records of the patient searched for.")
