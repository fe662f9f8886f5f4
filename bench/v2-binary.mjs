#!/usr/bin/env node
// V2 (Open Inference Protocol) infer of a 64-row float32 batch: JSON tensors vs the binary tensor
// extension (issue 17), on the full Vitals app, measuring the server's CPU per request.
//
//   npm run build && node bench/v2-binary.mjs [--connections 4] [--duration 10] [--rounds 5] [--warmup 2]
//                                             [--batch 64] [--wait-idle 10] [--no-log] [--profile]
//
// One Vitals child process (buildApp + the demo bootstrapped into a temp VITALS_HOME, SQLite, the
// prediction log on, CACHE_SIZE=0) serves both forms; this process drives it with autocannon, closed
// loop, the two forms in interleaved rounds (the order alternating) so background load on the shared
// machine falls on both. Request bodies are batches of the breast cancer CSV's real rows (cycling):
//   json:   {"inputs":[{"name":"input","shape":[64,30],"datatype":"FP32","data":[...]}], "outputs":[...]}
//   binary: Inference-Header-Content-Length + JSON header (binary_data_size) + 64×30 raw float32 LE,
//           both outputs requested raw (outputs[].parameters.binary_data = true)
// Before measuring, every distinct batch is sent both ways and the probabilities must agree to 1e-6.
// Server CPU is process.cpuUsage() of the child (main thread + inference workers), so the load
// generator's CPU is not counted. Exit 1 on any non-2xx, error or timeout. Results: bench/results/v2-binary.json.
// No peer: Triton (the server whose protocol this is) ships no pip/npm package that runs here, and
// MLServer's REST server does not take the binary extension (SeldonIO/MLServer#324, open), so there
// is no like-for-like peer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { BENCH_DIR, ask, codeInfo, foreignCores, loadCsvRows, machineBusyMs, machineInfo, percentile, printTable, round, startChild, stopChild, waitForQuiet, writeResult } from './lib/common.mjs';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '4' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string', default: '64' },
    'wait-idle': { type: 'string', default: '10' },
    /** MODEL_MONITORING_ENABLED=false: no prediction log, to see what the 64 logged rows cost */
    'no-log': { type: 'boolean', default: false },
    /** V8 CPU profiles of the server (main thread and workers) in bench/results/profiles/v2-binary/ */
    profile: { type: 'boolean', default: false },
  },
});
const CONNECTIONS = Number(args.connections);
const ROUNDS = Math.max(1, Number(args.rounds));
const ROUND_S = Number(args.duration) / ROUNDS;
const WARMUP_S = Number(args.warmup);
const BATCH = Number(args.batch);
const MODEL = 'breast-cancer';
const PATH = `/v2/models/${MODEL}/infer`;
const VITALS = join(BENCH_DIR, 'lib', 'vitals-server.mjs');

/** The two request forms of one batch (features in the model's input order). */
function makeBodies(rows, features, meta) {
  const input = meta.inputs[0];
  const outputs = meta.outputs.map((o) => o.name);
  const batches = [];
  for (let start = 0; start + BATCH <= rows.length; start += BATCH) {
    batches.push(rows.slice(start, start + BATCH).flatMap((r) => features.map((f) => r.features[f])));
  }
  const shape = [BATCH, features.length];
  return batches.map((flat) => {
    const json = JSON.stringify({ inputs: [{ name: input.name, shape, datatype: 'FP32', data: flat }], outputs: outputs.map((name) => ({ name })) });
    const raw = Buffer.from(Float32Array.from(flat).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: input.name, shape, datatype: 'FP32', parameters: { binary_data_size: raw.length } }],
        outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })),
      }),
    );
    return { json, binary: Buffer.concat([header, raw]), headerLength: header.length };
  });
}

const FORMS = {
  json: { headers: () => ({ 'content-type': 'application/json' }), body: (b) => b.json },
  binary: { headers: (b) => ({ 'content-type': 'application/octet-stream', 'inference-header-content-length': String(b.headerLength) }), body: (b) => b.binary },
};

const TYPED = { FP32: Float32Array, FP64: Float64Array, INT32: Int32Array, INT64: BigInt64Array };

