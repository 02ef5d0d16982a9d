"""Producer role: the suite asks the EPJ to perform scenario steps and judges what reached the
sandbox's intake, against the scenario's expected data and the cohort (ground truth)."""
from __future__ import annotations

import copy

import pytest

from conformance.checks import fail, requirement
from conformance.scenarios import load_scenario
from conformance.suite.roles import evidence
from conformance.suite.roles.driver import Driver, StepRecord, cohort_patient
from conformance.validator import Validator, is_error
from synthetic_data.identifiers import classify

SK = "https://sandkasse.no/fhir"
EXT = f"{SK}/StructureDefinition/"
KPR = f"{SK}/CodeSystem/kpr-tjenestetype"
OID_PERSON = ("urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.2")


# -- scenario runs (once per session; every test reads the records) --------------------------

@pytest.fixture(scope="session")
def vedtak_run(driver: Driver, ground_truth, run_token: str, sandbox) -> dict[str, StepRecord]:
    scenario = load_scenario("producer-vedtak")
    patient = cohort_patient(ground_truth, scenario["patient"]["cohort_index"])
    vedtak_id = f"{scenario['steps'][0]['params']['vedtak_id']}-{run_token}"
    records: dict[str, StepRecord] = {}
    refused = None
    for item in scenario["steps"]:
        params = copy.deepcopy(item.get("params", {}))
        if item["step"] == "register-vedtak":
            params["patient"] = {"fnr": patient.fnr}
        if item["step"] != "resend-last":
            params["vedtak_id"] = vedtak_id
        record = records[item["step"]] = driver.perform(item["step"], params)
        record.earlier_refusal, refused = refused, refused or record.refusal()
        sent = record.entries("EpisodeOfCare") or records["register-vedtak"].entries("EpisodeOfCare")
        identifier = next(iter((sent[0]["resource"].get("identifier") or [])), None) if sent else None
        if identifier:
            record.stored = sandbox.search_all("EpisodeOfCare", {
                "identifier": f"{identifier.get('system')}|{identifier.get('value')}"})
    return records


@pytest.fixture(scope="session")
def news2_run(driver: Driver, ground_truth) -> StepRecord:
    scenario = load_scenario("producer-news2")
    patient = cohort_patient(ground_truth, scenario["patient"]["cohort_index"])
    params = copy.deepcopy(scenario["steps"][0]["params"])
    params["patient"] = {"fnr": patient.fnr}
    return driver.perform("record-news2", params)


def _done(record: StepRecord) -> None:
    """The step reached the intake. What the EPJ sent is judged even when the platform refused
    it (the requirement the refusal is about fails on its own); a step that never got there
    fails here, naming the earlier refusal that kept it from happening, if there was one."""
    name = record.step["step"]
    if record.error:
        fail(f"The EPJ could not perform {name}: {record.error}",
             "Implement the step in the test-control endpoint (docs/scenario-protocol.md).")
    if record.intake():
        return
    if record.earlier_refusal:
        fail(f"The EPJ could not perform {name}: {record.earlier_refusal}.",
             "Fix what the platform refused first; its answer says what is wrong and how to fix it.")
    if record.answer["status"] != "done":
        fail(f"The EPJ reported {name} as failed: {record.answer.get('detail', '(no detail)')}",
             "Make the step succeed against the sandbox; the detail says what the platform answered.")
    fail(f"The EPJ reported {name} as done, but nothing reached the platform's intake.",
         "Send each change to the intake (POST [base] with a transaction Bundle) when it happens.")


def _not_stored(record: StepRecord, what: str) -> None:
    """Fails when the platform holds nothing of the step (a refused write stores nothing)."""
    if not record.stored:
        cause = record.refusal() or record.earlier_refusal
        fail(f"{what}: the platform holds no vedtak with the identifier the EPJ sent"
             + (f", because {cause}." if cause else "."),
             "Make the platform accept the write (its answer says what to fix); then it can be judged.")


