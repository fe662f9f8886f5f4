#!/usr/bin/env node
// Dashboard aggregates at scale: fills a SQLite database with 1,000,000 logged predictions across 20
// models (a week of traffic), 1,000 monitoring checks, alerts, 500 pipeline runs and 10,000
// experiment runs, then measures every /api/v1/dashboard endpoint through the real app (routing,
// queries, response-schema serialization) — p50/p95 over repeated calls — against a reference
// measured in the same run: the same overview answered with an empty rollup (every row of the
// last day read live from the prediction log). With /usr/bin/chromium present it also times the
// overview page in headless Chromium until the models' rows are drawn.
//
//   npm run build && node bench/dashboard.mjs [--predictions 1000000] [--models 20] [--runs 40]
//
// Writes bench/results/dashboard.json. Target: every aggregate ≤ 100 ms p95; overview page < 1.5 s.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../dist/config/index.js';
import { uuidv7 } from '../dist/ids.js';
import { buildApp } from '../dist/server/app.js';
import { openDatabase } from '../dist/store/index.js';
import { machineInfo, percentile, printTable, round, writeResult } from './lib/common.mjs';

const { values: args } = parseArgs({
  options: {
    predictions: { type: 'string', default: '1000000' },
    models: { type: 'string', default: '20' },
    runs: { type: 'string', default: '40' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(args.predictions);
const MODELS = Number(args.models);
const RUNS = Number(args.runs);
const FEATURES = Array.from({ length: 12 }, (_, i) => `feature_${i}`);
const DAY = 86_400_000;

// Deterministic pseudo-random numbers (mulberry32): the same database on every run.
let seed = 1234567;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

const home = mkdtempSync(join(tmpdir(), 'vitals-bench-dashboard-'));
const file = join(home, 'vitals.db');
const now = Date.now();

async function fill() {
  const started = performance.now();
  const migrated = await openDatabase(undefined, home); // creates every table and index
  await migrated.close();
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const iso = (ms) => new Date(ms).toISOString();
  const sha = 'a'.repeat(64);
  db.prepare('insert into artifacts values (?, ?, ?, ?)').run(sha, 1, 'application/onnx', iso(now - 30 * DAY));
  const spec = JSON.stringify({ kind: 'tabular', features: FEATURES.map((name) => ({ name, type: 'number', required: true })) });
  const out = JSON.stringify({ labels: ['negative', 'positive'] });
  const models = [];
  const insModel = db.prepare('insert into models values (?, ?, ?, ?, ?, ?, ?, ?)');
  const insVersion = db.prepare(
    'insert into model_versions (id, model_id, version, major, minor, patch, status, artifact_sha256, artifact_size, input_spec, output_spec, metrics, params, metadata, reference_profile, lineage, created_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insAlias = db.prepare('insert into model_aliases values (?, ?, ?, ?)');
  const insEvent = db.prepare('insert into model_events values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let m = 0; m < MODELS; m++) {
      const id = uuidv7(now - 30 * DAY + m);
      const name = `model-${String(m + 1).padStart(2, '0')}`;
      insModel.run(id, name, 'classification', 'tabular', null, '[]', iso(now - 30 * DAY), iso(now - 30 * DAY));
      const versions = ['1.0.0', '1.1.0'].map((v, i) => {
        const vid = uuidv7(now - 29 * DAY + m * 10 + i);
        insVersion.run(vid, id, v, 1, i, 0, 'ready', sha, 1, spec, out, JSON.stringify({ accuracy: 0.9 + i / 100 }), '{}', '{}', null, '{}', 'bench', iso(now - 29 * DAY));
        insEvent.run(uuidv7(now - 29 * DAY + m * 10 + i), id, 'registered', null, null, vid, 'bench', null, iso(now - 29 * DAY));
        return vid;
      });
      insAlias.run(id, 'production', versions[0], iso(now - 28 * DAY));
      insAlias.run(id, 'challenger', versions[1], iso(now - 28 * DAY));
      insEvent.run(uuidv7(now - 28 * DAY + m), id, 'promoted', 'production', null, versions[0], 'alice', 'best AUC on the holdout', iso(now - 28 * DAY));
      models.push({ id, name, versions, weight: 1 / (m + 1) });
    }
  })();
  // A week of predictions, interleaved across models (Zipf-like traffic), in time order so ids and times agree.
  const total = models.reduce((a, m) => a + m.weight, 0);
  const cumulative = [];
  let acc = 0;
  for (const m of models) cumulative.push((acc += m.weight / total));
  const insLog = db.prepare(
    'insert into prediction_logs (id, model_id, version_id, model_name, version, variant, request_id, source, input, prediction, probabilities, confidence, latency_ms, ground_truth, ground_truth_at, created_at, error) values (?, ?, ?, ?, ?, null, null, ?, ?, ?, ?, ?, ?, ?, null, ?, ?)',
  );
  const span = 7 * DAY - 60_000;
  const batch = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const t = now - 7 * DAY + Math.floor((i / N) * span);
      const r = rand();
      const m = models[cumulative.findIndex((c) => r <= c)] ?? models[0];
      const challenger = rand() < 0.1;
      const failed = rand() < 0.01;
      const input = JSON.stringify(Object.fromEntries(FEATURES.map((f) => [f, round(gauss(), 3)])));
      const p = rand();
      insLog.run(
        uuidv7(t),
        m.id,
        m.versions[challenger ? 1 : 0],
        m.name,
        challenger ? '1.1.0' : '1.0.0',
        'api',
        input,
        failed ? null : p > 0.5 ? 'positive' : 'negative',
        failed ? null : JSON.stringify({ negative: 1 - p, positive: p }),
        failed ? null : Math.max(p, 1 - p),
        failed ? null : Math.exp(1 + 0.6 * gauss()),
        rand() < 0.3 ? (rand() > 0.5 ? 'positive' : 'negative') : null,
        new Date(t).toISOString(),
        failed ? 'INFERENCE_FAILED' : null,
      );
    }
  });
  for (let i = 0; i < N; i += 50_000) batch(i, Math.min(N, i + 50_000));
  // 50 monitoring checks per model over the week, each with a drift report over every feature.
  const insCheck = db.prepare('insert into monitoring_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const m of models) {
      for (let c = 0; c < 50; c++) {
        const t = now - 7 * DAY + c * ((7 * DAY) / 50);
        const feature_drifts = Object.fromEntries(
          FEATURES.map((f) => {
            const effect = rand() * 0.3;
            return [
              f,
              {
                feature: f,
                type: 'numeric',
                test: 'ks',
                statistic: effect,
                p_value: rand(),
                effect,
                drifted: effect > 0.2,
                reference: { mean: 0, std: 1 },
                current: { mean: effect, std: 1, missing: 0 },
              },
            ];
          }),
        );
        const drifted = Object.values(feature_drifts).filter((d) => d.drifted).length;
        const score = 1 - drifted * 0.05;
        const report = {
          window: { size: 1000, limit: 1000, needed: 0 },
          drift: { drift_detected: drifted > 0, dataset_drift: false, drift_score: drifted / FEATURES.length, drifted_features: [], feature_drifts },
          decay: { labels: 300, current_accuracy: 0.9, estimated_accuracy: 0.88, baseline_accuracy: 0.9 },
          health: { score, band: score > 0.8 ? 'good' : 'warning' },
        };
        insCheck.run(uuidv7(t), m.id, m.versions[0], 'ok', 1000, drifted / FEATURES.length, score, 0.9, 0.88, JSON.stringify(report), new Date(t).toISOString());
      }
    }
  })();
  const insAlert = db.prepare('insert into alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let a = 0; a < 400; a++) {
      const m = models[a % models.length];
      const t = now - Math.floor(rand() * 7 * DAY);
      const firing = a % 5 === 0;
      insAlert.run(
        uuidv7(t),
        m.id,
        m.versions[0],
        'drift',
        ['critical', 'warning', 'info'][a % 3],
        `k${a}`,
        firing ? 'firing' : 'resolved',
        'drift above threshold',
        '{}',
        iso(t),
        iso(t),
        iso(t),
        firing ? null : iso(t + 3600_000),
      );
    }
  })();
  const insRun = db.prepare('insert into pipeline_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const stages = JSON.stringify(
    ['data_collection', 'validation', 'training', 'model_validation', 'testing', 'ab_test', 'deployment'].map((name) => ({
      name,
      kind: 'builtin',
      status: 'succeeded',
      started_at: null,
      finished_at: null,
      duration_ms: 1200,
      logs: Array.from({ length: 30 }, (_, i) => `line ${i}`),
      artifacts: {},
      metrics: {},
      error: null,
    })),
  );
  db.transaction(() => {
    for (let r = 0; r < 500; r++) {
      const t = now - Math.floor(rand() * 30 * DAY);
      insRun.run(uuidv7(t), 'cicd', models[r % models.length].name, 'api', null, 'succeeded', '{}', stages, '{}', '{}', '{}', null, 'bench', iso(t), iso(t), iso(t + 60_000), iso(t + 60_000));
    }
  })();
  const insExp = db.prepare('insert into experiments values (?, ?, ?)');
  const insTrack = db.prepare('insert into tracking_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    const exps = ['tuning-a', 'tuning-b', 'tuning-c'].map((name, i) => {
      const id = uuidv7(now - 40 * DAY + i);
      insExp.run(id, name, iso(now - 40 * DAY));
      return id;
    });
    for (let r = 0; r < 10_000; r++) {
      const t = now - Math.floor(rand() * 30 * DAY);
      insTrack.run(
        uuidv7(t),
        exps[r % 3],
        `run-${r}`,
        'completed',
        JSON.stringify({ lr: rand(), depth: 1 + (r % 10) }),
        JSON.stringify({ roc_auc: rand(), accuracy: rand(), loss: rand() }),
        '{}',
        iso(t),
        iso(t + 1000),
      );
    }
  })();
  db.close();
  return { seconds: round((performance.now() - started) / 1000, 1), models };
}

