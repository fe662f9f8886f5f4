#!/usr/bin/env node
// Release-test routing benchmark: what variant assignment costs per request, and what routing adds
// to the predict path, as ratios against the plain predict path measured in the same run.
//
//   npm run build && node bench/abtest.mjs [--duration 1] [--rounds 12] [--concurrency 32] [--wait-idle 10]
//
// Part 1 (micro): GrowthBook hash, TrafficRouter.assign and a warm TrafficRouter.route, ns/op.
// Part 2 (predict path, in process): Predictor.predictTabular with the demo models, prediction log
// on, cache off, the monitor's every-N-predictions checks off (their cost grows with the log and would
// drown what is measured here), C requests in flight, modes measured in interleaved rounds:
//   plain        no router at all (the predict path before release tests)
//   router-idle  router installed, model without an active test (the cost every request now pays)
//   ab-100       active A/B test with traffic_split 1: lookup + hash + variant logging, one version
//   ab-50        active A/B test with a 50/50 split: also splits batches across two versions
//   shadow       shadow test: the control answers, the treatment gets a copy after the response
// The treatment is a clone of the production version (same ONNX file), so every mode runs the same model.
// Writes bench/results/abtest.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config/index.js';
import { bootstrapDemo } from '../dist/pipelines/demo-bootstrap.js';
import { TrafficRouter, growthbookHash } from '../dist/routing/index.js';
import { closeServices, createServices } from '../dist/server/app.js';
import { FOREIGN_LOAD_WARN_CORES, codeInfo, foreignCores, loadCsvRows, machineBusyMs, machineInfo, percentile, printTable, round, waitForQuiet, writeResult } from './lib/common.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '12' },
    concurrency: { type: 'string', default: '32' },
    'micro-ops': { type: 'string', default: '2000000' },
    'wait-idle': { type: 'string', default: '10' },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const MICRO_OPS = Number(args['micro-ops']);
const MODEL = 'breast-cancer';

const rows = loadCsvRows().map((r) => r.features);
const users = Array.from({ length: 100_000 }, (_, i) => `patient-${i}-${(i * 2654435761) % 1e9}`);

// ---------------------------------------------------------------- part 1: assignment ---

function timeLoop(fn) {
  const samples = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < MICRO_OPS; i++) sink += fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / MICRO_OPS);
  }
  if (sink === 42) console.log(''); // keep the loop from being optimised away
  samples.sort((a, b) => a - b);
  return samples[2]; // median of 5
}

const test = { id: 'bench', mode: 'ab', modelName: MODEL, controlVersionId: 'c', treatmentVersionId: 't', split: 0.5, hashSeed: 'bench-seed' };
const router = new TrafficRouter(async (name) => (name === MODEL ? test : null), { ttlMs: 3_600_000 });
await router.route(MODEL, 'warm');
await router.route('other-model', 'warm');
const micro = {
  growthbook_hash_ns: timeLoop((i) => growthbookHash('bench-seed', users[i % users.length], 2)),
  assign_ns: timeLoop((i) => router.assign(test, users[i % users.length]).bucket),
  route_active_test_ns: timeLoop((i) => router.route(MODEL, users[i % users.length]).bucket),
  route_no_test_ns: timeLoop((i) => (router.route('other-model', users[i % users.length]) === null ? 1 : 0)),
};

// ---------------------------------------------------------------- part 2: predict path ---

const home = mkdtempSync(join(tmpdir(), 'vitals-bench-ab-'));
const settings = loadConfig({
  env: {},
  dotenvFile: false,
  overrides: { VITALS_HOME: home, LOG_LEVEL: 'silent', VITALS_DEMO: false, CACHE_SIZE: 0, MESSAGING_PUBLISH_PREDICTIONS: false, MONITORING_CHECK_EVERY_N: 0 },
});
const s = await createServices(settings);
await bootstrapDemo(s.registry);
// The treatment is a clone of production (same ONNX file, same specs): every mode runs the same model,
// so the differences are routing, variant logging and (ab-50, shadow) serving two versions at once.
const prod = await s.registry.resolve(MODEL);
const clone = await s.registry.register({
  name: MODEL,
  version: '0.9.0',
  artifact: await s.registry.loadArtifact(prod),
  input_spec: prod.input_spec,
  output_spec: prod.output_spec,
  actor: 'bench',
});
const realRouter = s.router;

async function setMode(mode) {
  for (const t of await s.abTests.list()) await s.abTests.stop(t.id, { reason: 'bench mode change' });
  s.predictor.router = realRouter;
  if (mode === 'plain') s.predictor.router = undefined; // the predict path without release tests
  if (mode === 'ab-100' || mode === 'ab-50' || mode === 'shadow') {
    await s.abTests.create({
      name: `bench ${mode}`,
      model: MODEL,
      treatment: clone.id,
      mode: mode === 'shadow' ? 'shadow' : 'ab',
      traffic_split: mode === 'ab-50' ? 0.5 : 1,
      decision_mode: 'recommend-only',
    });
  }
  // warm: load sessions, fill the router cache
  await drive(0.3);
}

