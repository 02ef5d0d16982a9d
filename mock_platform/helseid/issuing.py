"""Access tokens as HelseID issues them: RS256, typ at+jwt, helseid:// claims, cnf.jkt."""
from __future__ import annotations

import time
import uuid

from joserfc import jwt

from mock_platform.helseid import keys

TOKEN_LIFETIME = 300          # seconds
ORG_SYSTEM_MULTI = "urn:oid:1.0.6523"                    # NO:ORGNR:<parent>:<child>
ORG_SYSTEM_SINGLE = "urn:oid:2.16.578.1.12.4.1.4.101"    # the child orgnr
TILLITSRAMMEVERK = "nhn:tillitsrammeverk:parameters"


class OrganisationError(ValueError):
    pass


def select_organisation(client, details: list) -> tuple[str, str | None]:
    """(orgnr_parent, orgnr_child) from the client's registration and its assertion_details,
    following HelseID.Library's OrganizationNumberCreatorFor{Single,Multi}TenantClient."""
    identifier = None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("type") == "helseid_authorization":
            identifier = (((detail.get("practitioner_role") or {}).get("organization") or {})
                          .get("identifier") or {})
    if client.tenancy == "multi":
        if not identifier or identifier.get("system") != ORG_SYSTEM_MULTI:
            raise OrganisationError("a multi-tenant client must select its organisation in assertion_details "
                                    f"(system {ORG_SYSTEM_MULTI}, value NO:ORGNR:<parent>[:<child>])")
        parts = str(identifier.get("value", "")).split(":")
        if len(parts) not in (3, 4) or parts[:2] != ["NO", "ORGNR"]:
            raise OrganisationError("the organisation value must be NO:ORGNR:<parent>[:<child>]")
        parent, child = parts[2], (parts[3] if len(parts) == 4 else None)
        if parent not in client.organisations:
            raise OrganisationError(f"organisation {parent} has not delegated access to this client")
        return parent, child
    parent = client.organisations[0]
    if not identifier:
        return parent, None
    if identifier.get("system") != ORG_SYSTEM_SINGLE:
        raise OrganisationError(f"a single-tenant client selects a child organisation with system {ORG_SYSTEM_SINGLE}")
    value = str(identifier.get("value", ""))
    if value == parent:
        return parent, None
    if value not in client.children:
        raise OrganisationError(f"{value} is not a registered child organisation of {parent}")
    return parent, value


def purpose_details(details: list, codes: frozenset[str], system: str) -> list[dict]:
    """The Tillitsrammeverk details to copy into the token (validated, or an error)."""
    out = []
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("type") == TILLITSRAMMEVERK:
            purpose = ((detail.get("care_relationship") or {}).get("purpose_of_use") or {})
            if purpose.get("code") not in codes or purpose.get("system") != system:
                raise OrganisationError(f"purpose_of_use must be one of {sorted(codes)} in {system}")
            out.append({"type": TILLITSRAMMEVERK,
                        "care_relationship": {"purpose_of_use": {"code": purpose["code"], "system": system}}})
    return out


def access_token_claims(*, issuer: str, audience: str, client_id: str, client_name: str, scopes: list[str],
                        parent: str, child: str | None, tenancy: str, jkt: str | None,
                        authorization_details: list[dict] | None = None, user: dict | None = None,
                        lifetime: int = TOKEN_LIFETIME) -> dict:
    now = int(time.time())
    claims = {
        "iss": issuer, "aud": audience, "client_id": client_id, "scope": scopes,
        "iat": now, "nbf": now, "exp": now + lifetime, "jti": str(uuid.uuid4()),
        "helseid://claims/client/client_name": client_name,
        "helseid://claims/client/amr": "private_key_jwt",
        "helseid://claims/client/claims/orgnr_parent": parent,
        "helseid://claims/client/claims/client_tenancy": f"{tenancy}-tenant",
    }
    if child:
        claims["helseid://claims/client/claims/orgnr_child"] = child
    if jkt:
        claims["cnf"] = {"jkt": jkt}
    if authorization_details:
        claims["authorization_details"] = authorization_details
    if user:
        claims.update({"sub": user["pid"],
                       "helseid://claims/identity/pid": user["pid"],
                       "helseid://claims/identity/security_level": "4",
                       "helseid://claims/identity/assurance_level": "high",
                       "helseid://claims/identity/network": "internett"})
        if user.get("hpr_number"):
            claims["helseid://claims/hpr/hpr_number"] = user["hpr_number"]
    return claims


def sign(storage, claims: dict) -> str:
    key = keys.signing_key(storage)
    header = {"alg": keys.ALG, "typ": "at+jwt", "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[keys.ALG])