async function time(app, url, runs) {
  for (let i = 0; i < 3; i++) await app.inject({ url }); // warm-up: JIT, page cache
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await app.inject({ url });
    ms.push(performance.now() - t0);
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
  }
  const sorted = Float64Array.from(ms).sort();
  return { p50: round(percentile(sorted, 50), 1), p95: round(percentile(sorted, 95), 1), max: round(sorted[sorted.length - 1], 1) };
}

async function chromiumOverview(base) {
  const path = process.env.CHROMIUM ?? '/usr/bin/chromium';
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { skipped: `no chromium at ${path}` };
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const ms = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      const t0 = performance.now();
      await page.goto(`${base}/`);
      await page
        .locator('table.overview tbody tr')
        .nth(MODELS - 1)
        .waitFor();
      ms.push(performance.now() - t0);
      await page.close();
    }
    const sorted = Float64Array.from(ms).sort();
    return { first_load_ms: round(ms[0], 0), p50_ms: round(percentile(sorted, 50), 0), max_ms: round(sorted[sorted.length - 1], 0) };
  } finally {
    await browser.close();
  }
}

try {
  console.log(`filling ${home}: ${N} predictions across ${MODELS} models…`);
  const filled = await fill();
  console.log(`filled in ${filled.seconds} s`);
  const settings = loadConfig({ env: {}, dotenvFile: false, overrides: { VITALS_HOME: home, LOG_LEVEL: 'silent', VITALS_DEMO: false, INFERENCE_WORKERS: 1, PIPELINE_WORKER: false } });
  const vitals = await buildApp(settings, { logger: false });
  const { app, services } = vitals;

  // Reference: the overview with nothing rolled up (the last day's rows read live).
  const reference = await time(app, '/api/v1/dashboard/overview', 3);
  const t0 = performance.now();
  const folded = await services.rollups.refresh();
  const refreshSeconds = round((performance.now() - t0) / 1000, 1);
  const t1 = performance.now();
  const incremental = await services.rollups.refresh();
  const incrementalMs = round(performance.now() - t1, 1);
  console.log(`rollup catch-up: ${folded} rows in ${refreshSeconds} s; an idle refresh: ${incremental} rows in ${incrementalMs} ms`);

  const model = filled.models[0].name;
  const endpoints = {
    overview: '/api/v1/dashboard/overview',
    'model page (day)': `/api/v1/dashboard/models/${model}?window=day`,
    'model page (week)': `/api/v1/dashboard/models/${model}?window=week`,
    'input form': `/api/v1/dashboard/models/${model}/input-form`,
    'alerts (firing)': '/api/v1/dashboard/alerts?status=firing',
    'pipeline runs': '/api/v1/dashboard/pipeline-runs?limit=20',
    'experiment runs by metric': '/api/v1/dashboard/experiment-runs?sort=metric:roc_auc&order=desc&limit=50',
    'experiment runs page 100': '/api/v1/dashboard/experiment-runs?experiment=tuning-b&sort=started_at&offset=2500&limit=25',
  };
  const rows = [];
  for (const [name, url] of Object.entries(endpoints)) rows.push({ endpoint: name, ...(await time(app, url, RUNS)) });
  const overview = rows[0];
  rows.push({ endpoint: 'overview, nothing rolled up (reference)', ...reference });
  printTable(rows, ['endpoint', 'p50', 'p95', 'max']);
  console.log(`overview p95 with rollups vs live scan: ${round(reference.p95 / overview.p95, 1)}x faster`);
  const over = rows.filter((r) => !r.endpoint.includes('reference') && r.p95 > 100);
  console.log(over.length ? `ABOVE 100 ms p95: ${over.map((r) => r.endpoint).join(', ')}` : 'every aggregate is within 100 ms p95');

  await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromiumOverview(`http://127.0.0.1:${app.server.address().port}`);
  console.log('overview page in headless Chromium (until all rows are drawn):', browser);
  await vitals.close();
  const file = writeResult('dashboard.json', {
    machine: machineInfo(),
    predictions: N,
    models: MODELS,
    fill_seconds: filled.seconds,
    rollup: { catch_up_rows: folded, catch_up_seconds: refreshSeconds, idle_refresh_ms: incrementalMs },
    endpoints_ms: rows,
    overview_speedup_vs_live_scan: round(reference.p95 / overview.p95, 1),
    chromium_overview: browser,
  });
  console.log(`wrote ${file}`);
} finally {
  if (!args.keep) rmSync(home, { recursive: true, force: true });
  else console.log(`kept ${home}`);
}
