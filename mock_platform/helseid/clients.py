"""Registered HelseID clients (public keys only), kept in the shared database."""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from mock_platform.security.proofs import MIN_RSA_BITS, strong_enough
from synthetic_data.identifiers import is_synthetic_orgnr

NAMESPACE = "helseid.clients"
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


class RegistrationError(ValueError):
    pass


@dataclass
class RegisteredClient:
    client_id: str
    client_name: str
    jwks: list[dict]                 # public keys the client signs its assertions with
    scopes: list[str]
    organisations: list[str]         # single-tenant: [its own orgnr]; multi-tenant: the parents it serves
    tenancy: str = "single"          # single | multi
    children: list[str] = field(default_factory=list)   # child orgnrs a single-tenant client may select


def register(storage, body: dict, known_scopes: list[str]) -> RegisteredClient:
    jwk = body.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") not in ("EC", "RSA"):
        raise RegistrationError("jwk: send the client's public key as an EC or RSA JWK.")
    if _PRIVATE_MEMBERS & set(jwk):
        raise RegistrationError("jwk: the key contains private members; send only the public key.")
    try:
        key = (RSAKey if jwk["kty"] == "RSA" else ECKey).import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        raise RegistrationError("jwk: not a usable public key.")
    if not strong_enough(key):
        raise RegistrationError(f"jwk: RSA keys need at least {MIN_RSA_BITS} bits.")
    for name in ("scopes", "organisations", "children"):
        if name in body and not (isinstance(body[name], list) and all(isinstance(v, str) for v in body[name])):
            raise RegistrationError(f"{name}: a list of strings.")
    if not isinstance(body.get("organisation", ""), str) or not isinstance(body.get("client_id", ""), str):
        raise RegistrationError("organisation: a string (an organisation number).")
    scopes = body.get("scopes") or []
    unknown = sorted(set(scopes) - set(known_scopes))
    if not scopes or unknown:
        raise RegistrationError(f"scopes: unknown {unknown}; choose from {known_scopes}." if unknown
                                else f"scopes: at least one of {known_scopes}.")
    tenancy = body.get("tenancy", "single")
    organisations = body.get("organisations") or ([body["organisation"]] if body.get("organisation") else [])
    children = body.get("children") or []
    if tenancy not in ("single", "multi"):
        raise RegistrationError("tenancy: single or multi.")
    if tenancy == "single" and len(organisations) != 1:
        raise RegistrationError("organisation: a single-tenant client belongs to exactly one organisation.")
    bad = [o for o in organisations + children if not is_synthetic_orgnr(str(o))]
    if not organisations or bad:
        raise RegistrationError(f"organisation: {bad or 'missing'}; use synthetic organisation numbers "
                                "(9 digits, mod-11, first digit 2 or 3).")
    client = RegisteredClient(client_id=body.get("client_id") or f"sandkasse-{uuid.uuid4()}",
                              client_name=str(body.get("client_name") or body.get("name") or "unnamed client"),
                              jwks=[{k: v for k, v in jwk.items()}], scopes=list(scopes),
                              organisations=[str(o) for o in organisations], tenancy=tenancy,
                              children=[str(c) for c in children])
    if storage.kv_get(NAMESPACE, client.client_id) is not None:
        raise RegistrationError(f"client_id: {client.client_id} is already registered.")
    storage.kv_put(NAMESPACE, client.client_id, asdict(client))
    return client


def lookup(storage, client_id: str) -> RegisteredClient | None:
    record = storage.kv_get(NAMESPACE, client_id)
    return RegisteredClient(**record) if record else None
