#!/usr/bin/env node
// Tabular predict benchmark: the full Vitals app vs. a bare Fastify + onnxruntime "floor", and vs. a
// FastAPI + onnxruntime peer (uvicorn, 1 and 2 workers; venv by scripts/bench/fastapi-peer-venv.sh)
// on the same ONNX file and the same bodies.
//
//   npm run build && node bench/serving.mjs [--connections 32] [--duration 10] [--rounds 5] [--warmup 2]
//                                            [--variants async-ack,no-log|none] [--peers 1,2|none]
//                                            [--wait-idle 10] [--profile]
//   monitoring overhead (issue 13): node bench/serving.mjs --variants no-checks --peers none
//   prints Vitals (checks every 500 predictions) ÷ vitals-no-checks, and the checks run per server.
//
// Variants change one setting each: async-ack (PREDICTION_LOG_ACK=async), group-0ms, no-publish,
// no-checks, no-batching, no-log (MODEL_MONITORING_ENABLED=false).
// Every server runs in its own child process on 127.0.0.1; this process drives one at a time with
// autocannon (same connections, same request bodies cycling through the real rows of the breast
// cancer CSV). An idle server uses no CPU, so all of them are started first and then measured in
// interleaved rounds (duration/rounds seconds each, the order rotating every round): on a shared
// 2-core machine this spreads any background load over all servers instead of skewing one.
// Latencies are timed per response with sub-millisecond resolution (autocannon's own histogram
// rounds to whole milliseconds; its figures are kept in the JSON too).
// Every response must be 2xx: the run fails (exit 1) on any non-2xx, error or timeout, and when
// Vitals' prediction log holds fewer rows after close() than it answered.
// --profile writes V8 CPU profiles of each server (main thread and inference workers) to
// bench/results/profiles/<server>/. Results: bench/results/serving.json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  BENCH_DIR,
  codeInfo,
  FOREIGN_LOAD_WARN_CORES,
  ask,
  foreignCores,
  loadCsvRows,
  machineBusyMs,
  machineInfo,
  percentile,
  printTable,
  round,
  startChild,
  stopChild,
  waitForQuiet,
  writeResult,
} from './lib/common.mjs';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'async-ack,no-log' },
    'wait-idle': { type: 'string', default: '10' },
    'keep-home': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    /** skip the durable floor (the floor + a committed SQLite row per answer) */
    'no-durable-floor': { type: 'boolean', default: false },
    /** FastAPI + onnxruntime peers: uvicorn worker counts, or "none" */
    peers: { type: 'string', default: '1,2' },
  },
});
const CONNECTIONS = Number(args.connections);
const DURATION_S = Number(args.duration);
const ROUNDS = Math.max(1, Number(args.rounds));
const ROUND_S = DURATION_S / ROUNDS;
const WARMUP_S = Number(args.warmup);
const PATH = '/api/v1/ml-models/predict';
const MODEL = 'breast-cancer';
const CHECK_ROWS = 25;
const VITALS = join(BENCH_DIR, 'lib', 'vitals-server.mjs');
const FLOOR = join(BENCH_DIR, 'lib', 'floor-server.mjs');
const FASTAPI = join(BENCH_DIR, 'lib', 'fastapi-peer.mjs');
const PEER_VENV_SCRIPT = join(BENCH_DIR, '..', 'scripts', 'bench', 'fastapi-peer-venv.sh');

/** Vitals variants, one setting changed each, to attribute the gap to the floor. */
const VARIANTS = {
  'async-ack': { PREDICTION_LOG_ACK: 'async' },
  /** commit ack, a commit whenever the writer is free (no minimum spacing between group commits) */
  'group-0ms': { PREDICTION_LOG_GROUP_MS: 0 },
  'no-batching': { ENABLE_BATCHING: false },
  'no-log': { MODEL_MONITORING_ENABLED: false },
  /** log on, but no prediction.recorded events to the bus (no outbox rows, no relay work) */
  'no-publish': { MESSAGING_PUBLISH_PREDICTIONS: false },
  /** log on, but no count-triggered monitoring checks */
  'no-checks': { MONITORING_CHECK_EVERY_N: 0 },
};

