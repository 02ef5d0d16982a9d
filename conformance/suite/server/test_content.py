"""What the target serves is valid against the guide, covers its must-support elements, has
references that resolve, carries only synthetic identifiers and keeps minimised data back."""
from __future__ import annotations

import pytest

from conformance.checks import fail, requirement
from conformance.suite.server import must_support, support

TYPES = list(support.types())
PROFILES = sorted({(p, t.name) for t in support.types().values() for p in t.profiles})
NATIONAL_ID_SYSTEMS = ("urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.2")


@requirement("SK-API-010")
@pytest.mark.parametrize("rtype", TYPES)
def test_served_resources_validate(served, ground_truth, rtype: str) -> None:
    from conformance.validator import Validator, is_error
    support.require_in_cohort(ground_truth, rtype)
    validator = Validator.default()
    for resource in served.resources(rtype):
        errors = [i for i in validator.validate(resource) if is_error(i)]
        if errors:
            first = errors[0]
            fail(f"{rtype}/{resource.get('id')} as served is invalid against "
                 f"{(resource.get('meta') or {}).get('profile', ['its profile'])[0]}: {len(errors)} error(s), first "
                 f"at {first.expression or rtype}: {first.message}",
                 first.fix or "Serve resources that conform to the guide's profiles (run `sandkasse validate`).")


@requirement("SK-API-011")
@pytest.mark.parametrize("profile_id, rtype", PROFILES, ids=[p for p, _ in PROFILES])
def test_must_support_coverage(served, ground_truth, minimised, profile_id: str, rtype: str) -> None:
    url = support.PROFILE_BASE + profile_id
    structure = must_support.profile(url)
    if structure is None:
        pytest.skip(f"not applicable: the guide package has no profile {url}")
    # Compare like with like: the sampled part of the cohort with the target's copies of it.
    resources = [r for r in served.expected(rtype) if url in (r.get("meta") or {}).get("profile", [])]
    if not resources:
        pytest.skip(f"not applicable: the sampled cohort has no {profile_id} resources")
    served_here = [r for r in served.resources(rtype) if url in (r.get("meta") or {}).get("profile", [])]
    cohort_has = [e["id"] for e in must_support.must_support_paths(structure, minimised)
                  if any(must_support.present(r, structure, e["id"]) for r in resources)]
    missing = [eid for eid in cohort_has if not any(must_support.present(r, structure, eid) for r in served_here)]
    if missing:
        fail(f"No {profile_id} resource the target served has the must-support element(s) "
             f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}, although the cohort has them.",
             "Store and serve every must-support element of the guide's profiles.")


@requirement("SK-API-012")
@pytest.mark.parametrize("rtype", TYPES)
def test_references_resolve(served, ground_truth, rtype: str) -> None:
    support.require_in_cohort(ground_truth, rtype)
    refs: dict[str, str] = {}
    for resource in served.resources(rtype):
        for ref in _references(resource):
            if "/" in ref and not ref.startswith(("http", "urn:", "#")):
                refs.setdefault(ref, f"{rtype}/{resource.get('id')}")
    for ref, source in sorted(refs.items())[:60]:
        response = served.read(ref)
        if response.status_code != 200:
            fail(f"{source} refers to {ref}, which answers HTTP {response.status_code}.",
                 "Serve every resource your resources refer to, or refer only to resources you serve.")
        if support.body(response, f"GET {ref}").get("resourceType") != ref.split("/")[0]:
            fail(f"{source} refers to {ref}, which returned a different resource type.",
                 "Keep reference types consistent with the resources served.")


def _references(value: object) -> list[str]:
    if isinstance(value, dict):
        own = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return own + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


@requirement("SK-DATA-004")
@pytest.mark.parametrize("rtype", ["Patient", "RelatedPerson"])
def test_served_identifiers_are_synthetic(served, ground_truth, rtype: str) -> None:
    from synthetic_data.identifiers import classify
    support.require_in_cohort(ground_truth, rtype)
    for resource in served.resources(rtype):
        for ident in resource.get("identifier", []):
            if ident.get("system") in NATIONAL_ID_SYSTEMS and classify(ident.get("value", "")).real_looking:
                fail(f"{rtype}/{resource.get('id')} carries a real-looking national identity number "
                     f"({ident.get('system')}).",
                     "Use only synthetic numbers (fødselsnummer with month + 80 or + 65) in every test system.")


@requirement("SK-KT-003")
def test_vedtak_free_text_is_not_served(served, ground_truth, minimised) -> None:
    support.require_in_cohort(ground_truth, "EpisodeOfCare")
    for resource in served.resources("EpisodeOfCare"):
        found = [e.get("url") for e in resource.get("extension", []) if e.get("url") in minimised]
        if found:
            fail(f"EpisodeOfCare/{resource.get('id')} is served with {found[0]} (the vedtak's free text, K8).",
                 "Withhold the vedtak's free text by default (data minimisation); share codes, dates and hours.")
