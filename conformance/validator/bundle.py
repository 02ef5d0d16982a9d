"""Bundle rules the core invariants do not cover: fullUrl present and consistent with the
resource, transaction requests that name the resource they carry, and references inside a
transaction that resolve to an entry (urn:uuid must; Type/id may also be on the server)."""
from __future__ import annotations

import re

from conformance.validator.engine import Context, Core

_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TYPE_ID = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}


def check_bundle(core: Core, bundle: dict, ctx: Context) -> None:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return
    kind = bundle.get("type")
    writes = kind in ("transaction", "batch")
    by_full_url: dict[str, dict] = {}
    by_type_id: dict[str, dict] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        path = f"Bundle.entry[{i}]"
        resource = entry.get("resource")
        full_url = entry.get("fullUrl")
        if isinstance(resource, dict):
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rtype, str) and isinstance(rid, str):
                by_type_id[f"{rtype}/{rid}"] = resource
            if full_url is None:
                if writes or kind in ("document", "message", "collection"):
                    ctx.add("error" if writes else "warning", "required", "bundle-fullurl", f"{path}.fullUrl",
                            f"{path} carries a {rtype} but has no fullUrl.")
            elif isinstance(full_url, str):
                if full_url in by_full_url:
                    ctx.add("error", "duplicate", "bundle-duplicate", f"{path}.fullUrl",
                            f"fullUrl {full_url} appears more than once.")
                by_full_url[full_url] = resource
                _full_url_matches(full_url, rtype, rid, f"{path}.fullUrl", ctx)
        if writes:
            _request(entry.get("request"), resource, f"{path}.request", ctx)
    if kind != "transaction":
        return
    for ref_path, ref, targets in ctx.references:
        if not ref_path.startswith("Bundle.entry["):
            continue
        target = by_full_url.get(ref) or by_type_id.get(ref)
        if target is None and (m := _TYPE_ID.search(ref)):
            target = by_type_id.get(f"{m.group(1)}/{m.group(2)}") if not ref.startswith("urn:") else None
        if target is None:
            if ref.startswith("urn:uuid:"):
                ctx.add("error", "not-found", "bundle-resolve", ref_path,
                        f"{ref} does not resolve to any entry of this transaction.")
            elif ref.startswith("#"):
                continue
            elif not ref.startswith(("http://", "https://", "urn:")):
                ctx.add("information", "not-found", "bundle-resolve", ref_path,
                        f"{ref} is not in this transaction; the server must already hold it.")
            continue
        rtype = target.get("resourceType")
        if isinstance(rtype, str):
            core.check_target(rtype, targets, ref_path, ctx)


def _full_url_matches(full_url: str, rtype, rid, path: str, ctx: Context) -> None:
    if full_url.startswith("urn:uuid:"):
        if not _UUID.match(full_url):
            ctx.add("error", "value", "bundle-fullurl", path, f"{full_url} is not a valid urn:uuid (lower-case UUID).")
        return
    m = _TYPE_ID.search(full_url)
    if m and (m.group(1) != rtype or (rid is not None and m.group(2) != rid)):
        ctx.add("error", "value", "bundle-fullurl", path,
                f"fullUrl {full_url} does not match the resource {rtype}/{rid}.")


def _request(request, resource, path: str, ctx: Context) -> None:
    if not isinstance(request, dict):
        return  # bdl-3 and the cardinality of entry.request report this
    method, url = request.get("method"), request.get("url")
    if method not in _METHODS or not isinstance(url, str) or not url:
        return  # the binding and cardinality checks already report these
    if not isinstance(resource, dict):
        if method in ("POST", "PUT", "PATCH"):
            ctx.add("error", "required", "bundle-request", path, f"A {method} entry must carry a resource.")
        return
    rtype, rid = resource.get("resourceType"), resource.get("id")
    head = url.split("?", 1)[0]
    if method == "POST" and head != rtype:
        ctx.add("error", "value", "bundle-request", f"{path}.url", f"POST url {url!r} must be the type {rtype}.")
    elif method == "PUT" and "?" not in url and head != f"{rtype}/{rid}":
        ctx.add("error", "value", "bundle-request", f"{path}.url",
                f"PUT url {url!r} must be {rtype}/{rid}, the resource it carries.")