const rows = loadCsvRows();
const bodies = rows.map((r) => JSON.stringify({ model: MODEL, features: r.features }));

/** One autocannon run; keeps every response's latency (float ms) and counts statuses. */
function load(port, durationS) {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies = [];
    const statuses = {};
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: durationS,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: PATH,
            headers: { 'content-type': 'application/json' },
            // A global cursor: concurrent connections send different rows, all 569 in turn.
            setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          duration_s: result.duration,
          latencies,
          ok_2xx: statuses['2xx'] ?? 0,
          non_2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          status_codes: result.statusCodeStats,
          autocannon: { req_per_s_avg: result.requests.average, latency_p50_ms: result.latency.p50, latency_p99_ms: result.latency.p99 },
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      const cls = `${Math.floor(statusCode / 100)}xx`;
      statuses[cls] = (statuses[cls] ?? 0) + 1;
    });
  });
}

/** Posts the first CHECK_ROWS rows one by one; returns the parsed answers (throws on non-200). */
async function sample(port) {
  const out = [];
  for (const body of bodies.slice(0, CHECK_ROWS)) {
    const res = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`pre-flight request got HTTP ${res.status}: ${text.slice(0, 300)}`);
    out.push(JSON.parse(text));
  }
  return out;
}

/** The server's CPU time, event-loop delay since the last call (then reset) and Vitals' counters. */
const probe = (child) => ask(child, 'cpu');

