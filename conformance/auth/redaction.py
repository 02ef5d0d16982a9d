"""Keep secrets out of logs and reports: tokens, DPoP proofs, client assertions, private keys.

One implementation for the whole project. The platform's log filter
(`mock_platform.security.redaction`) and the suite's evidence capture both use it, so what
counts as a secret is decided here once. Redaction replaces the secret with a short marker
that keeps the evidence readable (which kind of secret was there) without its value.
"""
from __future__ import annotations

import logging
import re
from typing import Any

MARK = "[REDACTED]"

# A compact JWS/JWT: three base64url segments, the first one a JSON header ("eyJ" = '{"').
# The signature segment may be empty (alg: none), so it is optional.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
# An Authorization header value in any scheme, and the DPoP header, as they appear in dumps.
_AUTH_HEADER = re.compile(r"(?i)\b(authorization|dpop|client_assertion|access_token)(\"?\s*[:=]\s*\"?)"
                          r"(?:(DPoP|Bearer|Basic)\s+)?[^\s\",;&]+")
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)

# Keys whose values are secret wherever they appear in a structure (JSON bodies, header maps).
SECRET_KEYS = frozenset({
    "authorization", "dpop", "access_token", "refresh_token", "id_token", "client_assertion",
    "client_secret", "private_jwk", "private_key_pem", "password", "passphrase", "token", "proof",
    "dpop_proof",
})
# Private members of a JWK (RFC 7518 §6): redacted when the dict looks like a JWK.
_JWK_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})


def redact_text(text: str) -> str:
    text = _PEM_PRIVATE.sub(MARK, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{(m.group(3) + ' ') if m.group(3) else ''}{MARK}",
                            text)
    return _JWT.sub(MARK, text)


def redact(obj: Any) -> Any:
    """A copy of obj (dict, list, tuple, str, httpx/requests-like header maps) without secrets."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, bytes):
        return redact_text(obj.decode("utf-8", "replace")).encode()
    if isinstance(obj, dict) or hasattr(obj, "items"):
        items = list(obj.items())
        is_jwk = any(str(k) == "kty" for k, _ in items)
        return {k: (MARK if _is_secret_key(k, is_jwk) and v not in (None, "") else redact(v)) for k, v in items}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact(v) for v in obj)
    return obj


def _is_secret_key(key: Any, is_jwk: bool) -> bool:
    name = str(key).lower()
    return name in SECRET_KEYS or (is_jwk and name in _JWK_PRIVATE)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message (and traceback) without secrets.

    The record is formatted once here, so secrets passed as %-arguments are caught too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
            # The traceback's exception value may carry a secret; the text above replaces it.
            record.exc_info = None
        return True


def install_log_redaction(*logger_names: str) -> None:
    """Attach the filter to the named loggers (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