/** A V2 response (JSON, or JSON header + raw outputs) → { name: number[] }. */
function decodeResponse(res, bytes) {
  const headerLength = res.headers.get('inference-header-content-length');
  const header = JSON.parse(bytes.subarray(0, headerLength === null ? bytes.length : Number(headerLength)).toString('utf8'));
  let offset = headerLength === null ? bytes.length : Number(headerLength);
  const out = {};
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) {
      out[o.name] = o.data.map(Number);
      continue;
    }
    const Typed = TYPED[o.datatype];
    if (!Typed) throw new Error(`output ${o.name}: unexpected datatype ${o.datatype}`);
    const copy = Uint8Array.from(bytes.subarray(offset, offset + size)); // aligned for the typed view
    out[o.name] = Array.from(new Typed(copy.buffer), Number);
    offset += size;
  }
  return { header, out, binary: headerLength !== null };
}

async function post(port, form, b) {
  const res = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: FORMS[form].headers(b), body: FORMS[form].body(b) });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`pre-flight ${form} request got HTTP ${res.status}: ${bytes.toString('utf8').slice(0, 300)}`);
  return decodeResponse(res, bytes);
}

/** Every batch both ways: the same labels and probabilities (1e-6), and the binary form answered raw. */
async function checkSameAnswers(port, bodies) {
  for (const [i, b] of bodies.entries()) {
    const j = await post(port, 'json', b);
    const r = await post(port, 'binary', b);
    if (j.binary || !r.binary) throw new Error(`batch ${i}: the JSON request was answered ${j.binary ? 'raw' : 'as JSON'}, the binary one ${r.binary ? 'raw' : 'as JSON'}`);
    for (const name of Object.keys(j.out)) {
      const a = j.out[name];
      const c = r.out[name];
      if (!c || a.length !== c.length || a.some((v, k) => Math.abs(v - c[k]) > 1e-6)) throw new Error(`batch ${i}, output ${name}: JSON and binary answers differ`);
    }
    if (j.out.probabilities?.length !== BATCH * 2) throw new Error(`batch ${i}: expected ${BATCH}×2 probabilities, got ${j.out.probabilities?.length}`);
  }
}

function load(port, form, bodies, durationS) {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies = [];
    let ok = 0;
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
            setupRequest: (req) => {
              const b = bodies[next++ % bodies.length];
              return { ...req, headers: FORMS[form].headers(b), body: FORMS[form].body(b) };
            },
          },
        ],
      },
      (err, result) =>
        err
          ? reject(err)
          : resolve({ duration_s: result.duration, latencies, ok_2xx: ok, non_2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, bytes_read: result.throughput.total }),
    );
    instance.on('response', (_c, status, _bytes, ms) => {
      latencies.push(ms);
      if (status >= 200 && status < 300) ok++;
    });
  });
}

