"""The observed data flow of a run: which resource types each client read and wrote.

Input is what an observer saw on the wire (the operator's recording proxy, or the platform's
audit log); output is the report's `data_flow`, input for a municipality's record of processing
and DPIA (security-and-marketplace.md §2.4 item 6).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from reports.model import DataFlow

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class ObservedRequest:
    client: str
    method: str
    path: str                                  # relative to the FHIR base, e.g. "Patient/123" or "" for [base]
    resource_types: tuple[str, ...] = ()       # for a Bundle posted to [base]: the types of its entries


def resource_types_of(request: ObservedRequest) -> tuple[str, ...]:
    if request.resource_types:
        return request.resource_types
    first = request.path.strip("/").split("/", 1)[0].split("?", 1)[0]
    # FHIR resource types start with a capital letter; metadata, _history and operations do not.
    return (first,) if first[:1].isupper() else ()


def direction_of(request: ObservedRequest) -> str:
    if request.method.upper() == "POST" and request.path.split("?", 1)[0].rstrip("/").endswith("_search"):
        return "read"                          # POST [type]/_search is a search
    return "write" if request.method.upper() in _WRITE_METHODS else "read"


def summarize(requests: Iterable[ObservedRequest]) -> list[DataFlow]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for request in requests:
        for rtype in resource_types_of(request):
            counts[(request.client, rtype, direction_of(request))] += 1
    return [DataFlow(client, rtype, direction, n) for (client, rtype, direction), n in sorted(counts.items())]
