"""Who is calling: the resource-server side of HelseID, applied to every platform request.

`authorize` returns the caller's AccessContext or raises FhirError(401/403). With the
documented development flag `PlatformConfig(auth="off-dev")` the checks are skipped and the
caller is the fixed development client below; that flag is the only way to switch them off.

In "helseid" mode every request needs `Authorization: DPoP <token>` and a `DPoP` proof:
the token is checked (signature by the sandbox HelseID, iss, aud, exp/nbf/iat, cnf.jkt),
then the proof (typ, alg, signature, htm, htu, iat, ath, jti replay, key = cnf.jkt), then
what the caller may do here: scope for the information service and action (scopes.toml),
organisation allowed in the tenant, and a purpose of use for patient data. See docs/security.md.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Request, current_app, g
from flask import request as flask_request

from conformance.validator import Issue
from mock_platform.errors import FhirError
from mock_platform.security import proofs, public_url, tenants
from mock_platform.security.scopes import policy

DEV_CLIENT = "sandkasse-dev-client"
REPLAY_NAMESPACE = "platform.dpop-jti"
NONCE_NAMESPACE = "platform.dpop-nonce"
RULE = "sandkasse-security"                 # rule ids: sandkasse-security-<check>

CLAIM_CLIENT_NAME = "helseid://claims/client/client_name"
CLAIM_ORGNR_PARENT = "helseid://claims/client/claims/orgnr_parent"
CLAIM_ORGNR_CHILD = "helseid://claims/client/claims/orgnr_child"
CLAIM_PID = "helseid://claims/identity/pid"
CLAIM_HPR = "helseid://claims/hpr/hpr_number"
TILLITSRAMMEVERK = "nhn:tillitsrammeverk:parameters"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessContext:
    client_id: str                 # the calling system (HelseID client)
    organisation: str | None       # organisation number the call is made on behalf of
    scopes: frozenset[str]
    purpose_of_use: str | None     # why patient data is accessed (recorded in the audit log)
    user_pid: str | None = None    # the person behind the call, for user tokens
    user_hpr: str | None = None
    development: bool = False
    client_name: str | None = None
    parent_organisation: str | None = None   # orgnr_parent (the legal entity) when organisation is a child
    token_id: str | None = None              # the token's jti, for the audit trail (never the token)


def authorize(request: Request, tenant: str, resource_type: str | None, action: str,
              auth_mode: str) -> AccessContext:
    """action is "read" or "write"."""
    if auth_mode == "off-dev":
        return AccessContext(client_id=request.headers.get("X-Sandkasse-Dev-Client", DEV_CLIENT),
                             organisation=request.headers.get("X-Sandkasse-Dev-Org"),
                             scopes=frozenset({"*"}),
                             purpose_of_use=request.headers.get("X-Sandkasse-Dev-Purpose", "TREAT"),
                             development=True)
    if auth_mode != "helseid":
        # An unknown mode must never fall open.
        raise _unauthorized("server", f"Unknown AUTH_MODE {auth_mode!r}; requests are refused.",
                            "Start the platform with auth='helseid' (or the development flag auth='off-dev').")
    claims = _verified_claims(request)
    context = _context(claims)
    _check_scope(context, resource_type, action)
    _check_organisation(context, tenant)
    if _needs_purpose(resource_type, action) and context.purpose_of_use is None:
        raise _forbidden("purpose-of-use", "insufficient_scope",
                         "Access to patient data needs a purpose of use, and the token carries none.",
                         "Request the token with assertion_details of type nhn:tillitsrammeverk:parameters "
                         "and care_relationship.purpose_of_use (e.g. TREAT).")
    return context


def protect_fhir_api(app, blueprint: str = "fhir") -> None:
    """A safety net: authorize every request to the FHIR blueprint before its route runs, so a
    route that forgets to call `authorize` is still protected. Routes that call `authorize`
    themselves get the same verified token (the proof's jti is claimed once per request).
    `/metadata` stays public: the CapabilityStatement is how clients learn how to log in.
    With PUBLIC_BASE_URL configured, requests are checked against the URL clients use (public_url)."""
    public_url.install(app)

    @app.before_request
    def _authorize_fhir_request() -> None:
        req = flask_request
        if req.blueprint != blueprint or (req.method == "GET" and req.path.rstrip("/").endswith("/metadata")):
            return
        args = req.view_args or {}
        # POST [type]/_search and $validate only read; every other POST, PUT and DELETE writes.
        reads = req.method in ("GET", "HEAD") or req.path.rstrip("/").endswith(("/_search", "/$validate"))
        action = "read" if reads else "write"
        resource_type = args.get("rtype") or ("Bundle" if action == "write" and req.method == "POST" else None)
        g.sandkasse_access = authorize(req, args.get("tenant", ""), resource_type, action,
                                       current_app.config["AUTH_MODE"])


def _needs_purpose(resource_type: str | None, action: str) -> bool:
    """Every write stores patient data; reads need a purpose unless they are not about patients."""
    return action != "read" or policy().is_patient_data(resource_type)


# -- token and proof (once per request; the proof's jti may be claimed only once) ---------------

def _verified_claims(request: Request) -> dict:
    cached = g.get("sandkasse_token_claims")
    if cached is not None:
        return cached
    from mock_platform.security.tokens import TokenError, verify_access_token  # helseid imports us

    storage = current_app.extensions["sandkasse.storage"]
    authorization = request.headers.get("Authorization", "")
    if len(authorization) > proofs.MAX_JWT_CHARS:
        # Refused unread: a HelseID token is 1-3 KB, and parsing megabytes of base64 is the attack.
        raise _unauthorized("token", f"The Authorization header is {len(authorization)} characters long; "
                            f"more than {proofs.MAX_JWT_CHARS} are refused unread.",
                            "Send the access_token from the HelseID token response unchanged.")
    scheme, _, token = authorization.partition(" ")
    if not scheme:
        raise _unauthorized("missing-token", "The request has no access token.",
                            "Send Authorization: DPoP <access token> and a DPoP proof header.", error=None)
    if scheme.lower() == "dpop" and not token.strip():
        raise _unauthorized("missing-token", "The Authorization header names the DPoP scheme but carries no token.",
                            "Send Authorization: DPoP <access token>.")
    if scheme.lower() != "dpop":
        raise _unauthorized("dpop-scheme", f"The token was sent with the {proofs.shown(scheme, 20)} scheme; DPoP is required.",
                            "Send the token as Authorization: DPoP <token> with a DPoP proof; "
                            "Bearer tokens are not accepted.")
    token = token.strip()
    if "," in token or any(c.isspace() for c in token):
        # Two Authorization headers arrive joined by a comma; which one counts must not be a guess.
        raise _unauthorized("token", "The Authorization header carries more than one value.",
                            "Send exactly one Authorization: DPoP <token> header.")
    try:
        claims = verify_access_token(token, storage, issuer=issuer_url(request), audience=policy().audience)
    except TokenError as error:
        raise _unauthorized("token", error.description, error.fix)
    nonce_namespace = NONCE_NAMESPACE if current_app.config.get("DPOP_NONCE_AT_API") else None
    try:
        jkt = proofs.verify_proof(request.headers.get("DPoP"), request.method, request.url, storage,
                                  replay_namespace=REPLAY_NAMESPACE, access_token=token,
                                  nonce_namespace=nonce_namespace)
    except proofs.ProofError as error:
        headers = {"DPoP-Nonce": error.nonce} if error.nonce else {}
        raise _unauthorized("dpop-proof", error.description, error.fix, error=error.error, headers=headers)
    if jkt != claims["cnf"]["jkt"]:
        raise _unauthorized("dpop-binding", "The DPoP proof is signed with another key than the token is bound to.",
                            "Sign proofs with the same DPoP key you used when requesting the token.",
                            error="invalid_dpop_proof")
    g.sandkasse_token_claims = claims
    return claims


def issuer_url(request: Request) -> str:
    """The sandbox HelseID's issuer: configured, or this server's /helseid."""
    return current_app.config.get("HELSEID_ISSUER") or request.url_root.rstrip("/") + "/helseid"


def _context(claims: dict) -> AccessContext:
    scope = claims.get("scope", [])
    scopes = frozenset(scope.split() if isinstance(scope, str) else scope)
    child, parent = claims.get(CLAIM_ORGNR_CHILD), claims.get(CLAIM_ORGNR_PARENT)
    return AccessContext(client_id=str(claims.get("client_id")), organisation=child or parent,
                         scopes=scopes, purpose_of_use=purpose_of_use(claims),
                         user_pid=claims.get(CLAIM_PID), user_hpr=claims.get(CLAIM_HPR),
                         client_name=claims.get(CLAIM_CLIENT_NAME), parent_organisation=parent,
                         token_id=claims.get("jti"))


def purpose_of_use(claims: dict) -> str | None:
    """The purpose code from the token's Tillitsrammeverk authorization details, if valid."""
    details = claims.get("authorization_details") or []
    for detail in details if isinstance(details, list) else [details]:
        if isinstance(detail, dict) and detail.get("type") == TILLITSRAMMEVERK:
            purpose = (detail.get("care_relationship") or {}).get("purpose_of_use") or {}
            if purpose.get("code") in policy().purpose_codes and purpose.get("system") == policy().purpose_system:
                return purpose["code"]
    return None


# -- what the caller may do here ------------------------------------------------------------------

def check_scope(context: AccessContext, resource_type: str | None, action: str) -> None:
    """For routes that touch several resource types in one call (a transaction Bundle)."""
    if not context.development:
        _check_scope(context, resource_type, action)


def _check_scope(context: AccessContext, resource_type: str | None, action: str) -> None:
    accepted = policy().accepted_scopes(resource_type, action)
    if not accepted & context.scopes:
        wanted = " ".join(sorted(accepted))
        raise _forbidden("scope", "insufficient_scope",
                         f"The token has no scope that allows {action} of {resource_type or 'this API'}.",
                         f"Register and request one of these scopes: {wanted}.", scope=wanted)


def _check_organisation(context: AccessContext, tenant: str) -> None:
    storage = current_app.extensions["sandkasse.storage"]
    allowed = tenants.allowed_organisations(storage, tenant, current_app.config.get("TENANT_ORGANISATIONS"))
    if not ({context.organisation, context.parent_organisation} - {None}) & allowed:
        raise _forbidden("organisation", "insufficient_scope",
                         f"Organisation {context.organisation} does not act in tenant {tenant}.",
                         f"Use a client of an organisation registered for kommune {tenant}, "
                         f"or register the organisation for the tenant (PUT /helseid/admin/tenants/{tenant}).")


# -- errors: an OperationOutcome plus a WWW-Authenticate header that says the same --------------

def _www_authenticate(error: str | None, description: str, **params: str) -> str:
    parts = [f'algs="{" ".join(proofs.dpop.ALGORITHMS)}"']
    if error:
        parts.append(f'error="{error}"')
        # Printable ASCII only and short: the description may quote what the caller sent.
        safe = "".join(c if " " <= c <= "~" and c not in '"\\' else "'" if c == '"' else "?" for c in description)
        parts.append(f'error_description="{safe[:300]}"')
    parts += [f'{k}="{v}"' for k, v in params.items()]
    return "DPoP " + ", ".join(parts)


def _unauthorized(check: str, description: str, fix: str, *, error: str | None = "invalid_token",
                  headers: dict[str, str] | None = None) -> FhirError:
    log.info("refused (401, %s): %s", check, description)
    return FhirError(401, Issue("error", "login", description, rule=f"{RULE}-{check}", fix=fix),
                     headers={"WWW-Authenticate": _www_authenticate(error, description), **(headers or {})})


def _forbidden(check: str, error: str, description: str, fix: str, **params: str) -> FhirError:
    log.info("refused (403, %s): %s", check, description)
    return FhirError(403, Issue("error", "forbidden", description, rule=f"{RULE}-{check}", fix=fix),
                     headers={"WWW-Authenticate": _www_authenticate(error, description, **params)})
