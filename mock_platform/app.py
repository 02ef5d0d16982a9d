"""The app factory of the mock platform."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from mock_platform import admin, faults, feed, fhir_api, helseid, operator, requestlog, security
from mock_platform import openapi
from mock_platform.errors import install_error_handlers
from mock_platform.storage import open_storage


@dataclass
class PlatformConfig:
    # A SQLite path, ":memory:", or a postgresql:// URL (the hosted multi-vendor service).
    database: str = ":memory:"
    tenants: tuple[str, ...] = ("0301",)            # municipality tenants ensured at start (kommunenummer)
    # "helseid" enforces HelseID tokens and DPoP on every request; "off-dev" is the documented
    # development flag that switches the checks off (never for verification runs).
    auth: str = "helseid"
    # Bodies larger than this are refused with 413 before they are read, on every route.
    max_body_bytes: int = 20 * 1024 * 1024
    extra: dict = field(default_factory=dict)


def create_app(config: PlatformConfig | None = None) -> Flask:
    config = config or PlatformConfig()
    app = Flask("mock_platform")
    app.config.update(VERSION=_version(), AUTH_MODE=config.auth, DATABASE=config.database,
                      MAX_CONTENT_LENGTH=config.max_body_bytes, **config.extra)
    storage = open_storage(config.database)
    for tenant in config.tenants:
        # A municipality's tenant is its kommunenummer; any other id is a vendor's test tenant
        # (seeded as a copy of the default municipality, see admin._seed_cohort).
        municipality = tenant.isdigit() and len(tenant) == 4
        storage.create_tenant(tenant, "municipality" if municipality else "vendor", tenant if municipality else None)
    app.extensions["sandkasse.storage"] = storage
    install_error_handlers(app)
    # First: the request log sees every request before authorization may refuse it, and the
    # answer after every other hook (a fault's truncation included).
    requestlog.install(app)
    # The security part's safety net (authorize every FHIR request before its route runs), where
    # that part provides it; routes call security.authorize themselves as well.
    protect = getattr(security, "protect_fhir_api", None)
    if protect is not None:
        protect(app)
    faults.install(app)
    app.register_blueprint(admin.bp)
    app.register_blueprint(feed.bp)
    app.register_blueprint(fhir_api.bp)
    app.register_blueprint(helseid.bp)
    app.register_blueprint(operator.bp)
    app.register_blueprint(openapi.bp)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("sandkasse")
    except PackageNotFoundError:
        return "0.0.0+local"
