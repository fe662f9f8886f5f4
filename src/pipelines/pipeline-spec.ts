/**
 * Pipeline definitions in the shape of `dvc.yaml`, so that a team's existing file runs as it is:
 * stages with `cmd`, `deps`, `outs`, `params`, `metrics`, `plots` (and `wdir`, `always_changed`),
 * with DVC's templating (`vars`, `${…}`, `foreach`, `matrix`: dvc-templating.ts). Vitals adds
 * `builtin: <step>` for stages that call one of its own steps instead of a command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validationFailed } from '../errors.js';
import { resolveDvcTemplates } from './dvc-templating.js';

export interface ParamRef {
  /** params file relative to the pipeline root (dvc's default: params.yaml) */
  file: string;
  /** dotted key inside the file; `*` means the whole file */
  key: string;
}

export interface StageSpec {
  name: string;
  cmd?: string;
  builtin?: string;
  /** options handed to a built-in step */
  with?: Record<string, unknown>;
  wdir: string;
  deps: string[];
  outs: string[];
  params: ParamRef[];
  metrics: string[];
  /** plot files (`plots:` of the stage): outputs like `metrics`, checked and hashed */
  plots: string[];
  /** outs, metrics and plots marked `cache: false` (DVC keeps them out of its cache; they are still checked) */
  uncached: string[];
  always_changed: boolean;
}

export interface PipelineSpec {
  /** folder the paths are relative to (the folder of dvc.yaml) */
  root: string;
  stages: StageSpec[];
}

type Problem = { field: string; message: string };

/** Path entries may be strings or `{path: {cache: false, …}}` maps, as in dvc.yaml. */
function paths(value: unknown, field: string, problems: Problem[], uncached?: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push({ field, message: 'must be a list' });
    return [];
  }
  const out: string[] = [];
  for (const v of value) {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') {
      for (const [path, opts] of Object.entries(v)) {
        out.push(path);
        if (uncached && opts && typeof opts === 'object' && (opts as { cache?: unknown }).cache === false) uncached.push(path);
      }
    } else problems.push({ field, message: `entries must be paths, got ${JSON.stringify(v)}` });
  }
  return out;
}

function params(value: unknown, field: string, problems: Problem[]): ParamRef[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push({ field, message: 'must be a list' });
    return [];
  }
  const out: ParamRef[] = [];
  for (const v of value) {
    if (typeof v === 'string') out.push({ file: 'params.yaml', key: v });
    else if (v && typeof v === 'object') {
      for (const [file, keys] of Object.entries(v)) {
        if (Array.isArray(keys) && keys.length) for (const k of keys) out.push({ file, key: String(k) });
        else out.push({ file, key: '*' });
      }
    } else problems.push({ field, message: `entries must be keys or {file: [keys]}, got ${JSON.stringify(v)}` });
  }
  return out;
}

/** Parses dvc.yaml text; `root` is the folder its paths (and vars files) are relative to. */
export function parsePipelineSpec(text: string, root: string): PipelineSpec {
  const doc = parseYaml(text) as { vars?: unknown; stages?: Record<string, unknown> } | null;
  if (!doc || typeof doc !== 'object' || !doc.stages || typeof doc.stages !== 'object') {
    throw validationFailed([{ field: 'stages', message: 'a pipeline file needs a `stages:` map' }], 'invalid pipeline definition');
  }
  const { stages: resolved, problems } = resolveDvcTemplates({ vars: doc.vars, stages: doc.stages }, root);
  const stages: StageSpec[] = [];
  for (const { name, raw } of resolved) {
    const f = `stages.${name}`;
    if (!raw || typeof raw !== 'object') {
      problems.push({ field: f, message: 'must be a map' });
      continue;
    }
    const cmd = Array.isArray(raw.cmd) ? raw.cmd.map(String).join(' && ') : raw.cmd === undefined ? undefined : String(raw.cmd);
    const builtin = raw.builtin === undefined ? undefined : String(raw.builtin);
    if (!cmd && !builtin) problems.push({ field: `${f}.cmd`, message: 'a stage needs a cmd (or a Vitals builtin)' });
    if (cmd && builtin) problems.push({ field: f, message: 'give cmd or builtin, not both' });
    const uncached: string[] = [];
    // values interpolated from params.yaml are not params of the stage (as in DVC): they change the cmd or paths instead
    const declared = params(raw.params, `${f}.params`, problems);
    stages.push({
      name,
      cmd,
      builtin,
      with: (raw.with as Record<string, unknown> | undefined) ?? undefined,
      wdir: raw.wdir === undefined ? '.' : String(raw.wdir),
      deps: paths(raw.deps, `${f}.deps`, problems),
      outs: paths(raw.outs, `${f}.outs`, problems, uncached),
      params: declared,
      metrics: paths(raw.metrics, `${f}.metrics`, problems, uncached),
      plots: paths(raw.plots, `${f}.plots`, problems, uncached),
      uncached,
      always_changed: raw.always_changed === true,
    });
  }
  if (problems.length) throw validationFailed(problems, 'invalid pipeline definition');
  return { root, stages };
}

export function loadPipelineSpec(file: string): PipelineSpec {
  const path = resolve(file);
  if (!existsSync(path)) throw validationFailed([{ field: 'file', message: `${file} does not exist` }], 'cannot load the pipeline');
  return parsePipelineSpec(readFileSync(path, 'utf8'), dirname(path));
}

/** Reads a params file (YAML or JSON) and returns the value at a dotted key. */
export function readParam(root: string, ref: ParamRef, cache = new Map<string, unknown>()): unknown {
  const path = resolve(root, ref.file);
  if (!cache.has(path)) cache.set(path, existsSync(path) ? parseYaml(readFileSync(path, 'utf8')) : undefined);
  let value = cache.get(path);
  if (ref.key === '*') return value;
  for (const part of ref.key.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}
