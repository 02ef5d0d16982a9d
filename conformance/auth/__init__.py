"""A small HelseID client: private_key_jwt + DPoP for httpx, plus the project's redaction.

Used by the conformance suite and the reference EPJ, and meant to be read by vendors as a
reference. It does not depend on the mock platform.
"""
from conformance.auth.client import HelseIdAuth, TokenError, assertion_details
from conformance.auth.config import HelseIdClientConfig
from conformance.auth.redaction import RedactingFilter, redact
from conformance.auth import testtokens

__all__ = ["HelseIdAuth", "HelseIdClientConfig", "RedactingFilter", "TokenError", "assertion_details", "redact", "testtokens"]
