"""Mock HelseID authorization server (discovery, JWKS, token endpoint) at /helseid.

What it checks mirrors HelseID: client authentication with private_key_jwt only, DPoP on
every token request with the nonce exchange (first call: 400 use_dpop_nonce + DPoP-Nonce),
tokens bound to the DPoP key (cnf.jkt). Token endpoint errors are OAuth errors
({"error", "error_description"}, RFC 6749 §5.2, what OAuth clients parse) in the same body as
an OperationOutcome (what every sandkasse error is); the admin and test-token endpoints answer
with plain OperationOutcomes like the rest of the platform.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, jsonify, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from conformance.auth import dpop
from conformance.validator import Issue, operation_outcome
from mock_platform.errors import FhirError
from mock_platform.helseid import clients, issuing, keys, testtokens
from mock_platform.security import proofs, tenants
from mock_platform.security.redaction import install as install_redaction
from mock_platform.security.scopes import policy
from synthetic_data.identifiers import classify

bp = Blueprint("helseid", __name__, url_prefix="/helseid")
bp.record_once(lambda state: install_redaction(state.app))

ASSERTION_JTI_NAMESPACE = "helseid.assertion-jti"
NONCE_NAMESPACE = "helseid.dpop-nonce"
REPLAY_NAMESPACE = "helseid.dpop-jti"
ASSERTION_MAX_LIFETIME = 120      # seconds between an assertion's iat and exp
ASSERTION_TYPES = ("client-authentication+jwt", "JWT")


def _storage():
    return current_app.extensions["sandkasse.storage"]


def issuer() -> str:
    from mock_platform.security import issuer_url
    return issuer_url(request)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    base = issuer()
    return jsonify({
        "issuer": base,
        "jwks_uri": f"{base}/jwks",
        "token_endpoint": f"{base}/connect/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(dpop.ALGORITHMS),
        "dpop_signing_alg_values_supported": list(dpop.ALGORITHMS),
        "scopes_supported": policy().all_scopes(),
        "authorization_details_types_supported": ["helseid_authorization", issuing.TILLITSRAMMEVERK],
        "claims_supported": ["helseid://claims/client/client_name", "helseid://claims/client/claims/orgnr_parent",
                             "helseid://claims/client/claims/orgnr_child", "helseid://claims/identity/pid",
                             "helseid://claims/hpr/hpr_number", "helseid://claims/identity/security_level"],
    })


@bp.get("/jwks")
def jwks() -> Response:
    return jsonify(keys.public_jwks(_storage()))


# -- token endpoint ---------------------------------------------------------------------------

class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, headers or {}


# What to do about each OAuth error, for the OperationOutcome's fix.
_OAUTH_FIX = {
    "use_dpop_nonce": "Repeat the request with the DPoP-Nonce header's value as `nonce` in a new DPoP proof.",
    "invalid_dpop_proof": "Send a fresh DPoP proof (typ dpop+jwt, jwk, htm POST, htu = token endpoint, iat, jti).",
    "invalid_client": "Authenticate with a new private_key_jwt assertion signed by the registered key.",
    "invalid_scope": "Request only scopes the client is registered for.",
    "invalid_request": "Correct the request as the description says.",
    "unsupported_grant_type": "Use grant_type=client_credentials.",
}


@bp.errorhandler(OAuthError)
def _oauth_error(error: OAuthError) -> Response:
    """An OAuth error response (RFC 6749 §5.2: `error`, `error_description`, application/json)
    that is also the project's OperationOutcome, so OAuth clients and FHIR tooling both read it."""
    current_app.logger.info("helseid token endpoint refused: %s: %s", error.error, error.description)
    issue = Issue("error", "login" if error.status == 401 else "invalid", error.description,
                  rule=f"helseid-{error.error}", fix=_OAUTH_FIX.get(error.error))
    body = {**operation_outcome([issue]), "error": error.error, "error_description": error.description}
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/connect/token")
def token() -> Response:
    storage = _storage()
    try:
        jkt = proofs.verify_proof(request.headers.get("DPoP"), "POST", request.url, storage,
                                  replay_namespace=REPLAY_NAMESPACE, nonce_namespace=NONCE_NAMESPACE)
    except proofs.ProofError as error:
        headers = {"DPoP-Nonce": error.nonce} if error.nonce else {}
        raise OAuthError(400, error.error, f"{error.description} Fix: {error.fix}", headers)
    form = request.form
    if form.get("grant_type") != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported here.")
    if form.get("client_assertion_type") != dpop.ASSERTION_TYPE or not form.get("client_assertion"):
        raise OAuthError(401, "invalid_client", "Authenticate with private_key_jwt: send client_assertion_type "
                                                f"{dpop.ASSERTION_TYPE} and a signed client_assertion.")
    client, assertion = _authenticate(storage, form["client_assertion"], form.get("client_id"))
    requested = form.get("scope", "").split()
    if not requested or set(requested) - set(client.scopes):
        raise OAuthError(400, "invalid_scope", f"Request scopes this client is registered for: {' '.join(client.scopes)}.")
    details = assertion.get("assertion_details") or []
    try:
        parent, child = issuing.select_organisation(client, details)
        purpose = issuing.purpose_details(details, policy().purpose_codes, policy().purpose_system)
    except issuing.OrganisationError as error:
        raise OAuthError(400, "invalid_request", str(error))
    claims = issuing.access_token_claims(issuer=issuer(), audience=policy().audience, client_id=client.client_id,
                                         client_name=client.client_name, scopes=requested, parent=parent,
                                         child=child, tenancy=client.tenancy, jkt=jkt,
                                         authorization_details=purpose)
    response = jsonify({"access_token": issuing.sign(storage, claims), "token_type": "DPoP",
                        "expires_in": issuing.TOKEN_LIFETIME, "scope": " ".join(requested)})
    response.headers["Cache-Control"] = "no-store"
    return response


