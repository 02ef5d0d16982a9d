"""Consumer role: the suite seeds the sandbox, asks the EPJ what it shows for a patient, and
compares with what was seeded; then injects faults and checks the EPJ says "unavailable"."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from conformance.checks import fail, requirement
from conformance.scenarios import load_scenario
from conformance.suite.roles import evidence, seed
from conformance.suite.roles.driver import Driver, StepRecord, cohort_patient


@dataclass
class Seeded:
    fnr: dict[str, str]                 # scenario role of the patient -> fødselsnummer
    patient_id: dict[str, str]
    shown: dict[str, set[str]]          # vedtak ids the EPJ must show, per patient role
    blocked: dict[str, dict[str, str]]  # vedtak id -> resource id, to be put under sperring, per patient role
    news2: dict


@pytest.fixture(scope="session")
def seeded(sandbox, ground_truth, run_token: str, kommunenummer: str) -> Seeded:
    scenario = load_scenario("consumer-services")
    # A dozen vedtak span several pages only if pages are small: the tenant's test condition.
    sandbox.set_settings({"max_page_size": scenario["max_page_size"]})
    template = scenario["vedtak_template"]
    resources, fnr, patient_id, shown, blocked = [], {}, {}, {}, {}
    for role, spec in scenario["patients"].items():
        patient = cohort_patient(ground_truth, spec["cohort_index"])
        fnr[role], patient_id[role], shown[role], blocked[role] = patient.fnr, patient.id, set(), {}
        for i in range(spec["vedtak"]):
            service = template["service_types"][i % len(template["service_types"])]
            vedtak_id, rid = f"C-{run_token}-{role}-{i:02d}", seed.seeded_id(run_token, role, i)
            resources.append(seed.vedtak(rid, vedtak_id, patient.id, kommunenummer, service,
                                         template["hours"][i % len(template["hours"])], template))
            if i in spec.get("blocked", []):
                blocked[role][vedtak_id] = f"EpisodeOfCare/{rid}"
            else:
                shown[role].add(vedtak_id)
    news2 = load_scenario("consumer-news2")
    news2_patient = cohort_patient(ground_truth, news2["patient"]["cohort_index"])
    resources += seed.news2_set(run_token, news2_patient.id, news2["effective"], news2["measurements"], news2["total"])
    fnr["news2"] = news2_patient.fnr
    sandbox.seed(seed.transactions(resources))
    return Seeded(fnr, patient_id, shown, blocked, news2)


@pytest.fixture(scope="session")
def services_shown(driver: Driver, sandbox, seeded: Seeded, run_token: str) -> StepRecord:
    """The EPJ shows the patient's services once (and may cache them); then the patient blocks
    the EPJ's HelseID client from some of them (sperring); what it shows then is judged."""
    before = driver.perform("show-services", {"patient": {"fnr": seeded.fnr["pages"]}})
    clients = {evidence.token_claims(evidence.authorization(r)[1]).get("client_id") for r in before.requests}
    clients.discard(None)
    if not clients:
        fail("The EPJ read the platform without a HelseID token naming its client (client_id), so no sperring "
             "against it can be tested.", "Read with a HelseID access token (conformance.auth.HelseIdAuth).")
    spec = load_scenario("consumer-services")["sperring"]
    blocked = sorted(seeded.blocked["pages"].values())
    consents = [seed.sperring(seed.seeded_id(run_token, "sperring", client), seeded.patient_id["pages"], client,
                              blocked, spec) for client in sorted(clients)]
    sandbox.seed(seed.transactions(consents))
    return driver.perform("show-services", {"patient": {"fnr": seeded.fnr["pages"]}})


@pytest.fixture(scope="session")
def news2_shown(driver: Driver, seeded: Seeded) -> StepRecord:
    return driver.perform("show-news2", {"patient": {"fnr": seeded.fnr["news2"]}})


def _answer(record: StepRecord) -> dict:
    if record.error:
        fail(f"The EPJ could not perform {record.step['step']}: {record.error}",
             "Implement the step in the test-control endpoint (docs/scenario-protocol.md).")
    return record.answer


def _shown_ids(answer: dict) -> list[str]:
    return [s["vedtak_id"] for s in answer.get("services", [])]


# -- what the EPJ shows ----------------------------------------------------------------------