def _sent(record: StepRecord, rtype: str) -> list[dict]:
    _done(record)
    entries = record.entries(rtype)
    if not entries:
        fail(f"{record.step['step']} reached the intake without any {rtype}.",
             f"Send the {rtype} of the step in the transaction Bundle.")
    return entries


def _ext(resource: dict, name: str) -> dict | None:
    return next((e for e in resource.get("extension", []) if e.get("url") == EXT + name), None)


def _producer_requests(vedtak_run: dict, news2_run: StepRecord) -> list:
    return [r for record in [*vedtak_run.values(), news2_run] for r in record.requests]


# -- Kommunale tjenester ---------------------------------------------------------------------

@requirement("SK-PROD-001")
def test_vedtak_follows_the_profile(vedtak_run, kommunenummer: str) -> None:
    resource = _sent(vedtak_run["register-vedtak"], "EpisodeOfCare")[0]["resource"]
    vedtak_id = vedtak_run["register-vedtak"].step["params"]["vedtak_id"]
    expected_system = f"{SK}/sid/vedtak/{kommunenummer}"
    profiles = resource.get("meta", {}).get("profile", [])
    if f"{EXT}sk-kommunal-tjeneste" not in profiles:
        fail(f"The vedtak names profiles {profiles}, not sk-kommunal-tjeneste.",
             f'Set meta.profile to ["{EXT}sk-kommunal-tjeneste"].')
    identifiers = resource.get("identifier", [])
    systems = [i.get("system") for i in identifiers if i.get("value") == vedtak_id]
    if expected_system not in systems:
        other = [s for s in systems if s and s.startswith(f"{SK}/sid/vedtak/")]
        if other:
            fail(f"The vedtak id is sent with system {other[0]}, which names kommunenummer "
                 f"{other[0].rsplit('/', 1)[1]}; this platform is kommune {kommunenummer}.",
                 f"Use the kommunenummer of the municipality the EPJ serves: {expected_system}.")
        fail(f"The vedtak id {vedtak_id} is sent with identifier system {systems or [None]}, "
             f"expected {expected_system}.", f"Send EpisodeOfCare.identifier with system {expected_system}.")
    local = [c.get("system", "") for t in resource.get("type", []) for c in t.get("coding", [])
             if c.get("system", "").startswith(f"{SK}/CodeSystem/lokal-tjeneste-")]
    if local and local[0] != f"{SK}/CodeSystem/lokal-tjeneste-{kommunenummer}":
        fail(f"The local service code uses {local[0]}, which names another kommunenummer than {kommunenummer}.",
             f"Use {SK}/CodeSystem/lokal-tjeneste-{kommunenummer} for the municipality's own codes.")
    errors = [i for i in Validator.default().validate(resource, f"{EXT}sk-kommunal-tjeneste") if is_error(i)]
    if errors:
        fail(f"The vedtak does not conform to sk-kommunal-tjeneste: {errors[0].message} at {errors[0].expression}.",
             errors[0].fix or "See conformance/ig/CONTRACT.md, Kommunale tjenester.")


@requirement("SK-PROD-002")
def test_writes_land_on_the_right_patient(vedtak_run, news2_run, ground_truth) -> None:
    for record, scenario in ((vedtak_run["register-vedtak"], "producer-vedtak"), (news2_run, "producer-news2")):
        expected = cohort_patient(ground_truth, load_scenario(scenario)["patient"]["cohort_index"])
        rtype, element = ("EpisodeOfCare", "patient") if scenario == "producer-vedtak" else ("Observation", "subject")
        for entry in _sent(record, rtype):
            actual = (entry["resource"].get(element) or {}).get("reference")
            if actual != f"Patient/{expected.id}":
                fail(f"{record.step['step']} for the patient with fødselsnummer {expected.fnr} wrote "
                     f"{rtype}.{element} = {actual!r}: another patient than Patient/{expected.id}.",
                     "Resolve the patient by fødselsnummer (Patient?identifier=…) and reference exactly that patient.")