def _authenticate(storage, assertion: str, form_client_id: str | None):
    """Verify the private_key_jwt client assertion; return (client, its claims)."""
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        header, unverified = compact.headers(), json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise OAuthError(401, "invalid_client", "The client_assertion is not a compact JWS.")
    # Only to find the client whose key verifies it; nothing unverified is trusted beyond that.
    client_id = form_client_id or (unverified.get("iss") if isinstance(unverified, dict) else None)
    client = clients.lookup(storage, str(client_id)) if client_id else None
    if client is None:
        raise OAuthError(401, "invalid_client", f"Unknown client {client_id!r}. Register it first "
                                                "(sandkasse client register).")
    if header.get("alg") not in dpop.ALGORITHMS or header.get("typ", "JWT") not in ASSERTION_TYPES:
        raise OAuthError(401, "invalid_client", f"The assertion's alg/typ must be one of {list(dpop.ALGORITHMS)} "
                                                f"and {list(ASSERTION_TYPES)}.")
    try:
        claims = jwt.decode(assertion, KeySet.import_key_set({"keys": client.jwks}), algorithms=[header["alg"]]).claims
    except (JoseError, ValueError):
        raise OAuthError(401, "invalid_client", "The client_assertion's signature does not verify with the "
                                                "client's registered key. Sign it with the registered private key.")
    _check_assertion(storage, client.client_id, claims)
    return client, claims


def _check_assertion(storage, client_id: str, claims: dict) -> None:
    now = time.time()
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise OAuthError(401, "invalid_client", "The assertion's iss and sub must both be the client_id.")
    aud = claims.get("aud")
    if issuer() not in (aud if isinstance(aud, list) else [aud]):
        raise OAuthError(401, "invalid_client", f"The assertion's aud must be the issuer {issuer()}.")
    exp, iat, jti = claims.get("exp"), claims.get("iat", claims.get("nbf")), claims.get("jti")
    if not isinstance(exp, (int, float)) or exp < now - proofs.CLOCK_LEEWAY:
        raise OAuthError(401, "invalid_client", "The client assertion has expired; make a new one for each request.")
    if not isinstance(iat, (int, float)) or iat > now + proofs.CLOCK_LEEWAY or exp - iat > ASSERTION_MAX_LIFETIME:
        raise OAuthError(401, "invalid_client", f"The assertion needs iat (not in the future) and a short life "
                                                f"(exp - iat <= {ASSERTION_MAX_LIFETIME} s).")
    if not isinstance(jti, str) or not jti:
        raise OAuthError(401, "invalid_client", "The assertion needs a unique jti.")
    ttl = max(exp - now, 0) + proofs.CLOCK_LEEWAY + 1
    if not storage.kv_add_if_absent(ASSERTION_JTI_NAMESPACE, f"{client_id}:{jti}", ttl):
        raise OAuthError(401, "invalid_client", "The assertion was already used (replayed jti); "
                                                "make a new assertion with a fresh jti for every token request.")


