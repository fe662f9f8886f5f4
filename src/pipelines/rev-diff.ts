/**
 * `params diff` and `metrics diff` between git revisions (or a revision and the work tree), with
 * the answer `dvc params diff --json` and `dvc metrics diff --json` give (test/services/dvc-compat.test.ts
 * compares them): `{ file: { key: { old, new, diff? } } }`, nested keys dotted, a missing side null,
 * `diff` = new − old when both are numbers (booleans count as 0/1, as in Python), lists as Python
 * writes them; only what changed unless `all`. Each side is read as it is at its revision: its
 * dvc.yaml says which params (the whole default params.yaml, and the keys stages list from other
 * files) and which metrics files; a metrics file kept out of git is read from DVC's cache through
 * that revision's dvc.lock.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { stableJson } from './content-hash.js';
import { atRevision } from './git-revision.js';
import { LOCK_FILE_NAME, readLockFile } from './lock-file.js';
import { type PipelineSpec, parsePipelineSpec } from './pipeline-spec.js';

export interface RevChange {
  old: unknown;
  new: unknown;
  diff?: number;
}
/** file → dotted key → change */
export type RevDiff = Record<string, Record<string, RevChange>>;
type Values = Record<string, Record<string, unknown>>;

export interface RevDiffOptions {
  /** the pipeline file, relative to `root` (default dvc.yaml) */
  file?: string;
  /** unchanged values too */
  all?: boolean;
}

const DEFAULT_PARAMS = 'params.yaml';

/** `repr()` of a list, as DVC shows a list-valued param or metric. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

function flatten(value: unknown, prefix: string, out: Record<string, unknown>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = Array.isArray(value) ? pyRepr(value) : (value ?? null);
}

function readDoc(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
  } catch {
    return undefined;
  }
}

function specAt(dir: string, file: string): PipelineSpec | undefined {
  const path = join(dir, file);
  return existsSync(path) ? parsePipelineSpec(readFileSync(path, 'utf8'), dir) : undefined;
}

function paramsAt(dir: string, file: string): Values {
  const wanted = new Map<string, Set<string>>(); // file → keys ('*': all)
  const want = (f: string, key: string) => wanted.set(f, (wanted.get(f) ?? new Set()).add(key));
  if (existsSync(join(dir, DEFAULT_PARAMS))) want(DEFAULT_PARAMS, '*');
  for (const stage of specAt(dir, file)?.stages ?? []) for (const ref of stage.params) want(ref.file, ref.key);
  const out: Values = {};
  for (const [f, keys] of wanted) {
    const doc = readDoc(join(dir, f));
    if (doc === undefined) continue;
    const flat: Record<string, unknown> = {};
    if (keys.has('*')) flatten(doc, '', flat);
    else
      for (const key of keys) {
        let v: unknown = doc;
        for (const part of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
        if (v !== undefined) flatten(v, key, flat);
      }
    out[f] = flat;
  }
  return out;
}

function metricsAt(dir: string, file: string, cacheDir: string): Values {
  const spec = specAt(dir, file);
  const lock = readLockFile(join(dir, LOCK_FILE_NAME));
  const out: Values = {};
  for (const stage of spec?.stages ?? []) {
    for (const m of stage.metrics) {
      const path = posix.normalize(posix.join(stage.wdir, m));
      let doc = readDoc(join(dir, path));
      if (doc === undefined) {
        // kept out of git (a cached output): the revision's lock says which cache object it was
        const md5 = lock.stages[stage.name]?.outs?.find((o) => o.path === m)?.md5;
        if (md5) doc = readDoc(join(cacheDir, 'files', 'md5', md5.slice(0, 2), md5.slice(2)));
      }
      if (doc === undefined) continue;
      const flat: Record<string, unknown> = {};
      flatten(doc, '', flat);
      out[path] = flat;
    }
  }
  return out;
}

const numeric = (v: unknown): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';

export function diffValues(a: Values, b: Values, all = false): RevDiff {
  const out: RevDiff = {};
  for (const f of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const entries: Record<string, RevChange> = {};
    for (const key of [...new Set([...Object.keys(a[f] ?? {}), ...Object.keys(b[f] ?? {})])].sort()) {
      const old = a[f]?.[key] ?? null;
      const now = b[f]?.[key] ?? null;
      if (!all && stableJson(old) === stableJson(now)) continue;
      entries[key] = { old, new: now, ...(numeric(old) && numeric(now) ? { diff: Number(now) - Number(old) } : {}) };
    }
    if (Object.keys(entries).length) out[f] = entries;
  }
  return out;
}

/**
 * The revisions compared, as dvc takes them: none → HEAD against the work tree; one → that
 * revision against the work tree; two → the first against the second.
 */
async function diffAt(root: string, revs: string[], read: (dir: string) => Values, all: boolean): Promise<RevDiff> {
  const [a = 'HEAD', b] = revs;
  const old = await atRevision(root, a, read);
  const now = await atRevision(root, b, read);
  return diffValues(old, now, all);
}

export function paramsDiff(root: string, revs: string[], options: RevDiffOptions = {}): Promise<RevDiff> {
  return diffAt(root, revs, (dir) => paramsAt(dir, options.file ?? 'dvc.yaml'), options.all ?? false);
}

export function metricsDiff(root: string, revs: string[], options: RevDiffOptions = {}): Promise<RevDiff> {
  const cacheDir = resolve(root, '.dvc', 'cache');
  return diffAt(root, revs, (dir) => metricsAt(dir, options.file ?? 'dvc.yaml', cacheDir), options.all ?? false);
}