@requirement("SK-CONS-001")
def test_shows_every_service_across_pages(services_shown: StepRecord, seeded: Seeded) -> None:
    answer = _answer(services_shown)
    expected = seeded.shown["pages"]
    if answer["status"] == "unavailable":
        fail("With the platform up, the EPJ reported the services as unavailable.",
             "Read the information service and show what it returns, following every page.")
    missing = sorted(expected - set(_shown_ids(answer)))
    if missing:
        fail(f"The EPJ shows the list as {answer['status']} but {len(missing)} of {len(expected)} services are missing "
             f"(e.g. {missing[0]}); the patient's services span several pages of the search result.",
             "Follow Bundle.link[relation=next] until there is none, and show every page's entries.")


@requirement("SK-CONS-002")
def test_shows_nothing_extra(services_shown: StepRecord, seeded: Seeded) -> None:
    ids = _shown_ids(_answer(services_shown))
    own = seeded.shown["pages"] | set(seeded.blocked["pages"])
    extra = sorted(set(ids) - own)
    if extra:
        fail(f"The EPJ shows {len(extra)} services that are not this patient's (e.g. {extra[0]}).",
             "Search the information service with patient=<id> and show only that patient's services.")
    if len(ids) != len(set(ids)):
        fail("The EPJ shows some services twice.", "Show each vedtak once, even when pages overlap.")


@requirement("SK-CONS-003")
def test_withheld_services_are_neither_shown_nor_hidden_silently(services_shown: StepRecord, seeded: Seeded) -> None:
    answer = _answer(services_shown)
    shown_blocked = sorted(set(seeded.blocked["pages"]) & set(_shown_ids(answer)))
    if shown_blocked:
        fail(f"The EPJ shows {shown_blocked[0]}, a service the patient has put under sperring against it "
             f"since it was last shown (from a cache or a copy).",
             "Show only what the platform returns now; drop cached copies when the platform withholds data.")
    if answer["status"] != "partial-with-warning":
        fail(f"The platform withheld {len(seeded.blocked['pages'])} service(s) by sperring and said so "
             f"(OperationOutcome, code suppressed), but the EPJ presented the list as {answer['status']!r}.",
             "When a search result carries a 'suppressed' OperationOutcome, tell the user that information "
             "is withheld (partial-with-warning); never present the list as complete.")


@requirement("SK-CONS-011")
def test_news2_shown_with_its_measurements(news2_shown: StepRecord, seeded: Seeded) -> None:
    answer = _answer(news2_shown)
    spec = seeded.news2
    if answer["status"] != "complete" or not answer["news2"]:
        fail(f"The EPJ shows no NEWS2 set ({answer['status']}) for a patient with one (its score and "
             f"measurements may span more than one page).",
             "Read Observation?patient=<id> and show the NEWS2 score with its measurements.")
    latest = answer["news2"][0]
    if latest.get("total") != spec["total"]:
        fail(f"The EPJ shows NEWS2 total {latest.get('total')}, the platform has {spec['total']}.",
             "Show the total of the score Observation (news2#total).")
    if latest.get("measurements") != spec["measurements"]:
        fail(f"The EPJ shows the NEWS2 total without the measurements it was computed from "
             f"(shows {latest.get('measurements')}).",
             "Show the seven measurements referenced by the score's derivedFrom together with the score.")


# -- faults: unavailable, never a silently partial list ----------------------------------------

def _with_fault(driver: Driver, sandbox, fault: dict, fnr: str, deadline: float | None = None) -> StepRecord:
    sandbox.set_faults([fault])
    try:
        return driver.perform("show-services", {"patient": {"fnr": fnr}}, deadline=deadline)
    finally:
        sandbox.set_faults([])


def _must_not_claim_complete(record: StepRecord, what: str, fix: str) -> None:
    answer = _answer(record)
    if answer["status"] == "complete":
        fail(f"{what}, yet the EPJ showed {len(answer.get('services', []))} services as a complete list.", fix)


@requirement("SK-CONS-004")
def test_503_is_reported_unavailable(driver, sandbox, seeded: Seeded) -> None:
    fault = load_scenario("consumer-services")["faults"]["unavailable"]
    record = _with_fault(driver, sandbox, fault, seeded.fnr["faults"])
    _must_not_claim_complete(record, "The information service answered 503 (unavailable)",
                             "On 5xx, tell the user the services are unavailable; never show an empty list as complete.")


