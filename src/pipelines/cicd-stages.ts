/**
 * The eight built-in stages of the CI/CD model pipeline (the third seed): data collection, data
 * validation, training, model validation, model testing, A/B testing, deployment, production
 * monitoring setup. Each reads and extends one context; a stage throws to fail the run, or returns
 * `reject` to stop it with a decision (a worse candidate is not an error, it is an answer).
 */
import { commandEnv } from './command-env.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AbTest, AbTestConfig, AbTesting } from '../abtest/index.js';
import type { AccessRecorder } from '../audit/index.js';
import { flattenInput } from '../monitoring/drift-report.js';
import { computeDataDrift } from '../monitoring/drift-report.js';
import type { ModelMonitor } from '../monitoring/model-monitor.js';
import type { PredictionLog } from '../monitoring/prediction-log.js';
import type { Model, ModelRegistry, ModelVersion } from '../registry/index.js';
import type { InferencePool } from '../serving/index.js';
import { rocAuc } from '../stats/classification-metrics.js';
import { buildOutputProfile, buildReferenceProfile } from '../stats/reference-profile.js';
import type { ExperimentTracking } from '../tracking/index.js';
import type { CicdRequest } from './cicd-request.js';
import { openOnnxClassifier } from './onnx-evaluation.js';
import type { PipelineRun } from './pipeline-run-store.js';
import { type StageRecord, appendLog, flattenMetrics } from './stage-record.js';
import { parseCsv, stratifiedSplit, toTabularDataset, trainTabularClassifier } from './trainers/index.js';

export interface CicdDeps {
  registry: ModelRegistry;
  predictionLog: PredictionLog;
  monitor: ModelMonitor;
  abTests: AbTesting;
  pool: InferencePool;
  tracking: ExperimentTracking;
  /** VITALS_HOME/pipelines: one folder per run for data, models and logs */
  workRoot: string;
  windowSize: number;
  driftThreshold: number;
  /** training on the prediction log reads patient-level rows: audited like any other read */
  access?: AccessRecorder;
}

export interface CicdContext {
  deps: CicdDeps;
  run: PipelineRun;
  request: CicdRequest;
  workdir: string;
  model: Model;
  production: ModelVersion | null;
  data?: {
    source: string;
    featureNames: string[];
    labels: string[];
    X: number[][];
    y: number[];
    train: number[];
    holdout: number[];
    sha256: string;
  };
  candidate?: { path: string; onnx: Uint8Array; sha256: string; algo: string; params: Record<string, unknown>; trainMetrics: Record<string, number>; trackingRunId: string | null };
  evaluation?: { candidate: Record<string, number>; production: Record<string, number> | null; predictions: number[] };
  /** carried between stages and across a resume; stored in the run's result */
  result: Record<string, unknown>;
}

/** `wait` parks the run: on its A/B test (resumed when the test ends), or, with `retryInMs`, on data (the stage runs again then). */
export type StageOutcome = { outcome: 'ok' } | { outcome: 'wait'; retryInMs?: number } | { outcome: 'reject'; decision: string; reason: string };
export type CicdStep = (ctx: CicdContext, rec: StageRecord) => Promise<StageOutcome>;

const ok = (): StageOutcome => ({ outcome: 'ok' });
const pct = (x: number | undefined | null) => (x === undefined || x === null ? 'n/a' : x.toFixed(4));

function targetOf(ctx: CicdContext): string {
  return ctx.request.data.target ?? (ctx.production?.metadata.target as string | undefined) ?? 'label';
}

function featureNames(ctx: CicdContext): string[] | null {
  const spec = ctx.production?.input_spec;
  return spec?.kind === 'tabular' ? spec.features.map((f) => f.name) : null;
}

// ---------- 1. data collection ----------