@requirement("SK-PROD-003")
def test_vedtak_values_match_the_scenario(vedtak_run) -> None:
    record = vedtak_run["register-vedtak"]
    resource, params = _sent(record, "EpisodeOfCare")[0]["resource"], record.step["params"]
    codings = [c for t in resource.get("type", []) for c in t.get("coding", [])]
    kpr = [c.get("code") for c in codings if c.get("system") == KPR]
    if kpr != [params["service_type"]["code"]]:
        fail(f"The national service type (K2) is {kpr}, expected [{params['service_type']['code']}].",
             f"Send one type coding from {KPR} with the vedtak's national service type.")
    text = (resource.get("type") or [{}])[0].get("text")
    if text != params["local_text"]:
        fail(f"The local service text (K1) is {text!r}, expected {params['local_text']!r}.",
             "Send the municipality's own service text in EpisodeOfCare.type.text.")
    hours = (_ext(resource, "vedtakstimer") or {}).get("valueQuantity", {})
    if hours.get("code") != "h/wk" or hours.get("system") != "http://unitsofmeasure.org":
        fail(f"Decided hours (K4) are sent in {hours.get('system')}|{hours.get('code')}, not UCUM h/wk.",
             "Send vedtakstimer as valueQuantity with system http://unitsofmeasure.org and code h/wk.")
    if hours.get("value") != params["hours"]:
        fail(f"Decided hours (K4) are {hours.get('value')} h/wk, expected {params['hours']}.",
             "Send the hours per week decided in the vedtak.")
    period = resource.get("period", {})
    if period.get("start") != params["start"] or "end" in period:
        fail(f"The period (K5–K6) is {period}, expected start {params['start']} and no end.",
             "Send period.start from the vedtak; leave period.end out until the vedtak ends.")
    review = (_ext(resource, "revurderingsdato") or {}).get("valueDate")
    if review != params["review_date"]:
        fail(f"The review date (K7, revurderingsdato) is {review!r}, expected {params['review_date']!r}.",
             f"Send the review date in the extension {EXT}revurderingsdato (valueDate).")
    org = (resource.get("managingOrganization") or {}).get("identifier", {}).get("value")
    if org != params["service_location"]["orgnr"]:
        fail(f"The service location (K9) is organisation {org!r}, expected {params['service_location']['orgnr']}.",
             "Reference the tjenestested in managingOrganization by its organisation number.")


@requirement("SK-PROD-004")
def test_only_what_the_service_needs(vedtak_run, news2_run, services: dict) -> None:
    allowed = {rt for s in services["services"].values() for rt in s["resource_types"]} | set(services["companions"])
    for record in [*vedtak_run.values(), news2_run]:
        for entry in record.entries():
            resource = entry.get("resource") or {}
            rtype, method = resource.get("resourceType"), entry.get("request", {}).get("method")
            if _ext(resource, "vedtakstekst"):
                fail(f"{record.step['step']} sent the vedtak's free text (K8, vedtakstekst) to the platform.",
                     "Keep the vedtak's free text in the EPJ: Kommunale tjenester does not share it (data minimisation).")
            if resource.get("note"):
                fail(f"{record.step['step']} sent free text in {rtype}.note.",
                     "Send only the elements of the information service; free text stays in the EPJ.")
            if method == "POST" and rtype not in allowed:
                fail(f"{record.step['step']} sent a {rtype}, which the information services do not need.",
                     f"Send only {', '.join(sorted(allowed))}: nothing beyond what the service needs.")


@requirement("SK-PROD-011")
def test_ended_vedtak_is_finished(vedtak_run) -> None:
    record = vedtak_run["end-vedtak"]
    resource = _sent(record, "EpisodeOfCare")[0]["resource"]
    end = record.step["params"]["end"]
    if resource.get("period", {}).get("end") != end:
        fail(f"The ended vedtak has period.end {resource.get('period', {}).get('end')!r}, expected {end}.",
             "Set period.end to the date the vedtak ends.")
    if resource.get("status") != "finished":
        fail(f"The ended vedtak has status {resource.get('status')!r}; an ended vedtak is 'finished'.",
             "Set EpisodeOfCare.status to finished when the vedtak ends (K3: active/inactive).")