async function drive(seconds) {
  const latencies = [];
  let done = 0;
  let i = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const k = i++;
      const t0 = performance.now();
      await s.predictor.predictTabular(MODEL, [rows[k % rows.length]], { userId: users[k % users.length] });
      latencies.push(performance.now() - t0);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { done, seconds: (performance.now() - t0) / 1000, latencies };
}

const modes = ['plain', 'router-idle', 'ab-100', 'ab-50', 'shadow'];
const acc = Object.fromEntries(modes.map((m) => [m, { done: 0, seconds: 0, cpuUs: 0, latencies: [], foreign: [], perRound: [], cpuPerRound: [] }]));
const other = await waitForQuiet({ maxWaitS: Number(args['wait-idle']) });
for (let r = 0; r < ROUNDS; r++) {
  const order = modes.map((_, j) => modes[(j + r) % modes.length]);
  for (const mode of order) {
    await setMode(mode);
    await s.predictionLog.flush();
    const busy0 = machineBusyMs();
    const cpu0 = process.cpuUsage();
    const res = await drive(DURATION_S);
    await s.predictionLog.flush(); // the log's writes belong to the mode that caused them
    if (mode === 'shadow') await new Promise((x) => setTimeout(x, 50)); // let the copies finish and be counted
    const cpu = process.cpuUsage(cpu0);
    const a = acc[mode];
    a.done += res.done;
    a.seconds += res.seconds;
    a.cpuUs += cpu.user + cpu.system;
    a.latencies.push(...res.latencies);
    a.perRound.push(res.done / res.seconds);
    a.cpuPerRound.push((cpu.user + cpu.system) / res.done);
    a.foreign.push(foreignCores({ busy0, busy1: machineBusyMs(), ownCpuMs: (cpu.user + cpu.system) / 1000, seconds: res.seconds }));
  }
}
for (const t of await s.abTests.list()) await s.abTests.stop(t.id, { reason: 'bench done' });
await closeServices(s);
rmSync(home, { recursive: true, force: true });

// Ratios are taken round by round (each mode against the plain run of the same round, seconds
// apart) and the median is reported: other load on a shared machine drifts slower than a round.
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const roundRatios = (m, key) => acc[m][key].map((x, r) => x / acc.plain[key][r]);
const summary = Object.fromEntries(
  modes.map((m) => {
    const a = acc[m];
    const sorted = Float64Array.from(a.latencies).sort();
    return [
      m,
      {
        rps: a.done / a.seconds,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        cpu_us_per_req: a.cpuUs / a.done,
        other_load: Math.max(...a.foreign),
        per_round: a.perRound.map((x) => round(x, 0)),
        rps_ratio_median: median(roundRatios(m, 'perRound')),
        rps_ratio_range: [Math.min(...roundRatios(m, 'perRound')), Math.max(...roundRatios(m, 'perRound'))],
        cpu_ratio_median: median(roundRatios(m, 'cpuPerRound')),
      },
    ];
  }),
);
const plain = summary.plain;
const table = modes.map((m) => {
  const x = summary[m];
  return {
    mode: m,
    'req/s': round(x.rps, 0),
    'p50 ms': round(x.p50, 3),
    'p99 ms': round(x.p99, 3),
    'CPU µs/req': round(x.cpu_us_per_req, 1),
    'req/s ÷ plain (median of rounds)': round(x.rps_ratio_median, 3),
    range: `${round(x.rps_ratio_range[0], 2)}–${round(x.rps_ratio_range[1], 2)}`,
    'CPU/req ÷ plain (median)': round(x.cpu_ratio_median, 3),
    'p50 ÷ plain': round(x.p50 / plain.p50, 3),
    'other load': x.other_load,
  };
});
console.log(`\nVariant assignment (median of 5 × ${MICRO_OPS.toLocaleString()} ops):`);
const plainCpuNs = plain.cpu_us_per_req * 1000;
const microTable = Object.entries(micro).map(([k, ns]) => ({ operation: k.replace(/_ns$/, ''), 'ns/op': round(ns, 1), '÷ plain predict CPU/req': round(ns / plainCpuNs, 5) }));
printTable(microTable);
console.log(`\nPredict path, in process (${CONCURRENCY} in flight, ${ROUNDS} × ${DURATION_S} s per mode, prediction log on, cache off):`);
printTable(table);
for (const m of modes) console.log(`  ${m}: req/s per round ${summary[m].per_round.join(', ')}`);
if (Math.max(...modes.map((m) => summary[m].other_load)) > FOREIGN_LOAD_WARN_CORES)
  console.warn(`⚠ other processes used up to ${Math.max(...modes.map((m) => summary[m].other_load))} cores: rerun on an idle machine before quoting`);
const file = writeResult('abtest.json', {
  machine: machineInfo(),
  code: codeInfo(),
  options: { DURATION_S, ROUNDS, CONCURRENCY, MICRO_OPS },
  other_load_before: other,
  micro,
  summary,
  table,
  date: new Date().toISOString(),
});
console.log(`\nresults: ${file}`);