_TEST_TOKEN_FIELDS = {"client_id": str, "htm": str, "htu": str, "jkt": str, "scopes": list,
                      "organisation": dict, "purpose_of_use": str, "user": dict}


def _check_test_token_request(body: dict) -> None:
    for name, kind in _TEST_TOKEN_FIELDS.items():
        if body.get(name) is not None and not isinstance(body[name], kind):
            raise _bad_request(f"{name} must be a {kind.__name__}.", expression=name,
                               fix="See docs/security.md (broken-token service) for the request fields.")
    if body.get("scopes") is not None and not all(isinstance(s, str) for s in body["scopes"]):
        raise _bad_request("scopes must be a list of strings.", expression="scopes")
    if body.get("organisation") and not all(isinstance(v, (str, type(None))) for v in body["organisation"].values()):
        raise _bad_request("organisation.parent and .child must be organisation numbers.", expression="organisation")


def _check_user(user: object) -> None:
    """A user token names a synthetic person: never a real-looking national identity number."""
    pid = user.get("pid") if isinstance(user, dict) else None
    if not isinstance(pid, str) or not classify(pid).synthetic:
        raise _bad_request("user.pid must be a synthetic fødselsnummer or D-nummer (month + 80 or + 65).",
                           expression="user.pid", fix="Use a person from the synthetic cohort.")
    hpr = user.get("hpr_number")
    if hpr is not None and not (isinstance(hpr, str) and hpr.isdigit()):
        raise _bad_request("user.hpr_number must be digits.", expression="user.hpr_number",
                           fix="Use a synthetic HPR number from the cohort's practitioners.")


# -- sandbox self-service: register clients and tenants' organisations ---------------------------

def _bad_request(message: str, expression: str | None = None, fix: str | None = None) -> FhirError:
    return FhirError(400, Issue("error", "invalid", message, expression=expression, fix=fix))


@bp.post("/admin/clients")
def register_client() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _bad_request("Send the registration as JSON.", fix='{"client_name", "jwk", "scopes", "organisation"}')
    try:
        client = clients.register(_storage(), body, policy().all_scopes())
    except clients.RegistrationError as error:
        field, _, message = str(error).partition(": ")
        raise _bad_request(message or field, expression=field, fix="Correct this field and register again.")
    response = jsonify({"client_id": client.client_id, "client_name": client.client_name, "scopes": client.scopes,
                        "organisations": client.organisations, "tenancy": client.tenancy, "issuer": issuer(),
                        "token_endpoint": f"{issuer()}/connect/token"})
    response.status_code = 201
    return response


@bp.put("/admin/tenants/<tenant>")
def register_tenant_organisations(tenant: str) -> Response:
    if _storage().get_tenant(tenant) is None:
        raise FhirError(404, Issue("error", "not-found", f"Unknown tenant '{tenant}'.",
                                   fix="Use a kommunenummer the platform serves."))
    body = request.get_json(silent=True)
    organisations = body.get("organisations") if isinstance(body, dict) else None
    if not isinstance(organisations, list) or not organisations:
        raise _bad_request("Send {\"organisations\": [orgnr, ...]}.", expression="organisations")
    merged = tenants.allow_organisations(_storage(), tenant, [str(o) for o in organisations],
                                         current_app.config.get("TENANT_ORGANISATIONS"))
    return jsonify({"tenant": tenant, "organisations": merged})


@bp.post("/test-tokens")
def test_tokens() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("kind", "valid") not in testtokens.KINDS:
        raise _bad_request("Unknown or missing kind.", expression="kind",
                           fix=f"Use one of: {', '.join(testtokens.KINDS)}.")
    client = None
    if body.get("client_id"):
        client = clients.lookup(_storage(), str(body["client_id"]))
        if client is None:
            raise FhirError(404, Issue("error", "not-found", f"Unknown client {body['client_id']!r}.",
                                       expression="client_id", fix="Register the client first."))
    _check_test_token_request(body)
    user = body.get("user")
    if user is not None:
        _check_user(user)
    read_scopes = [s for s in policy().all_scopes() if s.endswith(".read")]
    return jsonify(testtokens.create(_storage(), body, issuer=issuer(), audience=policy().audience,
                                     default_scopes=read_scopes, client=client))
