"""The platform rules: read-only shared data, patient consistency, sperring, restricted notes, the
real-data guard, data minimisation. Each refusal is an Issue with a rule id and a concrete fix.

What a caller may see is decided here once and used by every way data leaves the platform: read,
vread, history, search, _include/_revinclude, the event feed and Subscription notifications.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

from conformance.validator import Issue
from mock_platform.errors import FhirError
from mock_platform.searchparams import normalize_reference, reference_of, registry
from mock_platform.storage import Actor, AuditRow, Block, Stored, Write, owned_by_r
from synthetic_data.identifiers import OID_DNR, OID_FNR, OID_HPR, OID_ORGNR, classify

CLIENT_SYSTEM = "https://sandkasse.no/fhir/sid/helseid-client"
SPERRING_SCOPE = "patient-privacy"
VEDTAKSTEKST = "https://sandkasse.no/fhir/StructureDefinition/vedtakstekst"
PERSON_TYPES = ("Patient", "RelatedPerson", "Practitioner")
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
RESTRICTED = "R"                     # v3-Confidentiality#R: an internal-only note (sk-documentreference)
SECURITY_PARAM = "_security"         # the search parameter that indexes meta.security


# Real-data guard -------------------------------------------------------------------------------

def real_data_issues(resource: dict, where: str) -> list[Issue]:
    """A national ID that is not synthetic (month + 80 / + 65) must never enter the sandbox."""
    if resource.get("resourceType") not in PERSON_TYPES:
        return []
    issues = []
    for index, identifier in enumerate(resource.get("identifier") or []):
        if not isinstance(identifier, dict) or identifier.get("system") not in (OID_FNR, OID_DNR):
            continue
        value = identifier.get("value")
        if isinstance(value, str) and classify(value).real_looking:
            issues.append(Issue(
                "error", "security", "The identifier looks like a real national identity number; "
                "sandkasse accepts synthetic data only.", f"{where}.identifier[{index}].value",
                rule="sk-platform-real-data-guard",
                fix="Use a synthetic fødselsnummer (birth month + 80, Tenor; or + 65, NHN) with valid "
                    "mod-11 check digits, e.g. from `sandkasse cohort`."))
    return issues


# Source-system ownership and patient consistency --------------------------------------------------

class ReadOnlyRefusal(FhirError):
    """A write to another source system's data (403). The attempt is itself audited, as an access
    to the patient's data that was refused: `audit` says by whom, to what and whose."""

    def __init__(self, issue: Issue, audit: AuditRow):
        super().__init__(403, issue)
        self.audit = audit


def ownership_check(actor: Actor) -> Callable[[Write, Stored | None], None]:
    """The check run inside the write transaction against each resource's current version."""
    def check(write: Write, current: Stored | None) -> None:
        where = write.location or write.rtype
        if current is None or current.deleted:
            if write.if_match is not None and write.if_match != (current.version if current else 0):
                raise _precondition(write, current, where)
            return
        if current.source != actor.client_id:
            action = "delete" if write.method == "DELETE" else "update"
            message = (f"{write.rtype}/{write.rid} belongs to source system '{current.source}'; shared data is "
                       f"read-only for everyone else (caller: '{actor.client_id}').")
            raise ReadOnlyRefusal(Issue(
                "error", "forbidden", message, where, rule="sk-platform-read-only",
                fix=f"Do not {action} another system's data. Ask the source system to correct it, or record your "
                    f"own information as a new resource (with your own id) that references it."),
                AuditRow(action, write.rtype, write.rid, current.patient, "4", message))
        if write.if_match is not None and write.if_match != current.version:
            raise _precondition(write, current, where)
        new_patient = write.index.patient if write.index else None
        if write.method != "DELETE" and current.patient and new_patient != current.patient:
            raise FhirError(422, Issue(
                "error", "business-rule",
                f"{write.rtype}/{write.rid} is documented on {current.patient}; this update moves it to "
                f"{new_patient or 'no patient'}.", where, rule="sk-platform-patient-consistency",
                fix="Keep the patient reference of an existing resource. If it was recorded on the wrong "
                    "patient, delete it and create a new resource on the right one."))
    return check


