"""The reference EPJ's resource-server checks on its own FHIR API: HelseID access tokens and DPoP.

What a vendor's FHIR API has to do with every request (the guide's CapabilityStatement sk-server,
rest.security), written against the published surface only: HelseID's discovery document and
JWKS, and `conformance.auth.dpop` for htu, ath and key thumbprints (the same computation the
client makes). It does not import the platform. Each refusal says what was wrong and how to fix
it; 401 for a token that is not valid, 403 for a valid token without the grant (RFC 6750 §3.1).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from conformance.auth import dpop

TOKEN_ALG = "RS256"          # HelseID signs access tokens with RS256; nothing else is accepted
CLOCK_LEEWAY = 10            # seconds a token's nbf/iat or a proof's iat may lie in the future
PROOF_MAX_AGE = 60           # seconds a proof's iat may lie in the past
JWKS_REFRESH = 60            # at most one JWKS refetch per minute (key rotation, not per bad token)
MAX_JWT_CHARS = 8192         # tokens and proofs are 1-3 KB; a longer one is refused before it is parsed
ORG_PARENT = "helseid://claims/client/claims/orgnr_parent"
ORG_CHILD = "helseid://claims/client/claims/orgnr_child"
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


class _ProofRegistry(jws.JWSRegistry):
    # A proof carries its public key in the header; an RSA jwk makes it larger than joserfc's
    # default limit (512 bytes), which would refuse every RSA-signed proof. MAX_JWT_CHARS bounds it.
    max_header_length = 4096


@dataclass(frozen=True)
class ApiSecurity:
    """Who may call the EPJ's FHIR API: tokens from `issuer` for `audience`, with a read scope of
    that API, on behalf of one of `organisations` (the municipality's own, and those it shares with)."""
    issuer: str                                 # e.g. http://127.0.0.1:8080/helseid
    organisations: frozenset[str]
    audience: str = "nhn:sandkasse-plattform"   # the sandbox HelseID issues tokens for this API
    # The EPJ's own organisation: only callers acting for it see internal-only notes.
    own_organisation: str | None = None
    # Defective variants (server_defects.yaml) switch single checks off.
    skip: frozenset[str] = field(default_factory=frozenset)   # "exp", "cnf", "organisation", ...


@dataclass(frozen=True)
class Reader:
    """Who asks, from the access token: the parties a sperring may name (its organisations, its
    HelseID client id and the user's HPR-nummer), and whether it acts for the EPJ's own organisation. Without token checks
    (development) the reader is the EPJ's own."""
    parties: frozenset[str] = frozenset()
    own: bool = True


@dataclass
class Refusal(Exception):
    status: int                # 401 or 403
    error: str                 # invalid_token | invalid_dpop_proof | insufficient_scope
    description: str
    fix: str

    def __str__(self) -> str:
        return self.description

    def www_authenticate(self) -> str:
        description = self.description.replace('"', "'")
        return f'DPoP error="{self.error}", error_description="{description}"'


def _invalid(description: str, fix: str, error: str = "invalid_token") -> Refusal:
    return Refusal(401, error, description, fix)


class ResourceServer:
    def __init__(self, settings: ApiSecurity) -> None:
        self.settings = settings
        self._keys: KeySet | None = None
        self._keys_fetched = 0.0
        self._seen: dict[str, float] = {}      # proof jti -> when it may be forgotten
        self._lock = threading.Lock()

    # -- the request ------------------------------------------------------------------------

    def check(self, method: str, url: str, authorization: str | None, proof: str | None) -> dict:
        """The token's claims when the request may read; else a Refusal."""
        scheme, _, token = (authorization or "").partition(" ")
        if not token or scheme.lower() not in ("dpop", "bearer"):
            raise _invalid("The request has no access token.",
                           "Send Authorization: DPoP <access token> from HelseID with a DPoP proof.")
        if len(token) > MAX_JWT_CHARS or len(proof or "") > MAX_JWT_CHARS:
            raise _invalid(f"The access token or proof is longer than {MAX_JWT_CHARS} characters; refused unread.",
                           "Send the access token from HelseID unchanged and a proof with only the public key.")
        if "," in token or "," in (proof or ""):      # two headers arrive joined by a comma (RFC 9449 §4.3)
            raise _invalid("The request has more than one Authorization or DPoP header.",
                           "Send exactly one access token and one DPoP proof per request.")
        claims = self._verify_token(token.strip())
        if "cnf" not in self.settings.skip:
            if scheme.lower() != "dpop":
                raise _invalid("The DPoP-bound token was sent with the Bearer scheme.",
                               "Send the token as Authorization: DPoP <token>.")
            self._verify_proof(proof, method, url, token.strip(), claims["cnf"]["jkt"])
        self._check_grant(claims)
        return claims

    def reader(self, claims: dict) -> "Reader":
        """Who the verified token acts for."""
        organisations = {claims.get(ORG_PARENT), claims.get(ORG_CHILD)} - {None}
        people = {claims.get("client_id"), claims.get("helseid://claims/hpr/hpr_number")}
        parties = frozenset(str(p) for p in organisations | people if p)
        return Reader(parties=parties, own=self.settings.own_organisation in organisations)

    # -- the token --------------------------------------------------------------------------

    def _verify_token(self, token: str) -> dict:
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise _invalid("The access token is not a signed JWT.", "Send the access_token from HelseID unchanged.")
        if header.get("alg") != TOKEN_ALG:   # alg none and HMAC are refused before any key is chosen
            raise _invalid(f"The access token's alg {ascii(header.get('alg'))[:40]} is not accepted.",
                           f"Use tokens issued by HelseID ({TOKEN_ALG}).")
        claims = self._decode(token)
        settings = self.settings
        if claims.get("iss") != settings.issuer:
            raise _invalid(f"The token's issuer {ascii(claims.get('iss'))[:80]} is not {settings.issuer}.",
                           f"Get tokens from HelseID at {settings.issuer}.")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if settings.audience not in audiences:
            raise _invalid(f"The token's audience {ascii(claims.get('aud'))[:80]} does not include {settings.audience}.",
                           f"Request a scope of this API ({settings.audience}/...).")
        now = time.time()
        exp = claims.get("exp")
        if "exp" not in settings.skip and (not isinstance(exp, (int, float)) or exp < now - CLOCK_LEEWAY):
            raise _invalid("The access token has expired.", "Get a new token before the old one expires.")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if value is not None and (not isinstance(value, (int, float)) or value > now + CLOCK_LEEWAY):
                raise _invalid(f"The access token is not valid yet ({name} is in the future).",
                               "Use the token only from its nbf time; check the client's clock.")
        if "cnf" not in settings.skip and not (isinstance(claims.get("cnf"), dict) and claims["cnf"].get("jkt")):
            raise _invalid("The access token is not bound to a DPoP key (no cnf.jkt).",
                           "Request the token with a DPoP proof so HelseID binds it to your key.")
        return claims

    def _decode(self, token: str) -> dict:
        for attempt in (0, 1):
            try:
                return jwt.decode(token, self._keyset(refresh=attempt == 1), algorithms=[TOKEN_ALG]).claims
            except (JoseError, ValueError):
                continue
        raise _invalid("The access token's signature does not verify against HelseID's keys.",
                       f"Get a new token from {self.settings.issuer}.")

    def _keyset(self, refresh: bool = False) -> KeySet:
        with self._lock:
            stale = refresh and time.time() - self._keys_fetched > JWKS_REFRESH
            if self._keys is None or stale:
                discovery = httpx.get(f"{self.settings.issuer}/.well-known/openid-configuration", timeout=10).json()
                self._keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"], timeout=10).json())
                self._keys_fetched = time.time()
            return self._keys

    def _check_grant(self, claims: dict) -> None:
        scopes = claims.get("scope")
        scopes = scopes.split() if isinstance(scopes, str) else scopes if isinstance(scopes, list) else []
        prefix = self.settings.audience + "/"
        if not any(isinstance(s, str) and s.startswith(prefix) and s.endswith(".read") for s in scopes):
            raise Refusal(403, "insufficient_scope", f"The token has no read scope of {self.settings.audience}.",
                          f"Request a read scope of this API ({prefix}<service>.read).")
        organisations = {claims.get(ORG_PARENT), claims.get(ORG_CHILD)} - {None}
        if "organisation" not in self.settings.skip and not organisations & self.settings.organisations:
            raise Refusal(403, "insufficient_scope",
                          f"Organisation {', '.join(sorted(map(str, organisations))) or '(none)'} may not read this EPJ's data.",
                          "Call on behalf of an organisation this EPJ shares its patients' data with.")

    # -- the DPoP proof (RFC 9449 §4.3) ------------------------------------------------------

    def _verify_proof(self, proof: str | None, method: str, url: str, token: str, jkt: str) -> None:
        def bad(description: str, fix: str) -> Refusal:
            return _invalid(description, fix, "invalid_dpop_proof")
        if not proof:
            raise bad("The request has no DPoP proof.", "Send a DPoP header with a proof for this request.")
        try:
            header = jws.extract_compact(proof.encode("ascii"), registry=_ProofRegistry()).headers()
        except (JoseError, ValueError, UnicodeError):
            raise bad("The DPoP header is not a compact JWS.", "Send the proof as header.payload.signature.")
        jwk = header.get("jwk")
        if header.get("typ") != "dpop+jwt" or header.get("alg") not in dpop.ALGORITHMS or not isinstance(jwk, dict) \
                or _PRIVATE_MEMBERS & set(jwk):
            raise bad("The proof's header is not a DPoP header (typ dpop+jwt, an allowed alg, a public jwk).",
                      f"Set typ dpop+jwt, sign with one of {', '.join(dpop.ALGORITHMS)} and send only the public jwk.")
        try:
            key = {"EC": ECKey, "RSA": RSAKey}[jwk.get("kty")].import_key(jwk)
            claims = jwt.decode(proof, key, registry=_ProofRegistry(algorithms=[header["alg"]])).claims
        except (KeyError, JoseError, ValueError, TypeError):
            raise bad("The proof's signature does not verify with the jwk in its header.",
                      "Sign the proof with the private key of the jwk you send.")
        if dpop.thumbprint(key) != jkt:
            raise bad("The proof is signed by another key than the one the token is bound to (cnf.jkt).",
                      "Sign every proof with the DPoP key you requested the token with.")
        if claims.get("htm") != method.upper() or not isinstance(claims.get("htu"), str) \
                or dpop.htu(claims["htu"]) != dpop.htu(url):
            raise bad(f"The proof is for another request than {method.upper()} {dpop.htu(url)}.",
                      "Make a new proof for each request with its method (htm) and URL without query (htu).")
        if claims.get("ath") != dpop.ath(token):
            raise bad("The proof is not bound to this access token (ath).",
                      "Set ath to base64url(SHA-256(access token)).")
        iat, now = claims.get("iat"), time.time()
        if not isinstance(iat, (int, float)) or iat > now + CLOCK_LEEWAY or iat < now - PROOF_MAX_AGE:
            raise bad("The proof's iat is not current.", "Make a fresh proof for every request.")
        jti = claims.get("jti")
        with self._lock:
            self._seen = {k: until for k, until in self._seen.items() if until > now}
            if not isinstance(jti, str) or f"{jkt}:{jti}" in self._seen:
                raise bad("The proof has no jti or was already used.", "Give every proof a new jti.")
            self._seen[f"{jkt}:{jti}"] = now + PROOF_MAX_AGE + CLOCK_LEEWAY
