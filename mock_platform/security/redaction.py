"""The platform's log redaction: the one implementation lives in conformance.auth.redaction
(the suite's evidence capture uses it too); this attaches it to the platform's loggers."""
from __future__ import annotations

from flask import Flask

from conformance.auth.redaction import RedactingFilter, install_log_redaction, redact, redact_text

__all__ = ["RedactingFilter", "install", "redact", "redact_text"]

PLATFORM_LOGGERS = ("mock_platform", "mock_platform.security", "mock_platform.helseid", "werkzeug")


def install(app: Flask) -> None:
    """Redact every record the platform logs (called once when the HelseID blueprint is registered)."""
    install_log_redaction(app.logger.name, *PLATFORM_LOGGERS)