def _precondition(write: Write, current: Stored | None, where: str) -> FhirError:
    version = current.version if current and not current.deleted else 0
    return FhirError(412, Issue(
        "error", "conflict", f"If-Match version {write.if_match} does not match the current version "
        f"{version} of {write.rtype}/{write.rid}.", where, rule="sk-platform-version-conflict",
        fix="Read the resource again, apply your change to the current version and send its ETag in If-Match."))


def patient_consistency(entries: list[tuple[str, str | None]], known_patient: Callable[[str], bool]) -> list[Issue]:
    """All patient data in one write names one patient, and that patient exists.

    entries: (location, "Patient/<id>" or None) for every resource in the write.
    """
    issues = []
    patients = {p for _, p in entries if p}
    if len(patients) > 1:
        first = next(p for _, p in entries if p)
        for where, patient in entries:
            if patient and patient != first:
                issues.append(Issue(
                    "error", "business-rule", f"This entry documents on {patient}, but the same write documents "
                    f"on {first}; one write must concern one patient.", where,
                    rule="sk-platform-patient-consistency",
                    fix="Send each patient's information in its own transaction Bundle, and check that every "
                        "subject/patient reference names that patient."))
    for patient in sorted(patients):
        if not known_patient(patient):
            where = next(w for w, p in entries if p == patient)
            issues.append(Issue(
                "error", "not-found", f"{patient} does not exist in this tenant.", where,
                rule="sk-platform-patient-consistency",
                fix="Create the Patient first (or in the same transaction) and reference it by its id."))
    return issues


# Sperring -------------------------------------------------------------------------------------------

def actor_keys(actor: Actor) -> list[tuple[str, str]]:
    keys = [("client", actor.client_id)]
    if actor.organisation:
        keys.append(("org", actor.organisation))
    if actor.user_hpr:
        keys.append(("hpr", actor.user_hpr))
    return keys


def blocks_of(consent: dict, resolve: Callable[[str], dict | None]) -> list[Block]:
    """Block rows for an active sperring Consent (scope patient-privacy, provision.type deny).

    The blocked party is provision.actor[].reference: an identifier (organisasjonsnummer, HPR
    number, or HelseID client id in CLIENT_SYSTEM), or a reference to an Organization or
    Practitioner whose identifier is used. provision.class (resource types) and provision.data
    (single resources) narrow what is blocked; with neither, all the patient's data is.
    """
    if consent.get("status") != "active":
        return []
    scope = {code for _, code in _codes(consent.get("scope"))}
    provision = consent.get("provision") or {}
    if SPERRING_SCOPE not in scope or provision.get("type") != "deny":
        return []
    patient = reference_of(consent.get("patient"))
    if not patient:
        return []
    classes = tuple(c.get("code") for c in provision.get("class") or [] if isinstance(c, dict) and c.get("code"))
    refs = tuple(r for r in (reference_of(d.get("reference")) for d in provision.get("data") or []
                             if isinstance(d, dict)) if r)
    narrow_classes = classes or None
    narrow_refs = refs or None
    if narrow_classes is None and narrow_refs is not None:
        narrow_classes = ()
    if narrow_refs is None and narrow_classes is not None:
        narrow_refs = ()
    blocks = []
    for actor in provision.get("actor") or []:
        for kind, value in _party(actor.get("reference") if isinstance(actor, dict) else None, resolve):
            blocks.append(Block(f"Consent/{consent.get('id')}", patient, kind, value, narrow_classes, narrow_refs))
    return blocks


def _codes(concept: object) -> list[tuple[str | None, str]]:
    if not isinstance(concept, dict):
        return []
    return [(c.get("system"), c.get("code")) for c in concept.get("coding") or [] if isinstance(c, dict)]


_KIND_BY_SYSTEM = {OID_ORGNR: "org", OID_HPR: "hpr", CLIENT_SYSTEM: "client"}