export const dataCollection: CicdStep = async (ctx, rec) => {
  const d = ctx.request.data;
  const target = targetOf(ctx);
  let columns: string[];
  let rows: string[][];
  if (d.source === 'prediction_log') {
    const names = featureNames(ctx);
    if (!names) throw new Error(`model ${ctx.model.name} has no tabular production version to take features from; give a file or folder`);
    const limit = d.limit ?? ctx.deps.windowSize;
    const since = d.since_trigger ? ctx.run.created_at : undefined;
    const entries = (await ctx.deps.predictionLog.list({ modelId: ctx.model.id, withGroundTruth: true, limit, since })).filter((e) => e.variant !== 'shadow');
    if (since && entries.length < limit) {
      const waited = Date.now() - Date.parse(since);
      if (waited < d.wait_s * 1000) {
        appendLog(rec, `waiting for labelled predictions made since the run was triggered (${since}): ${entries.length} of ${limit}`);
        // look again soon at first, then at most once a minute (labels may take days)
        return { outcome: 'wait', retryInMs: Math.min(60_000, Math.max(1000, waited / 10)) };
      }
      appendLog(rec, `waited ${d.wait_s} s for ${limit} labelled predictions since ${since}; ${entries.length} arrived`);
    }
    columns = [...names, target];
    rows = entries.map((e) => {
      const flat = flattenInput(e.input);
      return [...names.map((n) => (flat[n] === undefined || flat[n] === null ? '' : String(flat[n]))), String(e.ground_truth)];
    });
    appendLog(rec, `collected ${rows.length} recent labelled predictions of ${ctx.model.name} (newest ${limit}${since ? ` made since ${since}` : ''})`);
    rec.artifacts.source = { kind: 'prediction_log', limit, since: since ?? null, oldest: entries.at(-1)?.created_at ?? null, newest: entries[0]?.created_at ?? null };
    // lineage: the prediction ids are time-ordered, so the oldest and newest id name the rows taken
    ctx.result.data_window = { predictions: entries.length, oldest_id: entries.at(-1)?.id ?? null, newest_id: entries[0]?.id ?? null };
    if (entries.length)
      await ctx.deps.access?.recordAccess({
        action: 'prediction.listed',
        target: `model:${ctx.model.name}`,
        actor: `pipeline:${ctx.run.id}`,
        reason: 'training data of a pipeline run',
        details: { count: entries.length, newest_id: entries[0]!.id, oldest_id: entries.at(-1)!.id, labeled: true, pipeline_run_id: ctx.run.id },
      });
  } else {
    if (!d.path) throw new Error(`data.source ${d.source} needs data.path`);
    const files =
      d.source === 'folder'
        ? readdirSync(d.path)
            .filter((f) => f.endsWith('.csv'))
            .sort()
            .map((f) => join(d.path!, f))
        : [d.path];
    if (!files.length) throw new Error(`no .csv files in ${d.path}`);
    columns = [];
    rows = [];
    const read: Array<{ path: string; sha256: string; rows: number }> = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const parsed = parseCsv(text);
      if (columns.length && parsed.columns.join(',') !== columns.join(',')) throw new Error(`${f}: its header differs from ${files[0]}'s`);
      columns = parsed.columns;
      rows.push(...parsed.rows);
      read.push({ path: f, sha256: createHash('sha256').update(text).digest('hex'), rows: parsed.rows.length });
    }
    appendLog(rec, `read ${rows.length} rows from ${files.length} file(s)`);
    rec.artifacts.source = { kind: d.source, files };
    // lineage: each source file's own content hash, beside the hash of the assembled data set
    ctx.result.data_path = d.path;
    ctx.result.data_files = read;
  }
  const csv = [columns.join(','), ...rows.map((r) => r.join(','))].join('\n');
  const path = join(ctx.workdir, 'data.csv');
  writeFileSync(path, csv);
  ctx.result.data_rows = rows.length;
  ctx.result.data_sha256 = createHash('sha256').update(csv).digest('hex');
  rec.artifacts.data = { path, rows: rows.length, columns: columns.length, sha256: ctx.result.data_sha256 };
  rec.metrics.rows = rows.length;
  return ok();
};

// ---------- 2. data validation ----------

interface Check {
  check: string;
  passed: boolean;
  message: string;
}