# -- versions, idempotency, provenance, ownership ------------------------------------------

@requirement("SK-PROD-009")
def test_resend_is_idempotent(vedtak_run) -> None:
    registered = vedtak_run["register-vedtak"]
    _sent(registered, "EpisodeOfCare")
    resent = vedtak_run["resend-last"]
    _done(resent)
    _not_stored(registered, "The resend cannot be judged")
    ids_before = sorted({r["id"] for r in registered.stored})
    ids_after = sorted({r["id"] for r in resent.stored})
    if len(ids_after) != 1 or ids_after != ids_before:
        fail(f"After a resend the platform holds {len(ids_after)} vedtak with this id ({ids_after}): "
             f"the resend created a duplicate.",
             "Make creates conditional: entry.request.ifNoneExist = identifier=<system>|<vedtak id>.")


@requirement("SK-PROD-010")
def test_changes_are_new_versions(vedtak_run) -> None:
    _not_stored(vedtak_run["register-vedtak"], "The vedtak's versions cannot be judged")
    registered = vedtak_run["register-vedtak"].stored
    target = registered[0]["id"]
    previous = vedtak_run["resend-last"]
    versions = [_version(registered, target)]
    for name in ("update-vedtak", "end-vedtak"):
        record = vedtak_run[name]
        request = _sent(record, "EpisodeOfCare")[0].get("request", {})
        if request.get("method") != "PUT":
            fail(f"{name} sent the changed vedtak as a new resource ({request.get('method')} "
                 f"{request.get('url')}) instead of a new version of EpisodeOfCare/{target}.",
                 "Update with PUT EpisodeOfCare/<id> so the platform keeps one vedtak with a history.")
        if not request.get("ifMatch"):
            fail(f"{name} updated {request.get('url')} without If-Match: a concurrent change would be overwritten.",
                 'Send entry.request.ifMatch = W/"<versionId you last saw>".')
        if record.refusal():
            fail(f"{name} did not become a new version of EpisodeOfCare/{target}: {record.refusal()}.",
                 "Send the change so that the platform accepts it (its answer says what to fix).")
        if {r["id"] for r in record.stored} != {r["id"] for r in previous.stored}:
            fail(f"{name} changed the set of vedtak with this id from {sorted(r['id'] for r in previous.stored)} "
                 f"to {sorted(r['id'] for r in record.stored)}: the change became a new resource.",
                 "Update the existing resource (PUT with If-Match).")
        versions.append(_version(record.stored, target))
        previous = record
    if not versions[0] < versions[1] < versions[2]:
        fail(f"EpisodeOfCare/{target}'s versions after register, update and end are {versions}; each change "
             f"must be a new version.", "Send each change as an update of the same resource.")


def _version(stored: list[dict], rid: str) -> int:
    return next((int(r.get("meta", {}).get("versionId", 0)) for r in stored if r["id"] == rid), 0)


@requirement("SK-PROD-008")
def test_writes_carry_provenance(vedtak_run, news2_run) -> None:
    records = [*vedtak_run.values(), news2_run]
    if not any(record.intake() for record in records):
        _done(records[0])
    for record in records:           # every write that reached the intake, refused or not
        for request in record.intake():
            entries = request.entries()
            written = {e.get("fullUrl") if e.get("request", {}).get("method") == "POST" else e.get("request", {}).get("url")
                       for e in entries if e.get("resource", {}).get("resourceType") in ("EpisodeOfCare", "Observation")}
            provenances = [e["resource"] for e in entries if e.get("resource", {}).get("resourceType") == "Provenance"]
            if not provenances:
                fail(f"{record.step['step']} wrote {len(written)} resource(s) without a Provenance.",
                     "Add a Provenance (sk-provenance) to each transaction: target = the written resources, "
                     "agent.who = the source system, agent.onBehalfOf = the organisation.")
            targets = {t.get("reference") for p in provenances for t in p.get("target", [])}
            if not written <= targets:
                fail(f"The Provenance of {record.step['step']} does not target {sorted(written - targets)}.",
                     "List every resource written in the transaction in Provenance.target.")
            for p in provenances:
                if not p.get("recorded") or not any(a.get("onBehalfOf") for a in p.get("agent", [])):
                    fail(f"The Provenance of {record.step['step']} lacks recorded or agent.onBehalfOf.",
                         "Set Provenance.recorded and the organisation in agent.onBehalfOf.")


