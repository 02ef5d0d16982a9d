"""The platform's OpenAPI 3.1 description of its own routes, served at `GET /openapi.json` (public).

Built from what the platform already knows, so it cannot drift from what it serves: paths and
methods from the Flask url_map, the resource types and their search parameters from the registry
(data/search_parameters.toml), the scopes each operation needs from security/scopes.toml, and
enums (fault kinds, broken-token kinds) from the modules that check them. What code cannot tell
(summaries, bodies, responses, who may call) is data: data/openapi.yaml.

Operations on `<rtype>` are described once per resource type, so that each carries that type's
search parameters and scope. Every operation names its Flask rule and endpoint
(`x-flask-rule`, `x-flask-endpoint`): tests check that every rule of the url_map is described.
"""
from __future__ import annotations

import copy
import re
from functools import cache
from importlib.resources import files

import yaml
from flask import Blueprint, Flask, Response, current_app, json

from mock_platform.searchparams import registry, served_types
from mock_platform.security.scopes import policy

bp = Blueprint("openapi", __name__)

MEDIA = {"fhir": "application/fhir+json", "json": "application/json", "html": "text/html",
         "form": "application/x-www-form-urlencoded", "ndjson": "application/x-ndjson"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}          # werkzeug answers these for every rule
_VARIABLE = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
_ERROR_TEXT = {400: "Bad request (malformed body, parameter or value)", 401: "Not authenticated",
               403: "Not allowed (scope, organisation, purpose of use, sperring, read-only data)",
               404: "Unknown tenant, resource type or resource", 405: "Not allowed on this resource type",
               409: "Conflict", 410: "Deleted", 412: "Precondition failed (If-Match / If-None-Exist)",
               413: "Request body too large", 422: "Unprocessable (validation or platform rule)",
               429: "Throttled (fault injection)", 503: "Unavailable (fault injection)"}
_PATH_SCHEMAS = {
    "tenant": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,39}$",
               "description": "the tenant: a kommunenummer (municipality) or a vendor's test tenant id"},
    "rid": {"type": "string", "pattern": "^[A-Za-z0-9\\-\\.]{1,64}$", "description": "the resource id"},
    "vid": {"type": "string", "pattern": "^[0-9]{1,9}$", "description": "the version id"},
}


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(json.dumps(describe(current_app), ensure_ascii=False), content_type="application/json")


def describe(app: Flask) -> dict:
    """The description of this app's routes (built once per app; the routes do not change)."""
    cached = app.extensions.get("sandkasse.openapi")
    if cached is None:
        cached = app.extensions["sandkasse.openapi"] = _build(app)
    return cached


@cache
def _data() -> dict:
    text = files("mock_platform.data").joinpath("openapi.yaml").read_text("utf-8")
    return _fill_enums(yaml.safe_load(text))


