"""The identity defects are proven on the platform's development flag (defects.yaml,
`platform: development`) because the platform with HelseID enforced refuses them before any data
arrives. This shows that refusal: the same defective EPJ against the enforcing platform is turned
away with the HelseID check's OperationOutcome, and the request log keeps the refused request
with the evidence the suite judges (token, proof)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conformance.reference_epj import Defect, EpjConfig, ReferenceEpj
from conformance.scenarios import PROTOCOL, load_scenario
from tests.suite_epj.harness import EPJ_ORG, Platforms

# defect -> (step, the status the platform answers the EPJ's first refused request with, its rule)
REFUSED = {
    Defect.MISSING_DPOP: ("register-vedtak", 401, "sandkasse-security-dpop-scheme"),
    Defect.BEARER_SCHEME: ("register-vedtak", 401, "sandkasse-security-dpop-scheme"),
    Defect.REUSED_DPOP_PROOF: ("register-vedtak", 401, "sandkasse-security-dpop-proof"),
    Defect.WRONG_SCOPE: ("register-vedtak", 403, "sandkasse-security-scope"),
    Defect.CONSUMER_MISSING_DPOP: ("show-services", 401, "sandkasse-security-dpop-scheme"),
    Defect.NO_PURPOSE_OF_USE: ("show-services", 403, "sandkasse-security-purpose-of-use"),
}


@pytest.mark.parametrize("defect", sorted(REFUSED, key=str))
def test_the_enforcing_platform_refuses_the_identity_defect(defect: Defect, platforms: Platforms,
                                                            epj_cohort: Path) -> None:
    step, status, rule = REFUSED[defect]
    platform = platforms.secure
    tenant = platform.new_tenant(epj_cohort)
    epj = ReferenceEpj(EpjConfig(platform_url=f"{platform.url}/{tenant}/fhir", cohort=epj_cohort,
                                 organisation=EPJ_ORG, helseid=platform.epj_client, timeout=5.0,
                                 defects=frozenset({defect})))
    fnr = json.loads((epj_cohort / "Patient.ndjson").read_text().splitlines()[0])["identifier"][0]["value"]
    params = {"patient": {"fnr": fnr}}
    if step == "register-vedtak":
        params |= load_scenario("producer-vedtak")["steps"][0]["params"]
    answer = epj.perform({"protocol": PROTOCOL, "id": str(uuid.uuid4()), "step": step, "params": params})
    assert answer["status"] in ("failed", "unavailable"), answer

    response = platform.admin("GET", f"/tenants/{tenant}/requests")
    refused = [r for r in response.json()["requests"] if r["status"] >= 400]
    assert refused, "the platform let every request of the defective EPJ through"
    first = refused[0]
    assert first["status"] == status
    codes = [c["code"] for i in first["response"]["issue"] for c in i.get("details", {}).get("coding", [])]
    assert rule in codes, codes
    assert first["headers"]["authorization"].split(" ", 1)[1].count(".") == 2   # the token, kept as evidence