@requirement("SK-PROD-015")
def test_shared_data_stays_read_only(vedtak_run, news2_run) -> None:
    own = {f"EpisodeOfCare/{r['id']}" for r in vedtak_run["register-vedtak"].stored}
    for record in [*vedtak_run.values(), news2_run]:
        for entry in record.entries():
            request = entry.get("request", {})
            if request.get("method") in ("PUT", "PATCH", "DELETE") and request.get("url") not in own:
                fail(f"{record.step['step']} wrote {request.get('method')} {request.get('url')}, a resource that "
                     f"belongs to another source; shared data is read-only for all but its source system.",
                     "Change only resources your system created; ask the source system to correct its data.")


@requirement("SK-PROD-014")
def test_only_synthetic_identifiers(vedtak_run, news2_run) -> None:
    def walk(value, where):
        if isinstance(value, dict):
            if value.get("system") in OID_PERSON and isinstance(value.get("value"), str) \
                    and classify(value["value"]).real_looking:
                fail(f"{where} carries the real-looking fødselsnummer {value['value'][:6]}*****: the sandbox "
                     f"accepts synthetic numbers only (month + 80 or + 65).",
                     "Use the synthetic numbers of the published cohort; never real-looking national ids.")
            for key, item in value.items():
                walk(item, where)
        elif isinstance(value, list):
            for item in value:
                walk(item, where)
    for record in [*vedtak_run.values(), news2_run]:
        for request in record.intake():
            walk(request.body, f"{record.step['step']} ({request.method} {request.url})")


# -- NEWS2 -----------------------------------------------------------------------------------

def _by_code(entries: list[dict]) -> dict[str, dict]:
    out = {}
    for entry in entries:
        coding = (entry["resource"].get("code", {}).get("coding") or [{}])[0]
        out[f"{coding.get('system')}|{coding.get('code')}"] = entry
    return out


@requirement("SK-PROD-012")
def test_news2_measurements_match(news2_run) -> None:
    scenario = load_scenario("producer-news2")
    m = scenario["steps"][0]["params"]["measurements"]
    sent = _by_code(_sent(news2_run, "Observation"))
    spec = scenario["observations"]
    expected_values = {"respiratory_rate": m["respiratory_rate"], "spo2": m["spo2"], "pulse": m["pulse"],
                       "temperature": m["temperature"]}
    for name, want in spec.items():
        if name == "score":
            continue
        entry = sent.get(want["code"])
        if entry is None:
            fail(f"The NEWS2 set lacks the {name} measurement ({want['code']}).",
                 "Send all seven NEWS2 measurements as Observations with the guide's codes.")
        obs = entry["resource"]
        if name in expected_values:
            quantity = obs.get("valueQuantity", {})
            if quantity.get("code") != want["unit"]:
                fail(f"The {name.replace('_', ' ')} is sent in {quantity.get('code')!r}, expected UCUM {want['unit']!r}.",
                     f"Send {name} as valueQuantity with system http://unitsofmeasure.org and code {want['unit']}.")
            if quantity.get("value") != expected_values[name]:
                fail(f"The {name.replace('_', ' ')} is {quantity.get('value')}, the nurse recorded {expected_values[name]}.",
                     "Send the recorded value unchanged.")
        if name == "blood_pressure":
            comps = {c["code"]["coding"][0]["code"]: c.get("valueQuantity", {}) for c in obs.get("component", [])}
            if comps.get("8480-6", {}).get("value") != m["systolic"] or comps.get("8480-6", {}).get("code") != "mm[Hg]":
                fail(f"The systolic pressure is {comps.get('8480-6')}, expected {m['systolic']} mm[Hg].",
                     "Send systolic (8480-6) and diastolic (8462-4) as components in mm[Hg].")