def _party(reference: object, resolve: Callable[[str], dict | None]) -> list[tuple[str, str]]:
    if not isinstance(reference, dict):
        return []
    identifiers = [reference["identifier"]] if isinstance(reference.get("identifier"), dict) else []
    if isinstance(reference.get("reference"), str):
        target = resolve(normalize_reference(reference["reference"]))
        identifiers += [i for i in (target or {}).get("identifier") or [] if isinstance(i, dict)]
    return [(_KIND_BY_SYSTEM[i["system"]], i["value"]) for i in identifiers
            if i.get("system") in _KIND_BY_SYSTEM and isinstance(i.get("value"), str)]


def blocking(blocks: list[Block], rtype: str, rid: str, patient: str | None) -> Block | None:
    """The block that hides this resource from the caller, if any. The Patient resource itself
    stays visible, so that the caller can be told that something about the patient is withheld."""
    if patient is None or rtype == "Patient":
        return None
    for block in blocks:
        if block.patient != patient:
            continue
        if block.classes is None and block.refs is None:
            return block
        if rtype in (block.classes or ()) or f"{rtype}/{rid}" in (block.refs or ()):
            return block
    return None


def block_filter(blocks: list[Block]) -> tuple[str, list] | None:
    """The SQL fragment over `resources r` that excludes what the blocks hide (None: nothing)."""
    parts, args = [], []
    for block in blocks:
        if block.classes is None and block.refs is None:
            parts.append("(r.patient=? AND r.type<>'Patient')")
            args.append(block.patient)
            continue
        if block.classes:
            parts.append(f"(r.patient=? AND r.type IN ({','.join('?' * len(block.classes))}))")
            args += [block.patient, *block.classes]
        for ref in block.refs or ():
            rtype, _, rid = ref.partition("/")
            parts.append("(r.type=? AND r.id=?)")
            args += [rtype, rid]
    if not parts:
        return None
    return f"NOT ({' OR '.join(parts)})", args


def withheld_issue(count: int, what: str) -> Issue:
    return Issue("warning", "suppressed",
                 f"{count} {what} withheld: the patient has a block (sperring) against you (your "
                 f"organisation, user or system).", rule="sk-platform-sperring",
                 fix="Tell the user that information is withheld by the patient's sperring; do not present "
                     "the result as complete. Access needs the patient's consent or an emergency basis.")


# Restricted notes -----------------------------------------------------------------------------------
#
# A note labelled meta.security v3-Confidentiality#R is internal-only (the guide, sk-documentreference:
# "not shared with external consumers"): it stays inside the organisation that wrote it. It is
# shown to its source system and to callers acting for the organisation the version was written
# for (the organisation of the writing event: another system of the same organisation is not
# external); everyone else has it withheld and is told so, as with sperring. The rule covers the
# types whose search parameters index meta.security (`_security` in data/search_parameters.toml),
# so that a search leaves them out in SQL, not after paging.

@cache
def restricted_types() -> frozenset[str]:
    return frozenset(name for name, info in registry().items() if SECURITY_PARAM in info.params)


def is_restricted(resource: dict | None) -> bool:
    meta = resource.get("meta") if isinstance(resource, dict) else None
    labels = meta.get("security") if isinstance(meta, dict) else None
    return isinstance(labels, list) and any(
        isinstance(label, dict) and label.get("system") == CONFIDENTIALITY and label.get("code") == RESTRICTED
        for label in labels)


def labelled_elsewhere(actor: Actor, rtype: str, resource: dict | None, source: str | None) -> bool:
    """An internal-only note of another source system (whether the caller's organisation wrote it
    is the second question)."""
    return rtype in restricted_types() and source != actor.client_id and is_restricted(resource)


def restricted_for(actor: Actor, rtype: str, resource: dict | None, source: str | None,
                   organisation: str | None) -> bool:
    """True if this version is an internal-only note the caller is outside of: another source
    system, written for another organisation (`organisation`: the writing event's). Without an
    organisation (only under the development flag) callers count as one organisation, as the
    HelseID demo's two systems of one municipality do."""
    return labelled_elsewhere(actor, rtype, resource, source) and organisation != actor.organisation


