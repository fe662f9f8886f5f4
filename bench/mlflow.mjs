// MLflow API: the official client (mlflow-skinny, .venv-mlflow) timing log_batch of 1,000 metrics and
// search_runs with a filter and an order over 10,000 runs, against Vitals and against a real
// `mlflow server` (SQLite backend, the pinned `mlflow` package) started here on 127.0.0.1, in the same
// run, on the same machine. Prints seconds and ratios (MLflow time / Vitals time; > 1 means Vitals
// is faster). Needs `bash scripts/services/mlflow-client.sh --server`.
//
//   npm run build && node bench/mlflow.mjs [--runs 10000] [--repeats 5]
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../dist/config/index.js';
import { buildApp } from '../dist/server/app.js';
import { createMlflowApi } from '../dist/tracking/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PY = join(ROOT, '.venv-mlflow/bin/python');
const MLFLOW = join(ROOT, '.venv-mlflow/bin/mlflow');
const DRIVER = join(ROOT, 'bench/mlflow_driver.py');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 10_000);
const REPEATS = arg('repeats', 5);
const BASE = 1_700_000_000_000;

if (!existsSync(PY) || !existsSync(MLFLOW)) {
  console.error('the MLflow venv is missing: run `bash scripts/services/mlflow-client.sh --server`');
  process.exit(1);
}

const python = (args) =>
  new Promise((res, rej) =>
    execFile(PY, [DRIVER, ...args], { timeout: 600_000, maxBuffer: 8 << 20, env: { ...process.env, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' } }, (err, out, errOut) =>
      err ? rej(new Error(`${args[0]}: ${err.message}\n${errOut.slice(-3000)}`)) : res(out.trim().split('\n').at(-1)),
    ),
  );
const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

/** The same values as run_values() in bench/mlflow_driver.py. */
function runValues(i) {
  const accuracy = 0.5 + ((i * 7919) % 1000) / 2000;
  return {
    name: `run-${i}`,
    start: BASE + i * 1000,
    params: { algorithm: ['logreg', 'rf', 'xgboost'][i % 3], C: String((i % 7) / 2 === Math.trunc((i % 7) / 2) ? `${(i % 7) / 2}.0` : (i % 7) / 2) },
    metrics: { accuracy, loss: Math.round((1 - accuracy) * 1e6) / 1e6 },
    tags: { team: ['a', 'b', 'c', 'd'][i % 4] },
  };
}

async function seedVitals(database, registry) {
  const { tracking } = createMlflowApi(database, registry, registry.artifacts);
  const exp = await tracking.createExperiment('search-bench');
  for (let i = 0; i < RUNS; i++) {
    const v = runValues(i);
    const run = await tracking.createRun({ experiment_id: exp, start_time: v.start, run_name: v.name, tags: Object.entries(v.tags).map(([key, value]) => ({ key, value })) });
    await tracking.logBatch(run.info.run_id, {
      metrics: Object.entries(v.metrics).map(([key, value]) => ({ key, value, timestamp: v.start, step: 0 })),
      params: Object.entries(v.params).map(([key, value]) => ({ key, value })),
    });
    await tracking.updateRun(run.info.run_id, { status: 'FINISHED', end_time: v.start + 500 });
  }
  return exp;
}

const home = mkdtempSync(join(tmpdir(), 'vitals-bench-mlflow-'));
let mlflow;
let vitals;
try {
  // Vitals: the full app on SQLite, in this process
  const settings = loadConfig({ env: {}, dotenvFile: false, overrides: { VITALS_HOME: join(home, 'vitals'), LOG_LEVEL: 'silent', VITALS_DEMO: false, INFERENCE_WORKERS: 1 } });
  vitals = await buildApp(settings, { logger: false });
  const vitalsUrl = await vitals.app.listen({ host: '127.0.0.1', port: 0 });
  let t = performance.now();
  const vitalsExp = await seedVitals(vitals.services.database, vitals.services.registry);
  console.log(`seeded ${RUNS} runs into Vitals in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // the reference: mlflow server, SQLite backend
  mkdirSync(join(home, 'mlflow'));
  const port = await freePort();
  const mlflowUrl = `http://127.0.0.1:${port}`;
  const db = join(home, 'mlflow', 'mlflow.db');
  mlflow = spawn(
    MLFLOW,
    ['server', '--backend-store-uri', `sqlite:///${db}`, '--artifacts-destination', join(home, 'mlflow', 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
    { stdio: 'ignore' },
  );
  for (
    let i = 0;
    !(await fetch(`${mlflowUrl}/health`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 240) throw new Error('mlflow server did not start within 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  const created = await (
    await fetch(`${mlflowUrl}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'search-bench' }) })
  ).json();
  t = performance.now();
  await python(['seed-sqlite', db, created.experiment_id, String(RUNS)]);
  console.log(`seeded ${RUNS} runs into the mlflow server's SQLite store in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // measure one after the other (2 cores: never both at once)
  const ours = JSON.parse(await python(['measure', vitalsUrl, vitalsExp, String(REPEATS)]));
  const theirs = JSON.parse(await python(['measure', mlflowUrl, created.experiment_id, String(REPEATS)]));
  const same = ours.found === theirs.found && JSON.stringify(ours.first) === JSON.stringify(theirs.first);
  const rows = [
    { what: 'log_batch, 1,000 metrics', vitals_s: ours.log_batch_s, mlflow_s: theirs.log_batch_s },
    { what: `search_runs over ${RUNS} runs (filter + order, ${ours.found} found)`, vitals_s: ours.search_runs_s, mlflow_s: theirs.search_runs_s },
  ].map((r) => ({ ...r, speedup: r.mlflow_s / r.vitals_s }));
  console.table(rows.map((r) => ({ what: r.what, 'vitals (s)': r.vitals_s.toFixed(4), 'mlflow (s)': r.mlflow_s.toFixed(4), 'mlflow / vitals': `${r.speedup.toFixed(1)}×` })));
  console.log(
    same ? 'search results: identical (count and first 20 in order)' : `search results DIFFER: vitals ${ours.found} ${ours.first.slice(0, 5)} vs mlflow ${theirs.found} ${theirs.first.slice(0, 5)}`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/mlflow.json'), JSON.stringify({ runs: RUNS, repeats: REPEATS, rows, same_results: same, at: new Date().toISOString() }, null, 2));
  process.exitCode = same ? 0 : 1;
} finally {
  mlflow?.kill('SIGTERM');
  await vitals?.close();
  rmSync(home, { recursive: true, force: true });
}
