"""Server-side DPoP proof checks (RFC 9449 §4.3), shared by the mock HelseID's token endpoint
and the platform's resource server. Each failure says what was wrong and how to fix it."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from conformance.auth import dpop

PROOF_MAX_AGE = 60        # seconds a proof's iat may lie in the past
CLOCK_LEEWAY = 10         # seconds a proof's iat (or a token's nbf/iat) may lie in the future
MIN_RSA_BITS = 2048
NONCE_TTL = 300           # seconds a server-issued DPoP nonce stays valid
MAX_JWT_CHARS = 8192      # tokens and proofs are 1-3 KB; a longer one is refused before it is parsed
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


class _ProofRegistry(jws.JWSRegistry):
    # A proof carries its public key in the header, and an RSA jwk makes the header larger than
    # joserfc's default limit (512 bytes), which refused every RSA-signed proof as "not a compact
    # JWS". MAX_JWT_CHARS still bounds the whole proof.
    max_header_length = 4096


@dataclass
class ProofError(Exception):
    error: str            # invalid_dpop_proof | use_dpop_nonce
    description: str
    fix: str
    nonce: str | None = None   # a fresh nonce to hand back with use_dpop_nonce

    def __str__(self) -> str:
        return self.description


def shown(value: object, limit: int = 80) -> str:
    """An attacker-controlled value as it may be echoed in an answer: ASCII-escaped, truncated."""
    text = ascii(value)
    return text if len(text) <= limit else text[:limit] + "…'"


def _fail(description: str, fix: str) -> ProofError:
    return ProofError("invalid_dpop_proof", description, fix)


def issue_nonce(storage, namespace: str) -> str:
    nonce = secrets.token_urlsafe(24)
    storage.kv_put(namespace, nonce, {"issued": time.time()}, ttl_seconds=NONCE_TTL)
    return nonce


def verify_proof(proof: str | None, method: str, url: str, storage, *, replay_namespace: str,
                 access_token: str | None = None, nonce_namespace: str | None = None) -> str:
    """Check one DPoP proof; return the RFC 7638 thumbprint of its key (for cnf.jkt).

    nonce_namespace: when given, the proof must carry a nonce this server issued."""
    if not proof:
        raise _fail("The request has no DPoP proof.",
                    "Send a DPoP header with a proof JWT signed by the key the token is bound to.")
    if len(proof) > MAX_JWT_CHARS:
        raise _fail(f"The DPoP proof is {len(proof)} characters long; more than {MAX_JWT_CHARS} are refused unread.",
                    "Send a proof with only the public key in its jwk header.")
    if "," in proof:
        # RFC 9449 §4.3: exactly one DPoP header; two arrive joined by a comma.
        raise _fail("The request has more than one DPoP header.", "Send exactly one DPoP proof per request.")
    try:
        header = jws.extract_compact(proof.encode("ascii"), registry=_ProofRegistry()).headers()
    except (JoseError, ValueError, UnicodeError):
        raise _fail("The DPoP header is not a compact JWS.", "Send the proof as header.payload.signature.")
    if header.get("typ") != "dpop+jwt":
        raise _fail(f"The proof's typ is {shown(header.get('typ'))}, not 'dpop+jwt'.", 'Set "typ": "dpop+jwt".')
    if header.get("alg") not in dpop.ALGORITHMS:
        raise _fail(f"The proof's alg {shown(header.get('alg'))} is not allowed.",
                    f"Sign with one of {', '.join(dpop.ALGORITHMS)}.")
    key = _public_key(header.get("jwk"))
    try:
        claims = jwt.decode(proof, key, registry=_ProofRegistry(algorithms=[header["alg"]])).claims
    except (JoseError, ValueError):
        raise _fail("The proof's signature does not verify with the jwk in its header.",
                    "Sign the proof with the private key of the jwk you send.")
    jkt = key.thumbprint()
    _check_claims(claims, method, url, access_token)
    if nonce_namespace is not None:
        nonce = claims.get("nonce")
        if not nonce or storage.kv_get(nonce_namespace, str(nonce)) is None:
            raise ProofError("use_dpop_nonce", "The proof needs a current nonce from this server.",
                             "Repeat the request with the DPoP-Nonce value from this response in the proof.",
                             nonce=issue_nonce(storage, nonce_namespace))
    # Last: a proof that fails a check above does not use up its jti.
    if not storage.kv_add_if_absent(replay_namespace, f"{jkt}:{claims['jti']}", PROOF_MAX_AGE + CLOCK_LEEWAY):
        raise _fail("The proof was already used (its jti was seen before).",
                    "Make a new proof with a fresh jti for every request, including retries.")
    return jkt


def _public_key(jwk: object) -> ECKey | RSAKey:
    if not isinstance(jwk, dict):
        raise _fail("The proof's header has no jwk.", "Put the public key of the DPoP key pair in the jwk header.")
    if _PRIVATE_MEMBERS & set(jwk):
        raise _fail("The proof's jwk contains private key material.",
                    "Send only the public members of the key; the private key must never leave the client.")
    try:
        key = {"EC": ECKey, "RSA": RSAKey}[jwk.get("kty")].import_key(jwk)
    except (KeyError, JoseError, ValueError, TypeError):
        raise _fail("The proof's jwk is not a usable EC or RSA public key.", "Send an EC (P-256/384/521) or RSA key.")
    if not strong_enough(key):
        raise _fail(f"The proof's RSA key is shorter than {MIN_RSA_BITS} bits.", f"Use an RSA key of at least "
                    f"{MIN_RSA_BITS} bits, or an EC key.")
    return key


def strong_enough(key: ECKey | RSAKey) -> bool:
    return not isinstance(key, RSAKey) or key.raw_value.key_size >= MIN_RSA_BITS


def _check_claims(claims: dict, method: str, url: str, access_token: str | None) -> None:
    if not isinstance(claims.get("jti"), str) or not 0 < len(claims["jti"]) <= 256:
        raise _fail("The proof has no jti (or one longer than 256 characters).",
                    "Give every proof a unique jti (e.g. a UUID).")
    if claims.get("htm") != method.upper():
        raise _fail(f"The proof's htm {shown(claims.get('htm'))} does not match the request method {method.upper()}.",
                    "Make a new proof for each request with htm set to its HTTP method.")
    expected_htu = dpop.htu(url)
    if not isinstance(claims.get("htu"), str) or dpop.htu(claims["htu"]) != expected_htu:
        raise _fail(f"The proof's htu {shown(claims.get('htu'))} does not match the request URL {expected_htu}.",
                    "Set htu to the request URL without query and fragment.")
    iat = claims.get("iat")
    now = time.time()
    if not isinstance(iat, (int, float)) or iat > now + CLOCK_LEEWAY or iat < now - PROOF_MAX_AGE:
        raise _fail(f"The proof's iat is missing or not within {PROOF_MAX_AGE} s of the server's time.",
                    "Make a fresh proof for each request with iat = now (and keep the clock synchronised).")
    if access_token is not None and claims.get("ath") != dpop.ath(access_token):
        raise _fail("The proof's ath does not match the access token.",
                    "Set ath to base64url(SHA-256(access token)) of the token in the Authorization header.")