@requirement("SK-PROD-013")
def test_news2_score_is_right_and_derived(news2_run) -> None:
    scenario = load_scenario("producer-news2")
    entries = _sent(news2_run, "Observation")
    sent = _by_code(entries)
    score_entry = sent.get(scenario["observations"]["score"]["code"])
    if score_entry is None:
        fail("The NEWS2 set has no score Observation (news2#total).",
             "Send the NEWS2 total with its seven sub-scores as an Observation (sk-news2-score).")
    score = score_entry["resource"]
    expect = scenario["expect"]
    if score.get("valueInteger") != expect["total"]:
        fail(f"The NEWS2 total is {score.get('valueInteger')}, but the measurements score {expect['total']}.",
             "Compute the total as the sum of the seven sub-scores of the NEWS2 chart.")
    subscores = {c["code"]["coding"][0]["code"]: c.get("valueInteger") for c in score.get("component", [])}
    if subscores != expect["subscores"]:
        fail(f"The NEWS2 sub-scores are {subscores}, expected {expect['subscores']}.",
             "Send the seven sub-scores as components with the news2 codes.")
    measurements = {e["fullUrl"] for e in entries if e is not score_entry}
    derived = {d.get("reference") for d in score.get("derivedFrom", [])}
    if len(derived & measurements) < 7:
        fail(f"The NEWS2 score's derivedFrom references {len(derived & measurements)} of the 7 measurements "
             "sent with it.", "Reference the seven measurements in derivedFrom: the score is of little use "
             "without them.")


# -- HelseID and DPoP --------------------------------------------------------------------------

@requirement("SK-PROD-005")
def test_intake_calls_use_dpop(vedtak_run, news2_run) -> None:
    evidence.check_dpop_scheme(_producer_requests(vedtak_run, news2_run), "Producer",
                               "Call the platform with Authorization: DPoP <token> and a fresh DPoP proof "
                               "on every request (conformance.auth.HelseIdAuth shows how).")


@requirement("SK-PROD-006")
def test_dpop_proofs_are_fresh_and_bound(vedtak_run, news2_run) -> None:
    evidence.check_proofs(_producer_requests(vedtak_run, news2_run), "Producer",
                          "Make a new proof for every request: new jti, current iat, htm/htu of the request, "
                          "ath of the token, signed with the token's DPoP key.")


@requirement("SK-PROD-007")
def test_tokens_are_valid_for_writing_to_the_service(vedtak_run, news2_run, services: dict) -> None:
    audience = services["audience"]
    need = {"EpisodeOfCare": f"{audience}/kommunale-tjenester.write",
            "Observation": f"{audience}/news2-malinger.write"}
    for record in [*vedtak_run.values(), news2_run]:
        for request in record.intake():
            claims = evidence.token_claims(evidence.authorization(request)[1])
            aud = claims.get("aud")
            if audience not in (aud if isinstance(aud, list) else [aud]):
                fail(f"The token used for the intake has audience {aud!r}, not {audience}: it was issued for "
                     f"another API.", f"Ask HelseID for the platform's scopes ({audience}/…).")
            exp = claims.get("exp")
            if request.time is not None and isinstance(exp, (int, float)) and exp <= request.time:
                fail(f"{record.step['step']} reached the intake with a token that had expired "
                     f"{request.time - exp:.0f} s before: a stale token kept past its exp.",
                     "Renew the access token before it expires (conformance.auth.HelseIdAuth renews 30 s early).")
            granted = evidence.scopes(claims)
            for entry in request.entries():
                scope = need.get(entry.get("resource", {}).get("resourceType"))
                if scope and scope not in granted:
                    fail(f"{record.step['step']} wrote with a token whose scope is {sorted(granted)}; writing "
                         f"needs {scope}.", f"Ask HelseID for {scope} for the producer.")
