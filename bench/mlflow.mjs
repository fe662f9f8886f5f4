// MLflow API: the official client (mlflow-skinny, .venv-mlflow) timing log_batch of 1,000 metrics and
// search_runs with a filter and an order over 10,000 runs, against Vitals and against a real
// `mlflow server` (SQLite backend, the pinned `mlflow` package) started here on 127.0.0.1, in the same
// run, on the same machine. Prints seconds and ratios (MLflow time / Vitals time; > 1 means Vitals
// is faster), and the client's floor: the same calls against a server that answers at once with each
// server's recorded answer, i.e. the time the client spends itself, which bounds any ratio. Needs `bash scripts/services/mlflow-client.sh --server`.
//
//   npm run build && node bench/mlflow.mjs [--runs 10000] [--rounds 5] [--repeats 3]   (repeats: per round)
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
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
const ROUNDS = arg('rounds', 5);
const REPEATS = arg('repeats', 3);
const BASE = 1_700_000_000_000;
/** as in bench/mlflow_driver.py */
const FILTER = "metrics.accuracy > 0.9 and params.algorithm = 'rf'";
const ORDER = ['metrics.accuracy DESC'];

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
let floor;
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

  // the client's floor: the same calls answered at once with each server's own answer (recorded here)
  const searchBody = (exp) => JSON.stringify({ experiment_ids: [exp], filter: FILTER, run_view_type: 'ACTIVE_ONLY', max_results: 1000, order_by: ORDER });
  const answer = async (url, exp) =>
    Buffer.from(await (await fetch(`${url}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: searchBody(exp) })).arrayBuffer());
  const canned = { vitals: await answer(vitalsUrl, vitalsExp), mlflow: await answer(mlflowUrl, created.experiment_id) };
  floor = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const which = req.url?.startsWith('/mlflow/') ? 'mlflow' : 'vitals';
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.endsWith('/runs/search') ? canned[which] : '{}');
    });
  });
  const floorUrl = `http://127.0.0.1:${await new Promise((res) => floor.listen(0, '127.0.0.1', () => res(floor.address().port)))}`;

  // One at a time (2 cores: never two at once), in interleaved rounds whose order rotates, so that
  // load from other work on a shared machine spreads over all four instead of skewing one. Each
  // server first gets one pass of warm-up: the first pass after seeding runs 3-5× slower on either
  // (code paths compiled, the seeding's write-ahead log checkpointed).
  const targets = [
    { name: 'vitals', args: ['measure', vitalsUrl, vitalsExp] },
    { name: 'mlflow', args: ['measure', mlflowUrl, created.experiment_id] },
    { name: 'floor_vitals', args: ['measure-floor', `${floorUrl}/vitals`] },
    { name: 'floor_mlflow', args: ['measure-floor', `${floorUrl}/mlflow`] },
  ];
  const samples = Object.fromEntries(targets.map((x) => [x.name, { log_batch_s: [], search_runs_s: [] }]));
  const found = {};
  for (const x of targets.slice(0, 2)) await python([...x.args, '1']);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < targets.length; k++) {
      const x = targets[(round + k) % targets.length];
      const out = JSON.parse(await python([...x.args, String(REPEATS)]));
      samples[x.name].log_batch_s.push(...out.log_batch_all);
      samples[x.name].search_runs_s.push(...out.search_runs_all);
      found[x.name] = out;
    }
  }
  const median = (xs) => {
    const s = [...xs].sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const m = Object.fromEntries(Object.entries(samples).map(([name, v]) => [name, { log_batch_s: median(v.log_batch_s), search_runs_s: median(v.search_runs_s) }]));
  const [ours, theirs, floorOurs, floorTheirs] = [m.vitals, m.mlflow, m.floor_vitals, m.floor_mlflow];
  const same = found.vitals.found === found.mlflow.found && JSON.stringify(found.vitals.first) === JSON.stringify(found.mlflow.first);

  const row = (what, key) => ({
    what,
    vitals_s: ours[key],
    mlflow_s: theirs[key],
    client_floor_vitals_s: floorOurs[key],
    client_floor_mlflow_s: floorTheirs[key],
    speedup: theirs[key] / ours[key],
    // what the server itself takes: the client's time less the client's own work on that answer
    server_vitals_s: ours[key] - floorOurs[key],
    server_mlflow_s: theirs[key] - floorTheirs[key],
    server_speedup: ours[key] > floorOurs[key] ? (theirs[key] - floorTheirs[key]) / (ours[key] - floorOurs[key]) : null,
    best_possible: theirs[key] / floorOurs[key],
  });
  const rows = [row('log_batch, 1,000 metrics', 'log_batch_s'), row(`search_runs over ${RUNS} runs (filter + order, ${found.vitals.found} found)`, 'search_runs_s')];
  console.table(
    rows.map((r) => ({
      what: r.what,
      'vitals (s)': r.vitals_s.toFixed(4),
      'mlflow (s)': r.mlflow_s.toFixed(4),
      'mlflow / vitals': `${r.speedup.toFixed(1)}×`,
      'client floor (s)': `${r.client_floor_vitals_s.toFixed(4)} / ${r.client_floor_mlflow_s.toFixed(4)}`,
      'server time: mlflow / vitals': r.server_speedup === null ? 'n/a (noise)' : `${r.server_speedup.toFixed(1)}×`,
      'best possible': `${r.best_possible.toFixed(1)}×`,
    })),
  );
  console.log(`search answer: vitals ${canned.vitals.length} bytes, mlflow ${canned.mlflow.length} bytes`);
  console.log('client floor: the same client calls answered at once with the recorded answer (vitals / mlflow); "best possible" = mlflow ÷ the floor on Vitals\' answer');
  console.log(
    same
      ? 'search results: identical (count and first 20 in order)'
      : `search results DIFFER: vitals ${found.vitals.found} ${found.vitals.first.slice(0, 5)} vs mlflow ${found.mlflow.found} ${found.mlflow.first.slice(0, 5)}`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/mlflow.json'),
    JSON.stringify(
      { runs: RUNS, rounds: ROUNDS, repeats: REPEATS, rows, samples, answer_bytes: { vitals: canned.vitals.length, mlflow: canned.mlflow.length }, same_results: same, at: new Date().toISOString() },
      null,
      2,
    ),
  );
  process.exitCode = same ? 0 : 1;
} finally {
  mlflow?.kill('SIGTERM');
  floor?.close();
  await vitals?.close();
  rmSync(home, { recursive: true, force: true });
}