export const dataValidation: CicdStep = async (ctx, rec) => {
  const v = ctx.request.validation;
  const target = targetOf(ctx);
  const parsed = parseCsv(readFileSync(join(ctx.workdir, 'data.csv'), 'utf8'));
  const checks: Check[] = [];
  const expected = featureNames(ctx) ?? parsed.columns.filter((c) => c !== target);
  const missingCols = [...expected, target].filter((c) => !parsed.columns.includes(c));
  checks.push({
    check: 'schema',
    passed: missingCols.length === 0,
    message: missingCols.length ? `missing columns: ${missingCols.join(', ')}` : `${expected.length} features and the target ${target}`,
  });
  checks.push({ check: 'rows', passed: parsed.rows.length >= v.min_rows, message: `${parsed.rows.length} rows (minimum ${v.min_rows})` });
  const problems: string[] = [];
  const missing: string[] = [];
  const outOfRange: string[] = [];
  const spec = ctx.production?.input_spec.kind === 'tabular' ? ctx.production.input_spec : null;
  if (!missingCols.length) {
    for (const name of expected) {
      const i = parsed.columns.indexOf(name);
      const values = parsed.rows.map((r) => r[i] ?? '');
      const blanks = values.filter((x) => x.trim() === '').length;
      if (blanks / Math.max(1, values.length) > v.max_missing_share) missing.push(`${name} (${blanks} missing)`);
      const bad = values.filter((x) => x.trim() !== '' && !Number.isFinite(Number(x)));
      if (bad.length) problems.push(`${name}: ${bad.length} non-numeric value(s), e.g. "${bad[0]}"`);
      const f = spec?.features.find((s) => s.name === name);
      if (v.check_ranges && f && (f.min !== undefined || f.max !== undefined)) {
        const out = values.map(Number).filter((x) => Number.isFinite(x) && ((f.min !== undefined && x < f.min) || (f.max !== undefined && x > f.max)));
        if (out.length) outOfRange.push(`${name}: ${out.length} outside [${f.min ?? '-∞'}, ${f.max ?? '∞'}]`);
      }
    }
  }
  checks.push({ check: 'types', passed: problems.length === 0, message: problems.length ? problems.join('; ') : 'every feature is numeric' });
  checks.push({ check: 'missing_values', passed: missing.length === 0, message: missing.length ? `more than ${v.max_missing_share * 100}% missing in ${missing.join(', ')}` : 'within limits' });
  if (v.check_ranges) checks.push({ check: 'ranges', passed: outOfRange.length === 0, message: outOfRange.length ? outOfRange.join('; ') : 'within the declared ranges' });
  const ti = parsed.columns.indexOf(target);
  const counts: Record<string, number> = {};
  if (ti >= 0) for (const r of parsed.rows) counts[r[ti]!] = (counts[r[ti]!] ?? 0) + 1;
  const known = ctx.production?.output_spec.labels ?? Object.keys(counts);
  const unknown = Object.keys(counts).filter((l) => !known.includes(l));
  const shares = known.map((l) => [l, (counts[l] ?? 0) / Math.max(1, parsed.rows.length)] as const);
  const scarce = shares.filter(([, s]) => s < v.min_class_share);
  checks.push({
    check: 'label_balance',
    passed: unknown.length === 0 && scarce.length === 0,
    message: `${shares.map(([l, s]) => `${l} ${(s * 100).toFixed(1)}%`).join(', ')}${unknown.length ? `; unknown labels: ${unknown.join(', ')}` : ''}${scarce.length ? `; below ${v.min_class_share * 100}%: ${scarce.map(([l]) => l).join(', ')}` : ''}`,
  });
  const profile = ctx.production ? await ctx.deps.registry.referenceProfile(ctx.production.id) : null;
  if (v.drift !== 'off' && profile && !missingCols.length && problems.length === 0) {
    const rowsObj = parsed.rows.map((r) => Object.fromEntries(expected.map((n) => [n, r[parsed.columns.indexOf(n)] === '' ? null : Number(r[parsed.columns.indexOf(n)])])));
    const drift = computeDataDrift(profile, rowsObj, { threshold: ctx.deps.driftThreshold });
    rec.artifacts.drift = { drift_detected: drift.drift_detected, drift_score: drift.drift_score, drifted_features: drift.drifted_features };
    checks.push({
      check: 'drift',
      passed: v.drift === 'report' || !drift.drift_detected,
      message: drift.drift_detected
        ? `drift against ${ctx.production!.version}'s reference in ${drift.drifted_features.length} feature(s): ${drift.drifted_features.slice(0, 5).join(', ')}${v.drift === 'report' ? ' (reported; the new version learns the new distribution)' : ''}`
        : 'no drift against the current reference',
    });
  }
  rec.artifacts.checks = checks;
  for (const c of checks) appendLog(rec, `${c.passed ? 'PASS' : 'FAIL'} ${c.check}: ${c.message}`);
  const failed = checks.filter((c) => !c.passed);
  if (failed.length) throw new Error(`data validation failed: ${failed.map((c) => `${c.check} (${c.message})`).join('; ')}`);

  const ds = toTabularDataset(parsed, target);
  const order = expected.map((n) => ds.featureNames.indexOf(n));
  const X = ds.X.map((r) => order.map((i) => r[i]!));
  // Class indices in the production version's label order, so both models are scored alike.
  const y = ds.y.map((c) => known.indexOf(ds.labels[c]!));
  const split = stratifiedSplit(X.length, y, ctx.request.data.holdout_fraction, ctx.request.training.seed);
  ctx.data = {
    source: String((ctx.result.data_source as string | undefined) ?? ctx.request.data.source),
    featureNames: expected,
    labels: known,
    X,
    y,
    train: split.train,
    holdout: split.test,
    sha256: String(ctx.result.data_sha256),
  };
  rec.metrics.train_rows = split.train.length;
  rec.metrics.holdout_rows = split.test.length;
  return ok();
};