async function start(server) {
  const t0 = performance.now();
  const execArgv = args.profile ? ['--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'results', 'profiles', server.name)] : [];
  const { child, ready } = await startChild(server.script, [JSON.stringify(server.arg)], { name: server.name, execArgv });
  server.child = child;
  server.ready = ready;
  server.startup_s = round((performance.now() - t0) / 1000, 2);
  server.answers = await sample(ready.port);
  console.log(`  ${server.name}: ready on 127.0.0.1:${ready.port} after ${server.startup_s} s`);
  return server;
}

/** Adds one measured round's figures to the server's totals. */
function accumulate(s, run, before, after, ownCpuMs, busyMs) {
  const serverCpuMs = (after.user + after.system - before.user - before.system) / 1000;
  const t = (s.totals ??= {
    duration_s: 0,
    ok_2xx: 0,
    non_2xx: 0,
    errors: 0,
    timeouts: 0,
    cpu_ms: 0,
    loadgen_ms: 0,
    foreign_ms: 0,
    loop_p99: [],
    loop_max: 0,
    rounds: [],
    status_codes: {},
    latencies: [],
    autocannon: [],
  });
  t.duration_s += run.duration_s;
  t.ok_2xx += run.ok_2xx;
  t.non_2xx += run.non_2xx;
  t.errors += run.errors;
  t.timeouts += run.timeouts;
  t.cpu_ms += serverCpuMs;
  t.loadgen_ms += ownCpuMs;
  const foreign = foreignCores({ busy0: 0, busy1: busyMs, ownCpuMs, childCpuMs: serverCpuMs, seconds: run.duration_s });
  t.foreign_ms += foreign * run.duration_s * 1000;
  t.loop_p99.push(after.loopDelay.p99);
  t.loop_max = Math.max(t.loop_max, after.loopDelay.max);
  for (const [code, v] of Object.entries(run.status_codes ?? {})) t.status_codes[code] = (t.status_codes[code] ?? 0) + v.count;
  for (const v of run.latencies) t.latencies.push(v);
  t.autocannon.push(run.autocannon);
  t.rounds.push({ req_per_s: round(run.ok_2xx / run.duration_s, 0), foreign_cores: foreign });
  if (after.counters) {
    const c = (t.counters ??= { batches: 0, batch_rows: 0, inference_s: 0, inference_n: 0, flushes: 0, flush_rows: 0, flush_ms: 0, checks: 0 });
    c.checks += (after.counters.monitoring_checks ?? 0) - (before.counters.monitoring_checks ?? 0);
    c.batches += after.counters.batch_rows.count - before.counters.batch_rows.count;
    c.batch_rows += after.counters.batch_rows.sum - before.counters.batch_rows.sum;
    c.inference_s += after.counters.inference_seconds.sum - before.counters.inference_seconds.sum;
    c.inference_n += after.counters.inference_seconds.count - before.counters.inference_seconds.count;
    c.flushes += after.counters.log_flushes.count - before.counters.log_flushes.count;
    c.flush_rows += after.counters.log_flushes.rows - before.counters.log_flushes.rows;
    c.flush_ms += after.counters.log_flushes.ms - before.counters.log_flushes.ms;
    c.flush_max_ms = after.counters.log_flushes.max_ms;
  }
}

function summarise(s) {
  const t = s.totals;
  const sorted = Float64Array.from(t.latencies).sort();
  const r = {
    name: s.name,
    settings: s.arg.VITALS_HOME ? Object.fromEntries(Object.entries(s.arg).filter(([k]) => k !== 'VITALS_HOME')) : undefined,
    startup_s: s.startup_s,
    duration_s: round(t.duration_s, 2),
    ok_2xx: t.ok_2xx,
    non_2xx: t.non_2xx + s.warm.non_2xx,
    errors: t.errors + s.warm.errors,
    timeouts: t.timeouts + s.warm.timeouts,
    status_codes: t.status_codes,
    req_per_s: round(t.ok_2xx / t.duration_s, 1),
    req_per_s_by_round: t.rounds.map((x) => x.req_per_s),
    latency_ms: {
      mean: round(sorted.reduce((a, v) => a + v, 0) / (sorted.length || 1), 3),
      p50: round(percentile(sorted, 50), 3),
      p90: round(percentile(sorted, 90), 3),
      p99: round(percentile(sorted, 99), 3),
      max: round(sorted.at(-1), 3),
    },
    autocannon_by_round: t.autocannon,
    server_cpu: {
      cores_busy: round(t.cpu_ms / (t.duration_s * 1000), 2),
      cpu_us_per_request: round((t.cpu_ms * 1000) / (t.ok_2xx || 1), 1),
    },
    loadgen_cpu_cores: round(t.loadgen_ms / (t.duration_s * 1000), 2),
    foreign_cpu_cores: round(t.foreign_ms / (t.duration_s * 1000), 2),
    foreign_cpu_cores_by_round: t.rounds.map((x) => x.foreign_cores),
    // How late the server's timers ran (median over rounds of each round's p99, and the worst).
    event_loop_delay_ms: { p99_median: round(t.loop_p99.sort((a, b) => a - b)[Math.floor(t.loop_p99.length / 2)], 2), max: round(t.loop_max, 2) },
  };
  const c = t.counters;
  if (c) {
    r.monitoring_checks = c.checks;
    r.batching = { batches: c.batches, mean_rows_per_batch: round(c.batch_rows / (c.batches || 1), 2), mean_session_run_ms: round((c.inference_s * 1000) / (c.inference_n || 1), 3) };
    if (c.flushes) {
      r.log_flushes = {
        flushes: c.flushes,
        mean_rows: round(c.flush_rows / c.flushes, 1),
        mean_ms: round(c.flush_ms / c.flushes, 2),
        us_per_row: round((c.flush_ms * 1000) / c.flush_rows, 1),
        max_ms: round(c.flush_max_ms, 2),
        main_thread_share: round(c.flush_ms / (t.duration_s * 1000), 3),
      };
    }
  }
  if (s.stopped?.logged !== undefined && s.arg.MODEL_MONITORING_ENABLED !== false) {
    // Every answered prediction must be in the log after close(): pre-flight + warm-up + measured
    // (plus requests still in flight when autocannon stopped counting, hence "at least").
    const expected = CHECK_ROWS + s.warm.ok_2xx + t.ok_2xx;
    const written = s.stopped.logged - s.ready.logged;
    r.prediction_log = { rows_written: written, expected_at_least: expected, pending_after_close: s.stopped.pending };
    if (written < expected) r.prediction_log.problem = 'fewer logged predictions than 2xx responses';
  }
  if (s.ready.peer) r.server = { peer: s.ready.peer, uvicorn_workers: s.ready.workers };
  else if (s.ready.workers)
    r.server = { workers: s.ready.workers, threads_per_worker: s.ready.threadsPerWorker, model: s.ready.model, version: s.ready.version, algorithm: s.ready.algorithm, artifact: s.ready.sha256 };
  else r.server = { onnxruntime: s.ready.ort, threads: 1 };
  return r;
}

/** The issue's targets, as ratios measured in this run (printed, never asserted). */
function printRatios(results) {
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  const floor = by.floor;
  const line = (label, r, ref, target) => {
    if (!r || !ref) return;
    const x = r.req_per_s / ref.req_per_s;
    console.log(`  ${label.padEnd(44)} ${x.toFixed(2)}× req/s, p99 ${(r.latency_ms.p99 / ref.latency_ms.p99).toFixed(2)}×   (target ${target})`);
  };
  console.log('\nratios (this run, same machine, same bodies):');
  line('Vitals (npm start: commit ack, monitoring) ÷ floor', by.vitals, floor, '≥ 0.85× req/s, p99 ≤ 1.5×');
  line('Vitals PREDICTION_LOG_ACK=async ÷ floor', by['vitals-async-ack'], floor, '≥ 0.95× req/s');
  // The durable floor: the floor plus a committed row per answer (writer thread, group commit):
  // what serving with commit ack costs any implementation on this machine.
  line('durable floor ÷ floor', by['floor-durable'], floor, '-');
  line('Vitals (commit ack) ÷ durable floor', by.vitals, by['floor-durable'], '-');
  line('Vitals ÷ FastAPI + onnxruntime, 2 workers', by.vitals, by['fastapi-2w'], '≥ 3× req/s');
  // Monitoring off the serving path (issue 13): checks every MONITORING_CHECK_EVERY_N=500 vs none.
  line('Vitals (checks every 500) ÷ checks off (N=0)', by.vitals, by['vitals-no-checks'], '≥ 0.95× req/s');
  line('Vitals ÷ FastAPI + onnxruntime, 1 worker', by.vitals, by['fastapi-1w'], '-');
}

async function main() {
  const info = machineInfo();
  console.log(`Vitals serving benchmark — ${info.cpus} × ${info.cpu_model}, Node ${info.node}`);
  console.log(`load: ${CONNECTIONS} connections; per server ${WARMUP_S} s warm-up + ${ROUNDS} interleaved rounds of ${round(ROUND_S, 2)} s; ${bodies.length} distinct rows cycling`);
  const homes = [];
  const vitalsSettings = (extra) => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-bench-serving-'));
    homes.push(home);
    // Each Vitals its own VITALS_HOME (SQLite file, artifacts); training is seeded, so the same model.
    return { VITALS_HOME: home, VITALS_DEMO: true, CACHE_SIZE: 0, ENABLE_BATCHING: true, MODEL_MONITORING_ENABLED: true, LOG_LEVEL: 'silent', ...extra };
  };
  const variantNames = args.variants
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x && x !== 'none');
  for (const v of variantNames) if (!VARIANTS[v]) throw new Error(`unknown variant "${v}" (known: ${Object.keys(VARIANTS).join(', ')}, none)`);

  const servers = [];
  let failure;
  try {
    console.log('\n▶ starting servers (one child process each)…');
    const vitals = await start({ name: 'vitals', script: VITALS, arg: vitalsSettings({}) });
    servers.push(vitals);
    const { onnxPath, features } = vitals.ready;
    console.log(`    model ${vitals.ready.model} ${vitals.ready.version} (${vitals.ready.algorithm}); ${vitals.ready.workers} inference worker(s) × ${vitals.ready.threadsPerWorker} thread(s)`);
    const floor = await start({ name: 'floor', script: FLOOR, arg: { onnxPath, features } });
    servers.push(floor);
    if (!args['no-durable-floor']) {
      const home = mkdtempSync(join(tmpdir(), 'vitals-bench-durable-floor-'));
      homes.push(home);
      servers.push(await start({ name: 'floor-durable', script: FLOOR, arg: { onnxPath, features, dbFile: join(home, 'log.db') } }));
    }
    for (const v of variantNames) servers.push(await start({ name: `vitals-${v}`, script: VITALS, arg: vitalsSettings(VARIANTS[v]) }));
    const peerWorkers =
      args.peers === 'none'
        ? []
        : args.peers
            .split(',')
            .map(Number)
            .filter((n) => n > 0);
    if (peerWorkers.length) {
      // The pinned venv (made once by the script); the same ONNX file and the same request bodies.
      const made = spawnSync('bash', [PEER_VENV_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (made.status !== 0) throw new Error(`${PEER_VENV_SCRIPT} failed (${made.status})`);
      const python = made.stdout.trim().split('\n').at(-1);
      for (const n of peerWorkers) servers.push(await start({ name: `fastapi-${n}w`, script: FASTAPI, arg: { onnxPath, features, workers: n, python } }));
    }

    // Same model, same answers: every server's probabilities against the floor's raw output.
    for (const s of servers) {
      if (s.ready.sha256 && s.ready.sha256 !== vitals.ready.sha256) throw new Error(`${s.name} serves artifact ${s.ready.sha256}, vitals ${vitals.ready.sha256}`);
      s.answers.forEach((a, i) => {
        const got = Array.isArray(a.probabilities) ? a.probabilities : Object.values(a.probabilities);
        const want = floor.answers[i].probabilities;
        if (got.length !== want.length || got.some((p, j) => Math.abs(p - want[j]) > 1e-6)) {
          throw new Error(`row ${i}: ${s.name} answered ${JSON.stringify(got)}, the floor ${JSON.stringify(want)}: not the same model?`);
        }
        if (a.cached) throw new Error(`${s.name} answered row ${i} from its cache (CACHE_SIZE should be 0)`);
      });
    }
    console.log(`  all servers give the same probabilities on the first ${CHECK_ROWS} rows`);

    await waitForQuiet({ maxWaitS: Number(args['wait-idle']) });
    console.log(`\n▶ warm-up, ${WARMUP_S} s each…`);
    for (const s of servers) s.warm = await load(s.ready.port, WARMUP_S);

    console.log(`▶ measuring: ${ROUNDS} rounds × ${servers.length} servers × ${round(ROUND_S, 2)} s…`);
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const order = servers.map((_, i) => servers[(i + round_) % servers.length]);
      const line = [];
      for (const s of order) {
        const before = await probe(s.child);
        const busy0 = machineBusyMs();
        const own0 = process.cpuUsage();
        const run = await load(s.ready.port, ROUND_S);
        const own = process.cpuUsage(own0);
        const busyMs = machineBusyMs() - busy0;
        const after = await probe(s.child);
        accumulate(s, run, before, after, (own.user + own.system) / 1000, busyMs);
        line.push(`${s.name} ${Math.round(run.ok_2xx / run.duration_s)}`);
      }
      console.log(`  round ${round_ + 1}: ${line.join(', ')} req/s`);
    }
  } catch (err) {
    failure = err;
  }
  for (const s of servers) if (s.child) s.stopped = await stopChild(s.child);
  if (!args['keep-home']) for (const h of homes) rmSync(h, { recursive: true, force: true });
  if (failure) {
    console.error(`\n✖ serving benchmark failed: ${failure.stack ?? failure}`);
    process.exit(1);
  }

  const results = servers.map(summarise);
  const floor = results.find((r) => r.name === 'floor');
  const ratio = (r, f) => (r === floor ? '1' : f(r).toFixed(2));
  console.log('');
  printTable(
    results.map((r) => ({
      server: r.name,
      'req/s': r.req_per_s.toFixed(0),
      'p50 ms': r.latency_ms.p50.toFixed(2),
      'p99 ms': r.latency_ms.p99.toFixed(2),
      'req/s ÷ floor': ratio(r, (x) => x.req_per_s / floor.req_per_s),
      'p50 ÷ floor': ratio(r, (x) => x.latency_ms.p50 / floor.latency_ms.p50),
      'p99 ÷ floor': ratio(r, (x) => x.latency_ms.p99 / floor.latency_ms.p99),
      '2xx': r.ok_2xx,
      'non-2xx': r.non_2xx,
      errors: r.errors + r.timeouts,
      'server CPU µs/req': r.server_cpu.cpu_us_per_request.toFixed(0),
      'server cores': r.server_cpu.cores_busy.toFixed(2),
      'other load': r.foreign_cpu_cores.toFixed(2),
    })),
  );
  printRatios(results);
  console.log('');
  for (const r of results) {
    const parts = [`req/s by round ${r.req_per_s_by_round.join(' ')}`, `event-loop delay p99 ${r.event_loop_delay_ms.p99_median} ms (max ${r.event_loop_delay_ms.max})`];
    if (r.monitoring_checks !== undefined) parts.push(`${r.monitoring_checks} monitoring checks during the measured rounds`);
    if (r.batching) parts.push(`${r.batching.mean_rows_per_batch} rows/inference batch, session.run ${r.batching.mean_session_run_ms} ms/batch`);
    console.log(`  ${r.name}: ${parts.join('; ')}`);
    if (r.log_flushes) {
      const f = r.log_flushes;
      console.log(
        `    prediction log: ${f.flushes} flushes of ${f.mean_rows} rows, ${f.mean_ms} ms each (${f.us_per_row} µs/row, max ${f.max_ms} ms), ${(f.main_thread_share * 100).toFixed(1)}% of wall time on the main thread`,
      );
    }
    if (r.prediction_log) console.log(`    rows in the log after close(): ${r.prediction_log.rows_written} (≥ ${r.prediction_log.expected_at_least} expected)`);
  }

  const problems = [];
  for (const r of results) {
    if (r.non_2xx > 0) problems.push(`${r.name}: ${r.non_2xx} non-2xx responses (${JSON.stringify(r.status_codes)})`);
    if (r.errors + r.timeouts > 0) problems.push(`${r.name}: ${r.errors} connection errors, ${r.timeouts} timeouts`);
    if (r.prediction_log?.problem) problems.push(`${r.name}: ${r.prediction_log.problem} (${r.prediction_log.rows_written} < ${r.prediction_log.expected_at_least})`);
  }
  const skewed = results.filter((r) => r.foreign_cpu_cores > FOREIGN_LOAD_WARN_CORES);
  if (skewed.length) console.warn(`\n⚠ other processes used CPU during ${skewed.map((r) => `${r.name} (${r.foreign_cpu_cores} cores)`).join(', ')}: rerun on an idle machine for numbers to quote`);
  const out = {
    benchmark: 'serving',
    date: new Date().toISOString(),
    machine: info,
    code: codeInfo(),
    load: {
      connections: CONNECTIONS,
      warmup_s: WARMUP_S,
      duration_s: DURATION_S,
      rounds: ROUNDS,
      path: PATH,
      distinct_bodies: bodies.length,
      tool: 'autocannon 9, in the parent process on the same machine',
    },
    results,
    ratios_vs_floor: Object.fromEntries(
      results
        .filter((r) => r !== floor)
        .map((r) => [r.name, { throughput: round(r.req_per_s / floor.req_per_s, 3), p50: round(r.latency_ms.p50 / floor.latency_ms.p50, 3), p99: round(r.latency_ms.p99 / floor.latency_ms.p99, 3) }]),
    ),
    problems,
  };
  const file = writeResult('serving.json', out);
  console.log(`\nresults: ${file}`);
  if (problems.length) {
    console.error(`\n✖ FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
}

await main();
