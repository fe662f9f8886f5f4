#!/usr/bin/env node
/**
 * Writes strict JSON schemas in kubeconform's layout (`<kind>-<group>-<version>.json`) without any
 * download from GitHub: from the Kubernetes OpenAPI v3 documents that the Go module
 * sigs.k8s.io/kubectl-validate embeds (pkg/openapiclient/builtins/<k8s version>/), and from
 * CustomResourceDefinition files (the prometheus-operator module's CRDs for ServiceMonitor and
 * PrometheusRule). Both come from the Go module proxy (scripts/deploy/install-tools.sh).
 *
 *   node scripts/deploy/kubeconform-schemas.mjs --out DIR --openapi BUILTINS_DIR [--crd FILE.yaml ...]
 *
 * "Strict" as in kubeconform's own -strict schemas: every object that lists its properties rejects
 * any other (additionalProperties: false), except where Kubernetes keeps unknown fields
 * (x-kubernetes-preserve-unknown-fields). OpenAPI's `nullable` becomes a "null" type; refs point
 * into the file's own `definitions`, so each schema stands alone.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

function parseArgs(argv) {
  const args = { out: '', openapi: '', crd: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') args.out = argv[++i];
    else if (a === '--openapi') args.openapi = argv[++i];
    else if (a === '--crd') args.crd.push(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.out || (!args.openapi && args.crd.length === 0)) {
    throw new Error('usage: kubeconform-schemas.mjs --out DIR --openapi BUILTINS_DIR [--crd FILE ...]');
  }
  return args;
}

const REF_PREFIX = '#/components/schemas/';

/** Converts one OpenAPI v3 schema node to draft-4 JSON schema (strict), collecting referenced names. */
function convert(node, refs) {
  if (Array.isArray(node)) return node.map((n) => convert(n, refs));
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(REF_PREFIX)) {
      const name = value.slice(REF_PREFIX.length);
      refs.add(name);
      out.$ref = `#/definitions/${name}`;
    } else if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, refs)]));
    } else if (key === 'nullable' || (key.startsWith('x-') && key !== 'x-kubernetes-preserve-unknown-fields')) {
      // not JSON schema; nullable is folded into `type` below
    } else {
      out[key] = convert(value, refs);
    }
  }
  if (node.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (out.properties && out.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  delete out['x-kubernetes-preserve-unknown-fields'];
  return out;
}

/** kubeconform's file name: kind, then the group's first label (none for the core group), then the version. */
function fileName(kind, group, version) {
  const groupLabel = group ? `-${group.split('.')[0].toLowerCase()}` : '';
  return `${kind.toLowerCase()}${groupLabel}-${version.toLowerCase()}.json`;
}

function standalone(rootSchema, all) {
  const refs = new Set();
  const root = convert(rootSchema, refs);
  const definitions = {};
  const pending = [...refs];
  while (pending.length > 0) {
    const name = pending.pop();
    if (name in definitions) continue;
    if (!(name in all)) throw new Error(`unresolved $ref ${name}`);
    const more = new Set();
    definitions[name] = convert(all[name], more);
    for (const m of more) if (!(m in definitions)) pending.push(m);
  }
  return { $schema: 'http://json-schema.org/draft-04/schema#', ...root, ...(Object.keys(definitions).length ? { definitions } : {}) };
}

function walkJson(dir) {
  const files = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...walkJson(path));
    else if (entry.endsWith('.json')) files.push(path);
  }
  return files;
}

const args = parseArgs(process.argv.slice(2));
mkdirSync(args.out, { recursive: true });
let written = 0;
const done = new Set();

if (args.openapi) {
  for (const file of walkJson(args.openapi)) {
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    const all = doc.components?.schemas ?? {};
    for (const schema of Object.values(all)) {
      for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
        // meta types (DeleteOptions, WatchEvent) carry every GVK in every document: write each once
        const name = fileName(gvk.kind, gvk.group, gvk.version);
        if (done.has(name)) continue;
        done.add(name);
        const out = join(args.out, name);
        writeFileSync(out, JSON.stringify(standalone(schema, all)));
        written++;
      }
    }
  }
}

for (const file of args.crd) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    for (const version of crd.spec.versions ?? []) {
      const schema = version.schema?.openAPIV3Schema;
      if (!schema) continue;
      writeFileSync(join(args.out, fileName(crd.spec.names.kind, crd.spec.group, version.name)), JSON.stringify(standalone(schema, {})));
      written++;
    }
  }
}

if (written === 0) throw new Error('no schema written: check the --openapi and --crd inputs');
console.log(`wrote ${written} schemas to ${args.out}`);
