"""The sandbox platform contract the producer and consumer roles rely on, in front of the real
mock platform, for the parts the platform does not serve yet.

The suite knows the platform only over HTTP and these routes (docs/scenario-protocol.md, "What the
suite needs from the sandbox platform"):
- `GET /admin/tenants/<t>/requests?since=<seq>`: the tenant's request log (what arrived, with the
  Authorization and DPoP headers and the answer);
- `PUT /admin/tenants/<t>/faults`, `POST /admin/tenants/<t>/seed`;
- the intake (transaction Bundles with ifNoneExist / ifMatch) and search (patient, identifier,
  paging with next links, at most `max_page_size` per page) for the information services.

Patient reads and searches and the CapabilityStatement go to the real platform (the cohort is
loaded through its intake). Everything here records without enforcing HelseID: the suite judges
the identity evidence itself, so one defect fails exactly its requirement.
"""
from __future__ import annotations

import base64
import fnmatch
import io
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

from werkzeug.wrappers import Request, Response

REAL_PLATFORM_TYPES = ("Patient",)
CLIENT_SYSTEM = "https://sandkasse.no/fhir/sid/helseid-client"
OID_ORGNR = "urn:oid:2.16.578.1.12.4.1.4.101"
LOGGED_HEADERS = ("authorization", "dpop", "content-type", "accept")
_TENANT_FHIR = re.compile(r"^/(?P<tenant>[^/]+)/fhir/?(?P<rest>.*)$")
_ADMIN = re.compile(r"^/admin/tenants/(?P<tenant>[^/]+)/(?P<what>requests|faults|seed)$")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fhir(body: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers or {},
                    content_type="application/fhir+json")


def _outcome(status: int, code: str, text: str) -> Response:
    return _fhir({"resourceType": "OperationOutcome",
                  "issue": [{"severity": "error", "code": code, "details": {"text": text}}]}, status)


@dataclass
class Tenant:
    resources: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # versions, oldest first
    log: list[dict] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)