// ---------- 3. training ----------

/**
 * Runs an external trainer command. Only the operator's own paths reach this (the CLI, retraining
 * policies set by an operator): every HTTP route refuses `training.cmd` (routes.ts
 * `checkNetworkCicdRequest`), and the command runs with a scrubbed environment (command-env.ts).
 */
function runShell(cmd: string, cwd: string, env: Record<string, string>, rec: StageRecord, signal: AbortSignal): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(cmd, { cwd, shell: true, env: commandEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const abort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', abort, { once: true });
    child.stdout.on('data', (b: Buffer) => appendLog(rec, b.toString()));
    child.stderr.on('data', (b: Buffer) => appendLog(rec, b.toString()));
    child.on('error', (err) => {
      appendLog(rec, err.message);
      done(null);
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', abort);
      done(code);
    });
  });
}

/** Tracking lines an external trainer may append to $VITALS_TRACKING_FILE (JSON per line). */
async function ingestTracking(ctx: CicdContext, runId: string, file: string): Promise<number> {
  if (!existsSync(file)) return 0;
  let n = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { event: string; [k: string]: unknown };
    if (e.event === 'log_model_config') await ctx.deps.tracking.logConfig(runId, (e.config as Record<string, unknown>) ?? {});
    else if (e.event === 'log_training_step') await ctx.deps.tracking.logTrainingStep(runId, Number(e.epoch), Number(e.loss), e.learning_rate === undefined ? undefined : Number(e.learning_rate));
    else if (e.event === 'log_metrics') await ctx.deps.tracking.logMetrics(runId, flattenMetrics(e.metrics), e.step === undefined ? undefined : Number(e.step));
    n++;
  }
  return n;
}

