/**
 * Runs a pipeline definition like `dvc repro`: stages in dependency order; a stage whose cmd, deps and
 * params hashes match the lock file (and whose outs are intact) is skipped as `cached`; a failing
 * stage stops the run and says why. Commands run through the shell in the stage's wdir.
 */
import { commandEnv } from './command-env.js';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hashPath, stableJson } from './content-hash.js';
import { dvcCacheDir, saveToDvcCache } from './dvc-cache.js';
import { type LockedStage, LOCK_FILE_NAME, readLockFile, writeLockFile } from './lock-file.js';
import { type PipelineSpec, type StageSpec, readParam } from './pipeline-spec.js';
import { orderStages } from './stage-dag.js';
import { type StageRecord, appendLog, flattenMetrics, newStageRecord } from './stage-record.js';

export interface BuiltinStepContext {
  stage: StageSpec;
  root: string;
  params: Record<string, unknown>;
  log(line: string): void;
  signal: AbortSignal;
}

/** A Vitals step usable as `builtin: <name>` in a pipeline file. */
// biome-ignore lint/suspicious/noConfusingVoidType: a step may return nothing at all (`async () => {}`), which `undefined` would refuse
export type BuiltinStep = (ctx: BuiltinStepContext) => Promise<{ artifacts?: Record<string, unknown>; metrics?: Record<string, number> } | void>;

export interface RunPipelineOptions {
  /** only these stages and what they depend on */
  targets?: string[];
  /** run every stage even when its hashes are unchanged (`dvc repro --force`) */
  force?: boolean;
  lockFile?: string;
  builtins?: Record<string, BuiltinStep>;
  env?: Record<string, string>;
  /** per command, in ms (default 1 h) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** called whenever a stage's record changes (progress) */
  onStage?: (record: StageRecord, all: StageRecord[]) => void | Promise<void>;
}

export interface PipelineRunOutcome {
  status: 'succeeded' | 'failed';
  stages: StageRecord[];
  /** every param the stages read, as `file:key` → value */
  params: Record<string, unknown>;
  /** every metric of every metrics file, as `file:key` → value */
  metrics: Record<string, number>;
  error: string | null;
}

/**
 * Runs a stage's command from a dvc.yaml. Over HTTP a pipeline is only named (PIPELINES_DIR, written
 * by the operator), never given as a path or a command; the environment is scrubbed (command-env.ts).
 */
function runCommand(cmd: string, cwd: string, env: Record<string, string>, timeoutMs: number, signal: AbortSignal | undefined, onOutput: (text: string) => void): Promise<{ code: number | null; reason?: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, { cwd, env: commandEnv(env), shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const abort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', abort, { once: true });
    child.stdout.on('data', (b: Buffer) => onOutput(b.toString()));
    child.stderr.on('data', (b: Buffer) => onOutput(b.toString()));
    child.on('error', (err) => done({ code: null, reason: err.message }));
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      done({ code, reason: sig ? `killed by ${sig}${signal?.aborted ? ' (run cancelled)' : ''}` : undefined });
    });
  });
}

/** What a stage produces: its outs, metrics and plots (all checked and hashed, `cache: false` or not). */
const outputsOf = (stage: StageSpec) => [...new Set([...stage.outs, ...(stage.metrics ?? []), ...(stage.plots ?? [])])];

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The stage's lock entry; deps and outs sorted by path, as DVC writes and compares them. */
async function lockEntry(spec: PipelineSpec, stage: StageSpec, paramValues: Record<string, Record<string, unknown>>, withOuts: boolean): Promise<LockedStage> {
  const cwd = resolve(spec.root, stage.wdir);
  const hashed = (paths: string[]) => Promise.all(paths.map(async (p) => ({ path: p, ...((await hashPath(resolve(cwd, p))) ?? { md5: null }) })));
  return {
    cmd: stage.cmd ?? `builtin:${stage.builtin}${stage.with ? ` ${stableJson(stage.with)}` : ''}`,
    deps: (await hashed(stage.deps)).sort(byPath),
    params: paramValues,
    outs: withOuts ? (await hashed(outputsOf(stage))).sort(byPath) : [],
  };
}

function readMetricsFile(path: string): Record<string, number> {
  if (!existsSync(path)) return {};
  try {
    return flattenMetrics(parseYaml(readFileSync(path, 'utf8'))); // YAML is a superset of JSON
  } catch {
    return {};
  }
}