class PlatformBridge:
    def __init__(self, platform_app, max_page_size: int = 5) -> None:
        self.platform_app = platform_app
        self.max_page_size = max_page_size
        self.tenants: dict[str, Tenant] = {}
        self.lock = threading.RLock()
        self.seq = 0

    def tenant(self, name: str) -> Tenant:
        with self.lock:
            return self.tenants.setdefault(name, Tenant())

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        admin = _ADMIN.match(request.path)
        if admin:
            return self.admin(request, admin["tenant"], admin["what"])(environ, start_response)
        fhir = _TENANT_FHIR.match(request.path)
        if not fhir:
            return self.platform_app(environ, start_response)
        tenant, rest = fhir["tenant"], fhir["rest"]
        entry = {"time": time.time(), "method": request.method, "url": request.url, "path": rest,
                 "headers": {h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers},
                 "body": _json(body), "status": 0, "response": None}
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.tenant(tenant).log.append(entry)
        response = self.fhir(request, tenant, rest)
        entry["status"] = response.status_code
        if response is not None and not isinstance(response, _Passthrough):
            entry["response"] = _json(response.get_data())
        if isinstance(response, _Passthrough):
            return self._passthrough(environ, start_response, entry)
        return response(environ, start_response)

    def _passthrough(self, environ, start_response, entry):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)
        chunks = list(self.platform_app(environ, capture))
        entry["status"] = captured.get("status", 0)
        entry["response"] = _json(b"".join(chunks))
        return chunks

    # -- admin -------------------------------------------------------------------------------

    def admin(self, request: Request, name: str, what: str) -> Response:
        tenant = self.tenant(name)
        if what == "requests" and request.method == "GET":
            since = int(request.args.get("since", 0))
            with self.lock:
                rows = [r for r in tenant.log if r["seq"] > since]
                return Response(json.dumps({"requests": rows, "last": self.seq}), content_type="application/json")
        if what == "faults" and request.method == "PUT":
            faults = request.get_json()
            with self.lock:
                tenant.faults = [dict(f, _passed=0) for f in faults]
            return Response(status=204)
        if what == "seed" and request.method == "POST":
            for line in request.get_data().decode("utf-8").splitlines():
                if line.strip():
                    answer = self.transaction(name, json.loads(line), source="sandkasse-seed")
                    if answer.status_code != 200:
                        return answer
            return Response(json.dumps({"id": name, "events": self.seq}), content_type="application/json")
        return _outcome(405, "not-supported", f"{request.method} {request.path} is not supported")

    # -- FHIR --------------------------------------------------------------------------------

    def fhir(self, request: Request, tenant: str, rest: str):
        parts = [p for p in rest.split("/") if p]
        if request.method == "POST" and not parts:
            fault = self._fault(tenant, "")
            return fault or self.transaction(tenant, _json(request.get_data()), source="client")
        if request.method != "GET" or not parts or parts[0] == "metadata" or parts[0] in REAL_PLATFORM_TYPES:
            return _Passthrough()
        fault = self._fault(tenant, "/".join(parts))
        if fault is not None:
            return fault
        if len(parts) == 1:
            return self.search(request, tenant, parts[0])
        versions = self.tenant(tenant).resources.get((parts[0], parts[1]))
        if not versions:
            return _outcome(404, "not-found", f"{parts[0]}/{parts[1]} does not exist")
        if len(parts) > 2 and parts[2] == "_history":
            return _fhir({"resourceType": "Bundle", "type": "history",
                          "entry": [{"resource": _public(v)} for v in reversed(versions)]})
        current = versions[-1]
        return _fhir(_public(current), headers={"ETag": f'W/"{current["meta"]["versionId"]}"'})

    def _fault(self, tenant: str, route: str) -> Response | None:
        with self.lock:
            fault = next((f for f in self.tenant(tenant).faults
                          if fnmatch.fnmatchcase(route, f.get("route", "*"))), None)
            if fault is None:
                return None
            if fault["_passed"] < fault.get("skip", 0):
                fault["_passed"] += 1
                return None
        kind = str(fault["kind"])
        if kind == "slow":
            time.sleep(fault.get("delay_ms", 2000) / 1000)
            return None
        if kind == "truncated":
            return Response('{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceTy',
                            content_type="application/fhir+json")
        status = int(kind) if kind.isdigit() else 503
        return _outcome(status, "transient", f"fault injected by the sandbox: HTTP {status}")

    def search(self, request: Request, tenant: str, rtype: str) -> Response:
        args = dict(parse_qsl(request.query_string.decode()))
        count = min(int(args.pop("_count", self.max_page_size)), self.max_page_size)
        offset = int(args.pop("_offset", 0))
        with self.lock:
            current = [v[-1] for (t, _), v in sorted(self.tenant(tenant).resources.items(),
                                                      key=lambda kv: kv[1][0]["meta"]["_order"]) if t == rtype]
        for name, value in args.items():
            if name == "patient":
                ref = value if "/" in value else f"Patient/{value}"
                current = [r for r in current if ref in ((r.get("patient") or {}).get("reference"),
                                                         (r.get("subject") or {}).get("reference"))]
            elif name == "identifier":
                system, _, val = value.rpartition("|")
                current = [r for r in current if any(i.get("value") == val and (not system or i.get("system") == system)
                                                     for i in r.get("identifier", []))]
            else:
                return _outcome(400, "not-supported", f"unknown search parameter {name}")
        current, withheld = self._withhold(tenant, request, current)
        page = current[offset:offset + count]
        base = request.base_url
        links = [{"relation": "self", "url": request.url}]
        if offset + count < len(current):
            links.append({"relation": "next", "url": f"{base}?{urlencode({**args, '_count': count, '_offset': offset + count})}"})
        entries = [{"fullUrl": f"{base}/{r['id']}", "resource": _public(r), "search": {"mode": "match"}}
                   for r in page]
        if withheld:
            entries.append({"search": {"mode": "outcome"}, "resource": {
                "resourceType": "OperationOutcome", "issue": [{
                    "severity": "warning", "code": "suppressed",
                    "details": {"text": f"{withheld} matching resources withheld: the patient has a block "
                                        f"(sperring) against you."}}]}})
        return _fhir({"resourceType": "Bundle", "type": "searchset", "total": len(current), "link": links,
                      "entry": entries})

    def _withhold(self, tenant: str, request: Request, found: list[dict]) -> tuple[list[dict], int]:
        """What an active sperring (Consent, patient-privacy, deny) hides from the caller, as the
        platform's rules do: the blocked party is the caller's HelseID client or organisation."""
        claims = _claims(request.headers.get("Authorization", ""))
        caller = {(CLIENT_SYSTEM, claims.get("client_id")),
                  (OID_ORGNR, claims.get("helseid://claims/client/claims/orgnr_parent"))}
        hidden: set[str] = set()
        with self.lock:
            consents = [v[-1] for (t, _), v in self.tenant(tenant).resources.items() if t == "Consent"]
        for consent in consents:
            provision = consent.get("provision") or {}
            scope = {c.get("code") for c in (consent.get("scope") or {}).get("coding", [])}
            if consent.get("status") != "active" or "patient-privacy" not in scope or provision.get("type") != "deny":
                continue
            parties = {(a.get("reference", {}).get("identifier", {}).get("system"),
                        a.get("reference", {}).get("identifier", {}).get("value")) for a in provision.get("actor", [])}
            if parties & caller:
                hidden |= {d["reference"]["reference"] for d in provision.get("data", [])}
        kept = [r for r in found if f"{r['resourceType']}/{r['id']}" not in hidden]
        return kept, len(found) - len(kept)

    def transaction(self, tenant_name: str, bundle: object, source: str) -> Response:
        if not isinstance(bundle, dict) or bundle.get("type") != "transaction":
            return _outcome(400, "invalid", "not a transaction Bundle")
        tenant = self.tenant(tenant_name)
        with self.lock:
            targets, plans = {}, []
            for entry in bundle.get("entry", []):
                resource, req = dict(entry.get("resource") or {}), entry.get("request") or {}
                rtype = resource.get("resourceType")
                if req.get("method") == "POST":
                    match = self._match(tenant, rtype, req.get("ifNoneExist"))
                    if match is not None:
                        targets[entry.get("fullUrl")] = f"{rtype}/{match['id']}"
                        plans.append((None, match, "200 OK"))
                        continue
                    resource["id"] = str(uuid.uuid4())
                elif req.get("method") == "PUT":
                    resource["id"] = req["url"].split("/")[1]
                    versions = tenant.resources.get((rtype, resource["id"]))
                    if req.get("ifMatch") and (not versions or req["ifMatch"] != f'W/"{versions[-1]["meta"]["versionId"]}"'):
                        return _outcome(412, "conflict", f"If-Match {req['ifMatch']} does not match {req['url']}")
                else:
                    return _outcome(400, "not-supported", f"method {req.get('method')} is not supported")
                if entry.get("fullUrl"):
                    targets[entry["fullUrl"]] = f"{rtype}/{resource['id']}"
                plans.append((resource, None, None))
            out = []
            for resource, match, status in plans:
                if match is not None:
                    out.append({"response": {"status": status, "location": _location(match)}})
                    continue
                resource = _rewrite(resource, targets)
                key = (resource["resourceType"], resource["id"])
                versions = tenant.resources.setdefault(key, [])
                order = versions[0]["meta"]["_order"] if versions else self._next_order()
                resource["meta"] = {**resource.get("meta", {}), "versionId": str(len(versions) + 1),
                                    "lastUpdated": _now(), "_order": order, "_source": source}
                versions.append(resource)
                out.append({"response": {"status": "201 Created" if len(versions) == 1 else "200 OK",
                                         "location": _location(resource)}})
        return _fhir({"resourceType": "Bundle", "type": "transaction-response", "entry": out})

    def _next_order(self) -> int:
        self.seq += 1
        return self.seq

    def _match(self, tenant: Tenant, rtype: str, condition: str | None) -> dict | None:
        if not condition or not condition.startswith("identifier="):
            return None
        system, _, value = condition.removeprefix("identifier=").rpartition("|")
        for (t, _), versions in tenant.resources.items():
            if t == rtype and any(i.get("system") == system and i.get("value") == value
                                  for i in versions[-1].get("identifier", [])):
                return versions[-1]
        return None


class _Passthrough:
    status_code = 0


def _location(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}/_history/{resource['meta']['versionId']}"


def _public(resource: dict) -> dict:
    meta = {k: v for k, v in resource["meta"].items() if not k.startswith("_")}
    return {**resource, "meta": meta}


def _rewrite(value, targets: dict):
    if isinstance(value, dict):
        return {k: (targets.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite(v, targets))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, targets) for v in value]
    return value


def _claims(authorization: str) -> dict:
    """The access token's claims, unverified: the bridge records, the suite judges."""
    try:
        payload = authorization.split(" ", 1)[1].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def _json(data: bytes):
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data[:2000].decode("utf-8", "replace")