export const training =
  (signal: AbortSignal): CicdStep =>
  async (ctx, rec) => {
    const data = ctx.data!;
    const t = ctx.request.training;
    const algo = t.cmd ? 'external' : (t.algo ?? (ctx.production?.params.algorithm as 'logreg' | 'rf' | undefined) ?? 'logreg');
    const experiment = t.experiment ?? `${ctx.model.name}-training`;
    const tracked = await ctx.deps.tracking.startRun(experiment, {
      name: `pipeline ${ctx.run.id}`,
      config: { algo, params: t.params ?? {}, seed: t.seed, trigger: ctx.run.trigger, data_sha256: data.sha256 },
      tags: { pipeline_run: ctx.run.id },
    });
    rec.artifacts.tracking = { experiment, run_id: tracked.id };
    const modelPath = join(ctx.workdir, 'model.onnx');
    try {
      if (t.cmd) {
        const trainCsv = join(ctx.workdir, 'train.csv');
        const target = targetOf(ctx);
        writeFileSync(trainCsv, [[...data.featureNames, target].join(','), ...data.train.map((i) => [...data.X[i]!, data.labels[data.y[i]!]].join(','))].join('\n'));
        const trackingFile = join(ctx.workdir, 'tracking.jsonl');
        const metricsOut = join(ctx.workdir, 'metrics.json');
        appendLog(rec, `$ ${t.cmd}`);
        const code = await runShell(
          t.cmd,
          process.cwd(),
          { VITALS_TRAIN_CSV: trainCsv, VITALS_TARGET: target, VITALS_MODEL_OUT: modelPath, VITALS_METRICS_OUT: metricsOut, VITALS_TRACKING_FILE: trackingFile, VITALS_RUN_DIR: ctx.workdir },
          rec,
          signal,
        );
        if (code !== 0) throw new Error(`training command failed (exit code ${code}): ${t.cmd}`);
        if (!existsSync(modelPath)) throw new Error(`the training command did not write the ONNX model to $VITALS_MODEL_OUT (${modelPath})`);
        const steps = await ingestTracking(ctx, tracked.id, trackingFile);
        const metrics = existsSync(metricsOut) ? flattenMetrics(JSON.parse(readFileSync(metricsOut, 'utf8'))) : {};
        if (Object.keys(metrics).length) await ctx.deps.tracking.logMetrics(tracked.id, metrics);
        const onnx = new Uint8Array(readFileSync(modelPath));
        ctx.candidate = { path: modelPath, onnx, sha256: createHash('sha256').update(onnx).digest('hex'), algo, params: { command: t.cmd }, trainMetrics: metrics, trackingRunId: tracked.id };
        appendLog(rec, `external trainer wrote ${onnx.length} bytes of ONNX; ${steps} tracking line(s) ingested`);
      } else {
        const builtin = algo as 'logreg' | 'rf';
        const ds = { featureNames: data.featureNames, labels: data.labels, X: data.train.map((i) => data.X[i]!), y: data.train.map((i) => data.y[i]!) };
        let lastLogged = -1;
        const steps: Array<[number, number]> = [];
        const trained = trainTabularClassifier(ds, {
          algo: builtin,
          seed: t.seed,
          params: t.params,
          onProgress: (done, total) => {
            const step = Math.floor((done / total) * 20);
            if (step !== lastLogged) {
              lastLogged = step;
              steps.push([done, done / total]);
            }
          },
        });
        for (const [done, progress] of steps) await ctx.deps.tracking.logMetrics(tracked.id, { progress }, done);
        await ctx.deps.tracking.logConfig(tracked.id, { params: trained.params });
        const metrics = Object.fromEntries(Object.entries(trained.metrics).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
        await ctx.deps.tracking.logMetrics(tracked.id, metrics);
        writeFileSync(modelPath, trained.onnx);
        ctx.candidate = {
          path: modelPath,
          onnx: trained.onnx,
          sha256: createHash('sha256').update(trained.onnx).digest('hex'),
          algo: builtin,
          params: trained.params,
          trainMetrics: metrics,
          trackingRunId: tracked.id,
        };
        appendLog(rec, `trained ${builtin} on ${ds.X.length} rows: internal test accuracy ${pct(metrics.accuracy)}`);
      }
      await ctx.deps.tracking.finish(tracked.id, 'completed');
    } catch (err) {
      await ctx.deps.tracking.finish(tracked.id, 'failed').catch(() => undefined);
      throw err;
    }
    rec.artifacts.model = { path: modelPath, sha256: ctx.candidate.sha256, bytes: ctx.candidate.onnx.length, algo: ctx.candidate.algo };
    Object.assign(rec.metrics, ctx.candidate.trainMetrics);
    return ok();
  };

// ---------- 4. model validation ----------

function scores(proba: number[][], y: number[], labels: string[]): { metrics: Record<string, number>; predictions: number[] } {
  const predictions = proba.map((p) => p.indexOf(Math.max(...p)));
  const accuracy = predictions.filter((p, i) => p === y[i]).length / Math.max(1, y.length);
  const metrics: Record<string, number> = { accuracy };
  if (labels.length === 2) {
    const tp = predictions.filter((p, i) => p === 1 && y[i] === 1).length;
    const fp = predictions.filter((p, i) => p === 1 && y[i] === 0).length;
    const fn = predictions.filter((p, i) => p === 0 && y[i] === 1).length;
    metrics.precision = tp + fp ? tp / (tp + fp) : 0;
    metrics.recall = tp + fn ? tp / (tp + fn) : 0;
    metrics.f1 = metrics.precision + metrics.recall ? (2 * metrics.precision * metrics.recall) / (metrics.precision + metrics.recall) : 0;
    const auc = rocAuc(
      y.map((c) => c === 1),
      proba.map((p) => p[1]!),
    );
    if (auc !== undefined) metrics.roc_auc = auc;
  }
  return { metrics, predictions };
}

function candidateSpecs(ctx: CicdContext) {
  return {
    input_spec:
      ctx.production?.input_spec.kind === 'tabular'
        ? ctx.production.input_spec
        : { kind: 'tabular' as const, features: ctx.data!.featureNames.map((name) => ({ name, type: 'number' as const, required: true })) },
    output_spec: { labels: ctx.data!.labels, probabilities: 'probabilities', logits: false },
  };
}

export const modelValidation: CicdStep = async (ctx, rec) => {
  const data = ctx.data!;
  const c = ctx.candidate!;
  const Xh = data.holdout.map((i) => data.X[i]!);
  const yh = data.holdout.map((i) => data.y[i]!);
  const specs = candidateSpecs(ctx);
  const cand = await openOnnxClassifier(ctx.deps.pool, { key: c.sha256, path: c.path }, specs.input_spec, specs.output_spec);
  const candScores = scores(await cand.predictProba(Xh), yh, data.labels);
  let prodMetrics: Record<string, number> | null = null;
  if (ctx.production) {
    const p = ctx.production;
    const prod = await openOnnxClassifier(ctx.deps.pool, { key: p.artifact.sha256, path: ctx.deps.registry.artifacts.pathOf(p.artifact.sha256) }, p.input_spec, p.output_spec);
    prodMetrics = scores(await prod.predictProba(Xh), yh, p.output_spec.labels).metrics;
  }
  ctx.evaluation = { candidate: candScores.metrics, production: prodMetrics, predictions: candScores.predictions };
  ctx.result.validation = { holdout_rows: yh.length, candidate: candScores.metrics, production: prodMetrics, production_version: ctx.production?.version ?? null };
  rec.artifacts.evaluation = ctx.result.validation as Record<string, unknown>;
  for (const [k, v] of Object.entries(candScores.metrics)) rec.metrics[`candidate.${k}`] = v;
  for (const [k, v] of Object.entries(prodMetrics ?? {})) rec.metrics[`production.${k}`] = v;

  const g = ctx.request.gates;
  const failures: string[] = [];
  for (const [metric, floor] of Object.entries(g.min)) {
    const value = candScores.metrics[metric];
    const passed = value !== undefined && value >= floor;
    appendLog(rec, `${passed ? 'PASS' : 'FAIL'} gate ${metric} ≥ ${floor}: ${pct(value)}`);
    if (!passed) failures.push(`${metric} ${pct(value)} is below the gate ${floor}`);
  }
  if (prodMetrics) {
    const cv = candScores.metrics[g.metric] ?? 0;
    const pv = prodMetrics[g.metric] ?? 0;
    const passed = cv - pv >= g.min_improvement;
    appendLog(
      rec,
      `${passed ? 'PASS' : 'FAIL'} ${g.metric} against production ${ctx.production!.version} on the same ${yh.length} holdout rows: candidate ${pct(cv)} vs production ${pct(pv)} (needs ≥ ${g.min_improvement >= 0 ? '+' : ''}${g.min_improvement})`,
    );
    if (!passed)
      failures.push(
        `candidate ${g.metric} ${pct(cv)} vs production ${ctx.production!.version} ${pct(pv)} on the same ${yh.length} holdout rows (needs ${g.min_improvement >= 0 ? '+' : ''}${g.min_improvement})`,
      );
  }
  if (failures.length) return { outcome: 'reject', decision: 'rejected_at_model_validation', reason: failures.join('; ') };
  return ok();
};

// ---------- 5. model testing ----------

export const modelTesting: CicdStep = async (ctx, rec) => {
  const data = ctx.data!;
  const c = ctx.candidate!;
  const specs = candidateSpecs(ctx);
  const cand = await openOnnxClassifier(ctx.deps.pool, { key: c.sha256, path: c.path }, specs.input_spec, specs.output_spec);
  appendLog(rec, 'PASS loads in onnxruntime and its tensors match the specs');
  const golden =
    ctx.request.testing.golden ??
    data.holdout.slice(0, 8).map((i, k) => ({ features: Object.fromEntries(data.featureNames.map((n, j) => [n, data.X[i]![j]!])), expected: data.labels[ctx.evaluation!.predictions[k]!] }));
  const proba = await cand.predictProba(golden.map((g) => data.featureNames.map((n) => Number(g.features[n] ?? Number.NaN))));
  const failures: string[] = [];
  proba.forEach((p, i) => {
    const sum = p.reduce((a, b) => a + b, 0);
    const label = data.labels[p.indexOf(Math.max(...p))];
    if (!p.every(Number.isFinite) || Math.abs(sum - 1) > 1e-3) failures.push(`golden input ${i}: probabilities ${JSON.stringify(p)} do not form a distribution`);
    else if (golden[i]!.expected !== undefined && label !== golden[i]!.expected) failures.push(`golden input ${i}: answered ${label}, expected ${golden[i]!.expected}`);
  });
  appendLog(rec, `${failures.length ? 'FAIL' : 'PASS'} ${golden.length} golden inputs answered${failures.length ? `: ${failures.join('; ')}` : ' as expected'}`);
  const times: number[] = [];
  const x = data.X[data.holdout[0] ?? 0]!;
  for (let i = 0; i < 30; i++) times.push(await cand.timeOne(x));
  times.sort((a, b) => a - b);
  const p95 = times[Math.floor(0.95 * (times.length - 1))]!;
  const budget = ctx.request.testing.latency_budget_ms;
  appendLog(rec, `${p95 <= budget ? 'PASS' : 'FAIL'} p95 latency ${p95.toFixed(2)} ms over ${times.length} single-row calls (budget ${budget} ms)`);
  if (p95 > budget) failures.push(`p95 latency ${p95.toFixed(1)} ms exceeds the budget of ${budget} ms`);
  rec.metrics.p95_latency_ms = p95;
  rec.metrics.golden_inputs = golden.length;
  if (failures.length) return { outcome: 'reject', decision: 'rejected_at_model_testing', reason: failures.join('; ') };
  return ok();
};

// ---------- registration (by the A/B stage or the deployment stage, whichever comes first) ----------

async function ensureRegistered(ctx: CicdContext, rec: StageRecord): Promise<ModelVersion> {
  if (ctx.result.new_version_id) return ctx.deps.registry.getVersion(String(ctx.result.new_version_id));
  const data = ctx.data!;
  const c = ctx.candidate!;
  const trainRows = data.train.map((i) => Object.fromEntries(data.featureNames.map((n, j) => [n, data.X[i]![j]!])));
  const specs = candidateSpecs(ctx);
  const cand = await openOnnxClassifier(ctx.deps.pool, { key: c.sha256, path: c.path }, specs.input_spec, specs.output_spec);
  const version = await ctx.deps.registry.register({
    name: ctx.model.name,
    artifact: c.onnx,
    task: 'classification',
    modality: 'tabular',
    description: `retrained by pipeline run ${ctx.run.id} (${ctx.run.trigger})`,
    input_spec: specs.input_spec,
    output_spec: specs.output_spec,
    metrics: ctx.evaluation?.candidate ?? c.trainMetrics,
    params: { algorithm: c.algo, ...c.params },
    metadata: { target: targetOf(ctx), trainer: `vitals/${c.algo}`, training_date: new Date().toISOString(), pipeline_run_id: ctx.run.id, tracking_run_id: c.trackingRunId },
    reference_profile: {
      ...buildReferenceProfile(trainRows, { features: data.featureNames }),
      outputs: buildOutputProfile(await cand.predictProba(data.train.map((i) => data.X[i]!)), data.labels),
    },
    lineage: {
      pipeline_run_id: ctx.run.id,
      trigger: ctx.run.trigger,
      tracking_run_id: c.trackingRunId,
      // data_sha256: the data set exactly as trained and validated on (data.csv in the run's folder)
      data_sha256: data.sha256,
      data_source: ctx.request.data.source,
      data_path: (ctx.result.data_path as string | undefined) ?? null,
      ...(ctx.result.data_files ? { data_files: ctx.result.data_files } : {}),
      ...(ctx.result.data_window ? { data_window: ctx.result.data_window } : {}),
      rows: data.X.length,
      train_rows: data.train.length,
      holdout_rows: data.holdout.length,
      seed: ctx.request.training.seed,
      parent_version: ctx.production?.version ?? null,
    },
    actor: `pipeline:${ctx.run.id}`,
  });
  ctx.result.new_version_id = version.id;
  ctx.result.new_version = version.version;
  appendLog(rec, `registered ${version.model_name} ${version.version}`);
  return version;
}

// ---------- 6. A/B testing ----------

export const abTesting: CicdStep = async (ctx, rec) => {
  const ab = ctx.request.ab_test;
  if (!ab.enabled || !ctx.production) {
    rec.status = 'skipped';
    appendLog(rec, ab.enabled ? 'no production version to test against' : 'A/B testing is not enabled for this run');
    return ok();
  }
  const version = await ensureRegistered(ctx, rec);
  await ctx.deps.registry.promote(version.id, {
    alias: 'challenger',
    actor: `pipeline:${ctx.run.id}`,
    reason: `pipeline run ${ctx.run.id}: passed validation; ${ab.mode} test against ${ctx.production.version}`,
  });
  let test: AbTest;
  if (ctx.result.ab_test_id) test = await ctx.deps.abTests.get(String(ctx.result.ab_test_id));
  else {
    test = await ctx.deps.abTests.create({
      name: `${ctx.model.name} ${version.version} ${ab.mode} (pipeline ${ctx.run.id.slice(-8)})`,
      control: ctx.production.id,
      treatment: version.id,
      mode: ab.mode,
      traffic_split: ab.traffic_split,
      metric: ab.metric,
      decision_mode: 'auto',
      config: ab.config as Partial<AbTestConfig> | undefined,
      actor: `pipeline:${ctx.run.id}`,
    });
  }
  ctx.result.ab_test_id = test.id;
  rec.artifacts.ab_test = { id: test.id, name: test.name, mode: test.mode, traffic_split: test.traffic_split, control: test.control_version, treatment: test.treatment_version };
  appendLog(rec, `started ${test.mode} test "${test.name}" (${test.id}): ${(test.traffic_split * 100).toFixed(0)}% of traffic to ${test.treatment_version}`);
  return ok();
};

// ---------- 7. deployment ----------

export const deployment: CicdStep = async (ctx, rec) => {
  const actor = `pipeline:${ctx.run.id}`;
  const previousId = (ctx.result.previous_production_id as string | undefined) ?? ctx.production?.id ?? null;
  ctx.result.previous_production_id = previousId;
  if (ctx.result.ab_test_id) {
    const test = await ctx.deps.abTests.get(String(ctx.result.ab_test_id));
    if (test.status === 'active') {
      appendLog(rec, `waiting for ${test.mode} test ${test.id} to decide`);
      return { outcome: 'wait' };
    }
    if (test.winner !== 'treatment') {
      const version = await ctx.deps.registry.getVersion(String(ctx.result.new_version_id));
      if (version.status !== 'archived' && !version.aliases.includes('production')) {
        await ctx.deps.registry.archive(version.id, { actor, reason: `pipeline run ${ctx.run.id}: lost ${test.mode} test ${test.id}` });
      }
      return { outcome: 'reject', decision: 'rejected_by_ab_test', reason: `${test.mode} test "${test.name}" kept ${test.control_version}: ${test.decision_reason ?? test.status}` };
    }
    appendLog(rec, `${test.mode} test ${test.id} promoted ${test.treatment_version}: ${test.decision_reason ?? ''}`);
    const promoted = await ctx.deps.registry.getVersion(test.treatment_version_id);
    if (promoted.aliases.includes('challenger'))
      await ctx.deps.registry.removeAlias(ctx.model.name, 'challenger', { actor, reason: `pipeline run ${ctx.run.id}: ${promoted.version} is production now` });
  } else {
    const version = await ensureRegistered(ctx, rec);
    if (!ctx.request.deploy.promote) {
      await ctx.deps.registry.promote(version.id, { alias: 'staging', actor, reason: `pipeline run ${ctx.run.id}: passed validation; promotion left to a person` });
      appendLog(rec, `${version.version} is staged; production unchanged (deploy.promote is false)`);
      ctx.result.deployed = false;
      return ok();
    }
    await ctx.deps.registry.promote(version.id, { actor, reason: `pipeline run ${ctx.run.id}: passed validation and testing` });
    appendLog(rec, `promoted ${version.version} to production`);
  }
  ctx.result.deployed = true;
  const current = await ctx.deps.registry.resolve(ctx.model.name);
  rec.artifacts.production = { version: current.version, id: current.id };
  if (ctx.request.deploy.archive_previous && previousId && previousId !== current.id) {
    const prev = await ctx.deps.registry.getVersion(previousId);
    if (prev.status !== 'archived') {
      await ctx.deps.registry.archive(prev.id, { actor, reason: `pipeline run ${ctx.run.id}: replaced by ${current.version}` });
      appendLog(rec, `archived the previous production version ${prev.version}`);
      ctx.result.archived_version = prev.version;
    }
  }
  return ok();
};

// ---------- 8. production monitoring setup ----------

export const monitoringSetup: CicdStep = async (ctx, rec) => {
  if (!ctx.result.deployed) {
    rec.status = 'skipped';
    appendLog(rec, 'nothing was deployed');
    return ok();
  }
  const version = await ctx.deps.registry.getVersion(String(ctx.result.new_version_id));
  const profile = await ctx.deps.registry.referenceProfile(version.id);
  if (!profile) throw new Error(`${version.version} has no reference profile; drift cannot be monitored`);
  const report = await ctx.deps.monitor.checkVersion(version.id);
  rec.artifacts.reference_profile = { features: Object.keys(profile.features ?? {}).length, rows: (profile as { rows?: number }).rows ?? null };
  rec.artifacts.alert_rules = {
    data_drift: { threshold: ctx.deps.monitor.options.driftThreshold },
    decay: { threshold: ctx.deps.monitor.options.decayThreshold, baseline_accuracy: version.metrics.accuracy ?? null },
    ...ctx.deps.monitor.options.thresholds,
  };
  rec.artifacts.baseline_check = { status: report.status, window: report.window };
  appendLog(
    rec,
    `monitoring ${version.version}: reference profile of its training data, drift threshold ${ctx.deps.monitor.options.driftThreshold}, decay threshold ${ctx.deps.monitor.options.decayThreshold}`,
  );
  return ok();
};

export function runDirectory(workRoot: string, runId: string): string {
  const dir = resolve(workRoot, runId);
  mkdirSync(dir, { recursive: true });
  return dir;
}