def _fill_enums(node: object) -> object:
    """Replace the data file's placeholders with the values the checking code uses."""
    from conformance.auth.testtokens import KINDS
    from mock_platform import faults
    from mock_platform.admin import MAX_SEED_SIZE
    values = {"FAULT_KINDS": list(faults.KINDS), "TOKEN_KINDS": list(KINDS), "SCOPES": policy().all_scopes(),
              "MAX_SEED_SIZE": MAX_SEED_SIZE}
    if isinstance(node, dict):
        return {k: _fill_enums(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill_enums(v) for v in node]
    return values.get(node, node) if isinstance(node, str) else node


def _build(app: Flask) -> dict:
    data = _data()
    paths: dict[str, dict] = {}
    seen_ids: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            for rtype in _types_of(rule, data):
                path = _path(rule.rule, rtype)
                operation = _operation(app, rule, method, rtype, data)
                operation["operationId"] = _unique(operation["operationId"], seen_ids)
                paths.setdefault(path, {})[method.lower()] = operation
    info = data["info"]
    dev = app.config.get("AUTH_MODE") == "off-dev"
    return {
        "openapi": "3.1.0",
        "info": {"title": info["title"], "version": app.config.get("VERSION", "0"),
                 "description": info["description"] + (_DEV_NOTE if dev else "")},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": data["schemas"], "securitySchemes": _security_schemes()},
        "tags": [{"name": b["tag"]} for b in data["blueprints"].values()],
    }


_DEV_NOTE = (" This instance runs with the development flag (auth off-dev): HelseID is not enforced, "
             "the caller is named by the X-Sandkasse-Dev-Client/-Org/-Purpose headers, and the admin API "
             "takes the documented development operator token.")


def _types_of(rule, data: dict) -> list[str | None]:
    if "rtype" not in rule.arguments:
        return [None]
    spec = data["endpoints"].get(rule.endpoint, {})
    if rule.endpoint == "fhir.search_type" and rule.rule.endswith("/_search"):
        return list(registry())            # POST _search: the types with search parameters
    return list(served_types() if spec.get("per_type", "read") == "read" else registry())


def _path(rule: str, rtype: str | None) -> str:
    def swap(match: re.Match) -> str:
        name = match.group(2)
        return rtype if name == "rtype" and rtype else "{" + name + "}"
    return _VARIABLE.sub(swap, rule)


def _unique(candidate: str, seen: set[str]) -> str:
    name, n = candidate, 1
    while name in seen:
        n += 1
        name = f"{candidate}-{n}"
    seen.add(name)
    return name


def _operation(app: Flask, rule, method: str, rtype: str | None, data: dict) -> dict:
    blueprint = rule.endpoint.split(".")[0]
    defaults = data["blueprints"].get(blueprint, {"tag": blueprint, "security": "public", "errors": [400]})
    spec = data["endpoints"].get(rule.endpoint, {})
    summary = spec.get("summary", rule.endpoint).replace("{rtype}", rtype or "resource")
    operation: dict = {
        "operationId": rule.endpoint.replace(".", "-") + (f"-{rtype}" if rtype else ""),
        "summary": summary,
        "tags": [defaults["tag"]],
        "x-flask-rule": rule.rule,
        "x-flask-endpoint": rule.endpoint,
        "parameters": _parameters(rule, rtype, spec),
        "responses": _responses(spec, defaults),
    }
    security = spec.get("security", defaults["security"])
    operation["security"] = _security(security, rtype if rtype else _fixed_type(rule), spec.get("action"),
                                      app.config.get("AUTH_MODE") == "off-dev")
    if "body" in spec:
        operation["requestBody"] = _request_body(data["request_bodies"][spec["body"]], rtype)
    elif method in ("POST", "PUT") and not spec:
        operation["requestBody"] = {"required": False, "content": {MEDIA["json"]: {"schema": {}}}}
    return operation


def _fixed_type(rule) -> str | None:
    return "Bundle" if rule.endpoint in ("fhir.transaction", "fhir.process_message") else None


def _parameters(rule, rtype: str | None, spec: dict) -> list[dict]:
    params = []
    for name in sorted(rule.arguments - {"rtype"}):
        schema = _PATH_SCHEMAS.get(name, {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for header in spec.get("headers", []):
        params.append({"name": header, "in": "header", "required": False, "schema": {"type": "string"}})
    for name, schema in spec.get("query", {}).items():
        params.append({"name": name, "in": "query", "required": False, "schema": schema})
    if spec.get("paging"):
        params += _paging()
    if spec.get("search") and rtype is not None:
        params += _search_parameters(rtype)
    return params


def _paging() -> list[dict]:
    return [{"name": "_count", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
             "description": "entries per page (at most 1000)"},
            {"name": "_offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}]


def _search_parameters(rtype: str) -> list[dict]:
    """The type's parameters from the registry (AuditEvent: the patient's audit trail)."""
    def param(name: str, kind: str, schema: dict | None = None) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
                "description": f"{kind} search parameter"}
    if rtype not in registry():
        return [param("patient", "reference"), param("_id", "token"), *_paging()]
    info = registry()[rtype]
    dates = [p.name for p in info.params.values() if p.type == "date"]
    includes = [f"{rtype}:{p.name}" for p in info.params.values() if p.type == "reference"]
    revincludes = [f"{o.name}:{p.name}" for o in registry().values() for p in o.params.values()
                   if p.type == "reference"]
    sort = ["_id", "_lastUpdated", *dates]
    out = [param("_id", "token"), param("_lastUpdated", "date")]
    out += [param(p.name, p.type) for p in info.params.values()]
    out += _paging()
    out.append(param("_sort", "result", {"type": "string", "enum": sort + [f"-{s}" for s in sort]}))
    if includes:
        out.append(param("_include", "result", {"type": "string", "enum": includes}))
    out.append(param("_revinclude", "result", {"type": "string", "enum": revincludes}))
    out.append(param("_summary", "result", {"type": "string", "enum": ["count", "false"]}))
    return out


def _responses(spec: dict, defaults: dict) -> dict:
    data = _data()
    out: dict[str, dict] = {}
    for status, response in spec.get("responses", {200: {"content": "json", "schema": "Object"}}).items():
        out[str(status)] = _response(int(status), data["responses"][response] if isinstance(response, str)
                                     else response)
    if "only_errors" in spec:
        errors = set(spec["only_errors"])
    else:
        errors = set(defaults["errors"]) | set(spec.get("errors", []))
    if spec.get("security", defaults["security"]) in ("helseid", "operator", "vendor"):
        errors.add(401)
    if "body" not in spec:
        errors.discard(413)          # no body is read, so the size limit never applies
    for status in sorted(errors):
        out.setdefault(str(status), _response(status, data["responses"]["error"]))
    return out


def _response(status: int, response: dict) -> dict:
    description = _ERROR_TEXT.get(status, "Success" if status < 300 else "Redirect" if status < 400 else "Error")
    out: dict = {"description": description}
    content = response.get("content")
    if content:
        schema = {"$ref": f"#/components/schemas/{response['schema']}"} if response.get("schema") else {}
        out["content"] = {MEDIA[content]: {"schema": schema}}
    headers = dict(response.get("headers", {}))
    if status == 401 and content != "html":
        headers["WWW-Authenticate"] = True     # every API refusal of credentials says how to log in
    if headers:
        out["headers"] = {name: {"required": required, "schema": {"type": "string"}}
                          for name, required in headers.items()}
    return out


def _request_body(body: dict, rtype: str | None) -> dict:
    schema = copy.deepcopy(body["schema"])
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    if rtype is not None and schema == {"$ref": "#/components/schemas/Resource"}:
        schema = {"allOf": [schema, {"properties": {"resourceType": {"const": rtype}}}]}
    return {"required": body.get("required", True),
            "content": {MEDIA[kind]: {"schema": schema} for kind in body["content"]}}


# -- who may call -------------------------------------------------------------------------------

def _security_schemes() -> dict:
    audience = policy().audience
    return {
        "helseid": {
            "type": "oauth2",
            "description": ("HelseID access token bound with DPoP (RFC 9449): send Authorization: DPoP <token> and a "
                            "DPoP proof (htm, htu, ath, fresh jti and iat) on every request. Tokens come from the "
                            "sandbox HelseID with client_credentials and private_key_jwt; the audience is "
                            f"{audience}. Patient data also needs a purpose of use in the token."),
            "flows": {"clientCredentials": {"tokenUrl": "/helseid/connect/token",
                                            "scopes": {s: s for s in policy().all_scopes()}}},
        },
        "operator": {"type": "http", "scheme": "bearer",
                     "description": "The sandbox operator's token (OPERATOR_TOKEN)."},
        "vendor": {"type": "http", "scheme": "bearer",
                   "description": "A vendor's API key, issued once at vendor registration."},
        "console": {"type": "apiKey", "in": "cookie", "name": "sandkasse_console",
                    "description": "The console's session, from POST /operator/console/login."},
    }


def _security(kind: str, rtype: str | None, action: str | None, dev: bool) -> list[dict]:
    if kind == "public":
        return []
    if kind == "helseid":
        scopes = sorted(policy().accepted_scopes(rtype, action or "read"))
        required = [{"helseid": [scope]} for scope in scopes]
        # The development flag lets anyone in; an empty requirement says so.
        return required + [{}] if dev else required
    if kind == "console":
        return [{"console": []}, {}]        # without a session the page shows the login form
    return [{kind: []}]