@requirement("SK-CONS-005")
def test_truncated_bundle_is_reported_unavailable(driver, sandbox, seeded: Seeded) -> None:
    fault = load_scenario("consumer-services")["faults"]["truncated"]
    record = _with_fault(driver, sandbox, fault, seeded.fnr["faults"])
    _must_not_claim_complete(record, "The information service's answer was truncated (a page with fewer entries "
                                     "than the search's total and no link to a next page, or a body cut mid-way)",
                             "Treat an answer that is not a whole Bundle, or whose pages carry fewer entries "
                             "than Bundle.total, as unavailable and say so.")


@requirement("SK-CONS-006")
def test_timeout_is_reported_unavailable(driver, sandbox, seeded: Seeded) -> None:
    scenario = load_scenario("consumer-services")
    deadline = scenario["answer_deadline_seconds"]
    record = _with_fault(driver, sandbox, scenario["faults"]["slow"], seeded.fnr["faults"], deadline=deadline)
    if record.error or record.elapsed > deadline:
        fail(f"The platform hung for {scenario['faults']['slow']['delay_ms'] / 1000:g} s and the EPJ did not answer "
             f"within {deadline} s: it has no timeout, so its user waits on a frozen screen.",
             "Set a timeout on every call to the platform (a few seconds) and report the data as unavailable.")
    _must_not_claim_complete(record, "The information service did not answer in time",
                             "On a timeout, report the services as unavailable.")


@requirement("SK-CONS-007")
def test_failed_later_page_is_not_shown_as_complete(driver, sandbox, seeded: Seeded) -> None:
    fault = load_scenario("consumer-services")["faults"]["later_page"]
    record = _with_fault(driver, sandbox, fault, seeded.fnr["faults"])
    _must_not_claim_complete(record, "The first page arrived but the next page answered 503: a partial list",
                             "If any page fails, report the list as unavailable (or partial, with a warning).")


# -- identity: DPoP, scopes, purpose of use ----------------------------------------------------

def _reads(services_shown: StepRecord, news2_shown: StepRecord) -> list:
    return [*services_shown.requests, *news2_shown.requests]


@requirement("SK-CONS-008")
def test_reads_use_dpop(services_shown, news2_shown) -> None:
    requests = _reads(services_shown, news2_shown)
    if not requests:
        fail("The EPJ showed data without reading the platform.", "Read the information service for every display.")
    fix = "Read with Authorization: DPoP <token> and a fresh DPoP proof per request (conformance.auth.HelseIdAuth)."
    evidence.check_dpop_scheme(requests, "Consumer", fix)
    evidence.check_proofs(requests, "Consumer", fix)


@requirement("SK-CONS-009")
def test_reads_use_read_scopes_only(services_shown, news2_shown, services: dict) -> None:
    allowed = {f"{services['audience']}/{name}.read" for name in services["services"]}
    for request in _reads(services_shown, news2_shown):
        granted = evidence.scopes(evidence.token_claims(evidence.authorization(request)[1]))
        if not granted & allowed:
            fail(f"{request.method} {request.url} was made with scopes {sorted(granted)}, none of them a read scope "
                 f"of the information services.", f"Ask HelseID for the read scopes you use: {sorted(allowed)}.")
        extra = sorted(granted - allowed)
        if extra:
            fail(f"The consumer reads with a token that also grants {extra}: a scope beyond reading.",
                 "Ask HelseID only for the read scopes of the services the EPJ displays (least privilege).")


@requirement("SK-CONS-010")
def test_reads_carry_purpose_of_use(services_shown, news2_shown, services: dict) -> None:
    spec = services["purpose_of_use"]
    for request in _reads(services_shown, news2_shown):
        claims = evidence.token_claims(evidence.authorization(request)[1])
        codes = [d.get("care_relationship", {}).get("purpose_of_use", {})
                 for d in claims.get("authorization_details", []) if d.get("type") == spec["detail_type"]]
        if not any(c.get("system") == spec["system"] and c.get("code") in spec["codes"] for c in codes):
            fail(f"{request.method} {request.url} read patient data with no purpose of use in its token.",
                 f"Send the purpose of use (one of {spec['codes']}) in the client assertion's assertion_details "
                 f"({spec['detail_type']}); HelseID puts it in the token.")