def _written_for(version_sql: str, organisation: str | None) -> tuple[str, list]:
    """SQL over `resources r`: the version was written (an event) for this organisation."""
    match, args = ("e.organisation IS NULL", []) if organisation is None else ("e.organisation=?", [organisation])
    return (f"EXISTS (SELECT 1 FROM history h JOIN events e ON e.tenant=h.tenant AND e.seq=h.seq WHERE "
            f"h.tenant=r.tenant AND h.type=r.type AND h.id=r.id AND h.version={version_sql} AND {match})", args)


def restricted_filter(actor: Actor) -> tuple[str, list]:
    """The SQL fragment over `resources r` that leaves out internal-only notes the caller is outside of."""
    written, args = _written_for("r.version", actor.organisation)
    return (f"NOT (EXISTS (SELECT 1 FROM tokens t WHERE {owned_by_r('t')} "
            f"AND t.param=? AND t.system=? AND t.value=?) AND NOT ((r.source IS NOT NULL AND r.source=?) "
            f"OR {written}))", [SECURITY_PARAM, CONFIDENTIALITY, RESTRICTED, actor.client_id, *args])


def restricted_issue(count: int, what: str) -> Issue:
    return Issue("warning", "suppressed",
                 f"{count} {what} withheld: internal-only notes (meta.security {RESTRICTED}, restricted) are shown "
                 f"only inside the organisation that wrote them.", rule="sk-platform-restricted",
                 fix=RESTRICTED_FIX)


RESTRICTED_FIX = ("Tell the user that internal notes of another organisation exist and are not shared; ask the "
                  "documenting service if the information is needed. Do not present the list as complete.")


# What a caller may see ---------------------------------------------------------------------------------

class Visibility:
    """What one caller may see in one tenant: the patient's sperring and other organisations'
    internal-only notes. Made once per request (or per notification) and asked per resource, or
    turned into SQL for a search."""

    def __init__(self, store, tenant: str, actor: Actor) -> None:
        self.store, self.tenant, self.actor = store, tenant, actor
        self.blocks: list[Block] = store.blocks_for(tenant, actor_keys(actor))

    def withheld(self, stored: Stored) -> str | None:
        """Why this stored version is withheld ('sperring' or 'restricted'), or None."""
        rtype, rid = stored.resource["resourceType"], stored.resource["id"]
        if blocking(self.blocks, rtype, rid, stored.patient):
            return "sperring"
        if labelled_elsewhere(self.actor, rtype, stored.resource, stored.source) \
                and not self._written_for_caller(rtype, rid, stored.version):
            return "restricted"
        return None

    def _written_for_caller(self, rtype: str, rid: str, version: int) -> bool:
        # Rare (a restricted note read by another system): ask the hendelseslager which organisation
        # the version was written for (a deleted note's versions too).
        exists, organisation = self.store.written_for(self.tenant, rtype, rid, version)
        return exists and organisation == self.actor.organisation

    def filters(self, rtype: str) -> list[tuple[str, tuple[str, list]]]:
        """(reason, SQL fragment over `resources r`) for each rule that hides data of this type."""
        filters = []
        hide = block_filter(self.blocks)
        if hide is not None:
            filters.append(("sperring", hide))
        if rtype in restricted_types():
            filters.append(("restricted", restricted_filter(self.actor)))
        return filters


def withheld_issues(counts: dict[str, int], what: str) -> list[Issue]:
    """The notices for what was withheld, one per reason: {'sperring': n, 'restricted': m}."""
    makers = {"sperring": withheld_issue, "restricted": restricted_issue}
    return [makers[reason](count, what) for reason, count in counts.items() if count]


# Data minimisation ---------------------------------------------------------------------------------

def present(stored: Stored, actor: Actor) -> dict:
    """What a caller sees of a stored resource: the vedtak's free text (K8) only for its source."""
    resource = stored.resource
    if resource.get("resourceType") == "EpisodeOfCare" and stored.source != actor.client_id:
        extensions = resource.get("extension")
        if extensions and any(e.get("url") == VEDTAKSTEKST for e in extensions if isinstance(e, dict)):
            resource = dict(resource, extension=[e for e in extensions
                                                 if not (isinstance(e, dict) and e.get("url") == VEDTAKSTEKST)])
            if not resource["extension"]:
                del resource["extension"]
    return resource