async function main() {
  const info = machineInfo();
  console.log(`Vitals V2 infer, JSON vs binary tensors — ${info.cpus} × ${info.cpu_model}, Node ${info.node}`);
  console.log(`load: ${CONNECTIONS} connections, closed loop; ${BATCH}-row FP32 batches; per form ${WARMUP_S} s warm-up + ${ROUNDS} interleaved rounds of ${round(ROUND_S, 2)} s`);
  const home = mkdtempSync(join(tmpdir(), 'vitals-bench-v2-'));
  const settings = { VITALS_HOME: home, VITALS_DEMO: true, CACHE_SIZE: 0, ENABLE_BATCHING: true, MODEL_MONITORING_ENABLED: !args['no-log'], LOG_LEVEL: 'silent' };
  const execArgv = args.profile ? ['--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'results', 'profiles', 'v2-binary')] : [];
  let server;
  let failure;
  const totals = { json: [], binary: [] };
  let bodies = [];
  const warm = {};
  try {
    server = await startChild(VITALS, [JSON.stringify(settings)], { name: 'vitals', execArgv });
    const { port, features } = server.ready;
    const meta = await (await fetch(`http://127.0.0.1:${port}/v2/models/${MODEL}`)).json();
    bodies = makeBodies(loadCsvRows(), features, meta);
    console.log(
      `  vitals ready on 127.0.0.1:${port}: ${server.ready.model} ${server.ready.version}, input ${meta.inputs[0].name} ${JSON.stringify(meta.inputs[0].shape)}; ${bodies.length} distinct batches`,
    );
    console.log(`  body bytes per request: JSON ${bodies[0].json.length}, binary ${bodies[0].binary.length} (header ${bodies[0].headerLength})`);
    await checkSameAnswers(port, bodies);
    console.log(`  JSON and binary give the same labels and probabilities (to 1e-6) on all ${bodies.length} batches`);
    await waitForQuiet({ maxWaitS: Number(args['wait-idle']) });
    for (const form of Object.keys(FORMS)) warm[form] = await load(port, form, bodies, WARMUP_S);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? ['binary', 'json'] : ['json', 'binary'];
      const line = [];
      for (const form of order) {
        const before = await ask(server.child, 'cpu');
        const busy0 = machineBusyMs();
        const own0 = process.cpuUsage();
        const run = await load(port, form, bodies, ROUND_S);
        const own = process.cpuUsage(own0);
        const busy1 = machineBusyMs();
        const after = await ask(server.child, 'cpu');
        run.server_cpu_ms = (after.user + after.system - before.user - before.system) / 1000;
        run.foreign_cores = foreignCores({ busy0, busy1, ownCpuMs: (own.user + own.system) / 1000, childCpuMs: run.server_cpu_ms, seconds: run.duration_s });
        totals[form].push(run);
        line.push(`${form} ${Math.round(run.ok_2xx / run.duration_s)}`);
      }
      console.log(`  round ${r + 1}: ${line.join(', ')} req/s`);
    }
  } catch (err) {
    failure = err;
  }
  if (server) await stopChild(server.child);
  rmSync(home, { recursive: true, force: true });
  if (failure) {
    console.error(`\n✖ V2 binary benchmark failed: ${failure.stack ?? failure}`);
    process.exit(1);
  }

  const summary = Object.fromEntries(
    Object.entries(totals).map(([form, runs]) => {
      const sum = (k) => runs.reduce((a, x) => a + x[k], 0);
      const sorted = Float64Array.from(runs.flatMap((x) => x.latencies)).sort();
      const ok = sum('ok_2xx');
      return [
        form,
        {
          req_per_s: round(ok / sum('duration_s'), 1),
          rows_per_s: round((ok * BATCH) / sum('duration_s'), 0),
          latency_ms: { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3) },
          server_cpu_us_per_request: round((sum('server_cpu_ms') * 1000) / (ok || 1), 1),
          server_cores: round(sum('server_cpu_ms') / (sum('duration_s') * 1000), 2),
          ok_2xx: ok,
          non_2xx: sum('non_2xx') + warm[form].non_2xx,
          errors: sum('errors') + sum('timeouts') + warm[form].errors + warm[form].timeouts,
          request_bytes: form === 'json' ? bodies[0].json.length : bodies[0].binary.length,
          foreign_cores_by_round: runs.map((x) => x.foreign_cores),
          req_per_s_by_round: runs.map((x) => round(x.ok_2xx / x.duration_s, 0)),
        },
      ];
    }),
  );
  console.log('');
  printTable(
    Object.entries(summary).map(([form, s]) => ({
      form,
      'req/s': s.req_per_s.toFixed(0),
      'rows/s': s.rows_per_s,
      'p50 ms': s.latency_ms.p50.toFixed(2),
      'p99 ms': s.latency_ms.p99.toFixed(2),
      'server CPU µs/req': s.server_cpu_us_per_request.toFixed(0),
      'server cores': s.server_cores.toFixed(2),
      'body bytes': s.request_bytes,
      '2xx': s.ok_2xx,
      'non-2xx': s.non_2xx,
      errors: s.errors,
      'other load (cores, by round)': s.foreign_cores_by_round.join(' '),
    })),
  );
  const ratios = {
    cpu_per_request: round(summary.binary.server_cpu_us_per_request / summary.json.server_cpu_us_per_request, 3),
    req_per_s: round(summary.binary.req_per_s / summary.json.req_per_s, 3),
    p50: round(summary.binary.latency_ms.p50 / summary.json.latency_ms.p50, 3),
  };
  console.log(`\nbinary ÷ JSON: server CPU/request ${ratios.cpu_per_request}×, req/s ${ratios.req_per_s}×, p50 ${ratios.p50}×`);
  const problems = Object.entries(summary).flatMap(([form, s]) => [...(s.non_2xx ? [`${form}: ${s.non_2xx} non-2xx`] : []), ...(s.errors ? [`${form}: ${s.errors} errors/timeouts`] : [])]);
  const file = writeResult('v2-binary.json', {
    benchmark: 'v2-binary',
    date: new Date().toISOString(),
    machine: info,
    code: codeInfo(),
    settings: { MODEL_MONITORING_ENABLED: settings.MODEL_MONITORING_ENABLED },
    load: { connections: CONNECTIONS, batch_rows: BATCH, warmup_s: WARMUP_S, duration_s: Number(args.duration), rounds: ROUNDS, path: PATH, distinct_batches: bodies.length },
    results: summary,
    ratios_binary_over_json: ratios,
    problems,
  });
  console.log(`results: ${file}`);
  if (problems.length) {
    console.error(`\n✖ FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
}

await main();
