"""Which scope a request needs: read once from scopes.toml (data, not code)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class ScopePolicy:
    audience: str
    actions: tuple[str, ...]
    service_of: dict[str, str]            # resource type -> service key
    services: tuple[str, ...]
    shared: frozenset[str]
    service_names: dict[str, str]         # service key -> name (e.g. "Kommunale tjenester")
    shared_name: str
    standing_searches: frozenset[str]     # managed with read scopes (Subscription)
    not_patient_data: frozenset[str]
    purpose_system: str
    purpose_codes: frozenset[str]

    def scope(self, service: str, action: str) -> str:
        return f"{self.audience}/{service}.{action}"

    def all_scopes(self) -> list[str]:
        return [self.scope(s, a) for s in self.services for a in self.actions]

    def accepted_scopes(self, resource_type: str | None, action: str) -> frozenset[str]:
        """Any one of these scopes allows the action on the resource type."""
        if resource_type in self.standing_searches:
            action = "read"
        service = self.service_of.get(resource_type or "")
        if service is not None:
            return frozenset({self.scope(service, action)})
        # Shared types, and calls not about one resource type, take any service's scope.
        return frozenset(self.scope(s, action) for s in self.services)

    def is_known(self, resource_type: str | None) -> bool:
        return resource_type is None or resource_type in self.service_of or resource_type in self.shared \
            or resource_type in self.not_patient_data or resource_type in self.standing_searches

    def service_name(self, resource_type: str) -> str | None:
        """The information service a type belongs to, by name; shared types have the shared name."""
        service = self.service_of.get(resource_type)
        if service is not None:
            return self.service_names[service]
        return self.shared_name if resource_type in self.shared else None

    def is_patient_data(self, resource_type: str | None) -> bool:
        return resource_type is not None and resource_type not in self.not_patient_data


@cache
def policy(path: Path = Path(__file__).with_name("scopes.toml")) -> ScopePolicy:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    service_of = {rtype: key for key, service in data["services"].items() for rtype in service["resource_types"]}
    return ScopePolicy(audience=data["audience"], actions=tuple(data["actions"]), service_of=service_of,
                       services=tuple(data["services"]), shared=frozenset(data["shared"]["resource_types"]),
                       service_names={key: service["name"] for key, service in data["services"].items()},
                       shared_name=data["shared"].get("name", "shared"),
                       standing_searches=frozenset(data.get("standing_searches", {}).get("resource_types", ())),
                       not_patient_data=frozenset(data["not_patient_data"]["resource_types"]),
                       purpose_system=data["purpose_of_use"]["system"],
                       purpose_codes=frozenset(data["purpose_of_use"]["codes"]))