export async function runPipeline(spec: PipelineSpec, options: RunPipelineOptions = {}): Promise<PipelineRunOutcome> {
  const order = orderStages(spec.stages, options.targets);
  const lockPath = options.lockFile ?? resolve(spec.root, LOCK_FILE_NAME);
  const lock = readLockFile(lockPath);
  const records = order.map((s) => newStageRecord(s.name, s.cmd ? 'cmd' : 'builtin'));
  const allParams: Record<string, unknown> = {};
  const allMetrics: Record<string, number> = {};
  const emit = async (r: StageRecord) => options.onStage?.(r, records);
  let error: string | null = null;

  for (const [i, stage] of order.entries()) {
    const record = records[i]!;
    const cwd = resolve(spec.root, stage.wdir);
    if (error) {
      record.status = 'skipped';
      record.error = 'an earlier stage failed';
      await emit(record);
      continue;
    }
    const cache = new Map<string, unknown>();
    const paramValues: Record<string, Record<string, unknown>> = {};
    for (const ref of stage.params) {
      const value = readParam(spec.root, ref, cache);
      (paramValues[ref.file] ??= {})[ref.key] = value;
      allParams[`${ref.file}:${ref.key}`] = value;
    }
    const started = Date.now();
    record.started_at = new Date(started).toISOString();
    const missingDeps = stage.deps.filter((d) => !existsSync(resolve(cwd, d)));
    if (missingDeps.length) {
      error = `stage ${stage.name}: missing dependencies: ${missingDeps.join(', ')}`;
      Object.assign(record, { status: 'failed', error, finished_at: new Date().toISOString(), duration_ms: Date.now() - started });
      await emit(record);
      continue;
    }
    const before = await lockEntry(spec, stage, paramValues, false);
    const locked = lock.stages[stage.name];
    const unchanged =
      !options.force &&
      !stage.always_changed &&
      locked &&
      locked.cmd === before.cmd &&
      stableJson([...locked.deps].sort(byPath)) === stableJson(before.deps) &&
      stableJson(locked.params) === stableJson(before.params) &&
      stableJson([...locked.outs].sort(byPath)) === stableJson((await lockEntry(spec, stage, paramValues, true)).outs);
    if (unchanged) {
      record.status = 'cached';
      appendLog(record, `Stage '${stage.name}' didn't change, skipping`);
    } else {
      record.status = 'running';
      await emit(record);
      if (stage.cmd) {
        appendLog(record, `$ ${stage.cmd}`);
        const res = await runCommand(stage.cmd, cwd, options.env ?? {}, options.timeoutMs ?? 3600_000, options.signal, (t) => appendLog(record, t));
        if (res.code !== 0) error = `stage ${stage.name}: command failed (${res.reason ?? `exit code ${res.code}`}): ${stage.cmd}`;
      } else {
        const step = options.builtins?.[stage.builtin!];
        if (!step) error = `stage ${stage.name}: unknown builtin "${stage.builtin}" (known: ${Object.keys(options.builtins ?? {}).join(', ') || 'none'})`;
        else {
          try {
            const out = await step({ stage, root: spec.root, params: Object.fromEntries(Object.entries(paramValues).flatMap(([, kv]) => Object.entries(kv))), log: (l) => appendLog(record, l), signal: options.signal ?? new AbortController().signal });
            if (out?.artifacts) record.artifacts = out.artifacts;
            if (out?.metrics) Object.assign(record.metrics, out.metrics);
          } catch (err) {
            error = `stage ${stage.name}: ${(err as Error).message}`;
          }
        }
      }
      if (!error) {
        const missingOuts = outputsOf(stage).filter((o) => !existsSync(resolve(cwd, o)));
        if (missingOuts.length) error = `stage ${stage.name}: the command did not produce ${missingOuts.join(', ')}`;
      }
      if (!error) {
        lock.stages[stage.name] = await lockEntry(spec, stage, paramValues, true);
        writeLockFile(lockPath, lock);
        const cacheDir = dvcCacheDir(spec.root);
        if (cacheDir) for (const o of outputsOf(stage)) if (!stage.uncached?.includes(o)) await saveToDvcCache(cacheDir, resolve(cwd, o));
      }
      record.status = error ? 'failed' : 'succeeded';
      record.error = error;
    }
    for (const m of stage.metrics) {
      const values = readMetricsFile(resolve(cwd, m));
      Object.assign(record.metrics, values);
      for (const [k, v] of Object.entries(values)) allMetrics[`${m}:${k}`] = v;
    }
    record.artifacts = { ...record.artifacts, outs: (lock.stages[stage.name]?.outs ?? []).filter((o) => outputsOf(stage).includes(o.path)) };
    record.finished_at = new Date().toISOString();
    record.duration_ms = Date.now() - started;
    await emit(record);
  }
  return { status: error ? 'failed' : 'succeeded', stages: records, params: allParams, metrics: allMetrics, error };
}
