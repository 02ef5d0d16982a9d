"""The request log: what arrived at a tenant's FHIR API, as the suite's producer and consumer
checks need to see it (GET /admin/tenants/<t>/requests). Kept apart from the hendelseslager:
it records every request, refused ones included, and is never a source of patient data.

This module holds its table and the storage methods; SqlStorage mixes them in.
"""
from __future__ import annotations

REQUEST_LOG_SCHEMA = """
"""


class RequestLogMixin:
    """Storage methods of the request log (used through SqlStorage)."""
