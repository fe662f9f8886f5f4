#!/usr/bin/env node
// Image serving benchmark (issue 13, "Image path"): Vitals `/predict` (one PNG per multipart request)
// and `/predict/batch` (8 base64 PNGs per JSON request) on a MobileNetV2-sized CNN at 224×224×3
// (src/onnx/mobilenet.ts, built into a temp folder at start, never committed), against
//   raw onnxruntime-node on the pre-decoded float32 tensors, with the threads Vitals infers with
//   (its INFERENCE_WORKERS × INFERENCE_THREADS; batch 1 and 8; bench/lib/raw-ort-images.mjs),
//   the same raw sessions fed by Vitals' own decoder (sharp decode + resize + normalise, then run):
//   what any server that decodes on the same cores can reach, and
//   a FastAPI + Pillow + numpy + onnxruntime peer doing the same decode + resize + inference
//   (uvicorn, 1 and 2 workers; venv by scripts/bench/fastapi-peer-venv.sh; bench/lib/fastapi_image_peer.py).
//
//   npm run build && node bench/image-serving.mjs [--duration 20] [--rounds 4] [--warmup 2]
//        [--connections 8] [--batch-connections 2] [--batch 8] [--images 16] [--image-size 512]
//        [--format png|jpeg] [--peers 1,2|none] [--profile] [--wait-idle 10]
//
// The pictures are synthetic grey radiographs (src/pipelines/demo-image.ts, as examples/ has) drawn
// from seeds. Every server gets the same request bodies; they are measured one at a time in
// interleaved rounds (the order rotating), so background load on a shared machine spreads over all.
// Before measuring, every server's probabilities are checked against raw onnxruntime's on the same
// images: Vitals within 1e-4 (the same tensors), the peer within --peer-tolerance (Pillow's Lanczos
// resize is not libvips'). Any non-2xx fails the run. Results: bench/results/image-serving.json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sharp from 'sharp';
import {
  BENCH_DIR,
  ask,
  FOREIGN_LOAD_WARN_CORES,
  codeInfo,
  foreignCores,
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
    duration: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '8' },
    'batch-connections': { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    images: { type: 'string', default: '16' },
    'image-size': { type: 'string', default: '512' },
    format: { type: 'string', default: 'png' },
    peers: { type: 'string', default: '1,2' },
    'peer-tolerance': { type: 'string', default: '0.01' },
    'wait-idle': { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false },
  },
});
const ROUNDS = Math.max(1, Number(args.rounds));
const ROUND_S = Number(args.duration) / ROUNDS;
const WARMUP_S = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const BATCH_CONNECTIONS = Number(args['batch-connections']);
const BATCH = Number(args.batch);
const N_IMAGES = Number(args.images);
const IMAGE_SIZE = Number(args['image-size']);
const FORMAT = args.format === 'jpeg' || args.format === 'jpg' ? 'jpeg' : 'png';
const PEER_TOLERANCE = Number(args['peer-tolerance']);
const MODEL = 'mobilenet-xray';
const LABELS = ['NORMAL', 'PNEUMONIA'];
/** 3 channels, ImageNet normalisation: what a MobileNet fine-tuned on radiographs is usually given (grey replicated) */
const INPUT_SPEC = { kind: 'image', width: 224, height: 224, channels: 3, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' };
const LIB = join(BENCH_DIR, 'lib');
const PEER_VENV_SCRIPT = join(BENCH_DIR, '..', 'scripts', 'bench', 'fastapi-peer-venv.sh');

const { buildMobileNet } = await import('../dist/onnx/index.js');
const { syntheticRadiograph } = await import('../dist/pipelines/demo-image.js');
const { encodeImage } = await import('../dist/serving/image-input.js');

const BOUNDARY = '----vitals-bench-image';
const multipart = (bytes) =>
  Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="xray.${FORMAT === 'jpeg' ? 'jpg' : 'png'}"\r\nContent-Type: image/${FORMAT}\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);

/** One closed-loop autocannon run against an HTTP target; every response's latency (float ms). */
function loadHttp(port, target, durationS) {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies = [];
    let ok = 0;
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: target.connections,
        duration: durationS,
        timeout: 30,
        requests: [{ method: 'POST', path: target.path, headers: { 'content-type': target.contentType }, setupRequest: (req) => ({ ...req, body: target.bodies[next++ % target.bodies.length] }) }],
      },
      (err, result) =>
        err ? reject(err) : resolve({ seconds: result.duration, requests: ok, images: ok * target.imagesPerRequest, latencies, non2xx: result.non2xx, errors: result.errors + result.timeouts }),
    );
    instance.on('response', (_c, status, _b, ms) => {
      if (status >= 200 && status < 300) {
        ok++;
        latencies.push(ms);
      }
    });
  });
}

async function measure(target, seconds) {
  if (target.kind === 'raw') {
    const r = await ask(target.server.child, 'run', seconds * 1000 + 60_000, { seconds, batch: target.batch, mode: target.mode });
    return { ...r, non2xx: 0, errors: 0 };
  }
  return loadHttp(target.server.ready.port, target, seconds);
}

function probabilitiesOf(answer) {
  const p = answer.probabilities;
  return Array.isArray(p) ? p : LABELS.map((l) => p[l]);
}

async function post(port, path, body, contentType) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${path} got HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Each server's answers on every image against raw onnxruntime's; returns the largest difference. */
async function check(server, reference, images, batchBodies, tolerance) {
  let worst = 0;
  const compare = (got, i, how) => {
    const want = reference[i];
    const d = Math.max(...want.map((w, j) => Math.abs(w - got[j])));
    worst = Math.max(worst, d);
    if (!(d <= tolerance)) throw new Error(`${server.name} ${how} image ${i}: ${JSON.stringify(got)}, raw onnxruntime ${JSON.stringify(want)} (tolerance ${tolerance})`);
  };
  for (let i = 0; i < images.length; i++) compare(probabilitiesOf(await post(server.ready.port, '/predict', multipart(images[i]), `multipart/form-data; boundary=${BOUNDARY}`)), i, '/predict');
  const batch = await post(server.ready.port, '/predict/batch', batchBodies[0], 'application/json');
  batch.predictions.forEach((p, k) => compare(probabilitiesOf(p), k % images.length, '/predict/batch'));
  return worst;
}

function summarise(t) {
  const sorted = Float64Array.from(t.latencies).sort();
  const cpuMs = t.cpuMs;
  return {
    name: t.name,
    server: t.server.name,
    images_per_request: t.imagesPerRequest ?? t.batch,
    connections: t.connections ?? null,
    seconds: round(t.seconds, 2),
    images: t.images,
    images_per_s: round(t.images / t.seconds, 1),
    images_per_s_by_round: t.byRound,
    latency_ms: { p50: round(percentile(sorted, 50), 2), p90: round(percentile(sorted, 90), 2), p99: round(percentile(sorted, 99), 2), max: round(sorted.at(-1), 2) },
    cpu_ms_per_image: round(cpuMs / (t.images || 1), 2),
    server_cores: round(cpuMs / (t.seconds * 1000), 2),
    loadgen_cores: round(t.ownMs / (t.seconds * 1000), 2),
    other_load_cores: round(t.foreignMs / (t.seconds * 1000), 2),
    non_2xx: t.non2xx,
    errors: t.errors,
    ...(t.counters
      ? {
          vitals_batches: {
            batches: t.counters.batches,
            mean_images_per_batch: round(t.counters.rows / (t.counters.batches || 1), 2),
            mean_session_run_ms: round((t.counters.inferS * 1000) / (t.counters.inferN || 1), 2),
          },
        }
      : {}),
  };
}

async function main() {
  const info = machineInfo();
  console.log(`Vitals image serving benchmark — ${info.cpus} × ${info.cpu_model}, Node ${info.node}`);
  const tmp = mkdtempSync(join(tmpdir(), 'vitals-bench-image-'));
  const servers = [];
  let failure;
  let out;
  try {
    // The model and the pictures, from seeds.
    const model = buildMobileNet({ labels: LABELS });
    const onnxPath = join(tmp, `${MODEL}.onnx`);
    writeFileSync(onnxPath, model.onnx);
    console.log(
      `model: MobileNetV2-shaped, ${(model.parameters / 1e6).toFixed(2)} M parameters, ${(model.multiplyAdds / 1e6).toFixed(0)} M multiply-adds per 224×224×3 image, ${(model.onnx.byteLength / 1e6).toFixed(1)} MB`,
    );
    const images = [];
    for (let i = 0; i < N_IMAGES; i++) {
      const px = syntheticRadiograph({ width: IMAGE_SIZE, height: IMAGE_SIZE, opacity: i % 2 === 1, seed: 100 + i });
      const img = sharp(Buffer.from(px), { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 } }).toColourspace('b-w');
      images.push(await (FORMAT === 'jpeg' ? img.jpeg({ quality: 90 }) : img.png()).toBuffer());
    }
    const imagePaths = images.map((b, i) => {
      const p = join(tmp, `xray-${i}.${FORMAT}`);
      writeFileSync(p, b);
      return p;
    });
    // Pre-decoded by Vitals' own encoder: raw onnxruntime sees exactly the tensors Vitals feeds.
    const tensors = await Promise.all(images.map((b) => encodeImage(b, INPUT_SPEC, ['png', 'jpg'])));
    const tensorsPath = join(tmp, 'tensors.f32');
    writeFileSync(tensorsPath, Buffer.concat(tensors.map((t) => Buffer.from(t.tensor.buffer, t.tensor.byteOffset, t.tensor.byteLength))));
    const meanBytes = images.reduce((a, b) => a + b.length, 0) / images.length;
    console.log(`images: ${N_IMAGES} synthetic grey radiographs, ${IMAGE_SIZE}×${IMAGE_SIZE} ${FORMAT.toUpperCase()}, ${(meanBytes / 1024).toFixed(0)} KiB on average`);

    const multipartBodies = images.map(multipart);
    const batchBodies = Array.from({ length: N_IMAGES }, (_, j) => JSON.stringify({ images: Array.from({ length: BATCH }, (_, k) => images[(j * BATCH + k) % N_IMAGES].toString('base64')) }));

    console.log('\n▶ starting servers (one child process each)…');
    const start = async (name, script, arg, execArgv = []) => {
      const t0 = performance.now();
      const { child, ready } = await startChild(script, [JSON.stringify(arg)], { name, execArgv });
      const s = { name, child, ready, startup_s: round((performance.now() - t0) / 1000, 2) };
      servers.push(s);
      console.log(`  ${name}: ready after ${s.startup_s} s`);
      return s;
    };
    const home = join(tmp, 'vitals-home');
    const profile = args.profile ? ['--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'results', 'profiles', 'image-vitals')] : [];
    const vitals = await start(
      'vitals',
      join(LIB, 'vitals-image-server.mjs'),
      { onnxPath, model: MODEL, inputSpec: INPUT_SPEC, labels: LABELS, settings: { VITALS_HOME: home, CACHE_SIZE: 0 } },
      profile,
    );
    const { workers, threadsPerWorker } = vitals.ready;
    console.log(`    Vitals infers with ${workers} worker(s) × ${threadsPerWorker} intra-op thread(s); raw onnxruntime gets the same`);
    const raw = await start('raw-ort', join(LIB, 'raw-ort-images.mjs'), { onnxPath, tensorsPath, imagePaths, inputSpec: INPUT_SPEC, dims: [3, 224, 224], workers, threads: threadsPerWorker });
    const peerWorkers =
      args.peers === 'none'
        ? []
        : args.peers
            .split(',')
            .map(Number)
            .filter((n) => n > 0);
    const peers = [];
    if (peerWorkers.length) {
      const made = spawnSync('bash', [PEER_VENV_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (made.status !== 0) throw new Error(`${PEER_VENV_SCRIPT} failed (${made.status})`);
      const python = made.stdout.trim().split('\n').at(-1);
      for (const n of peerWorkers) {
        peers.push(
          await start(`fastapi-${n}w`, join(LIB, 'fastapi-peer.mjs'), {
            onnxPath,
            workers: n,
            python,
            app: 'fastapi_image_peer:app',
            readyPath: '/health',
            env: { PEER_IMAGE_SPEC: JSON.stringify(INPUT_SPEC), PEER_LABELS: JSON.stringify(LABELS) },
          }),
        );
      }
    }

    // Same model, same answers.
    const reference = (await ask(raw.child, 'answers', 120_000)).probabilities;
    const agreement = { vitals: await check(vitals, reference, images, batchBodies, 1e-4) };
    for (const p of peers) agreement[p.name] = await check(p, reference, images, batchBodies, PEER_TOLERANCE);
    const spread = Math.max(...reference.map((r) => r[1])) - Math.min(...reference.map((r) => r[1]));
    console.log(
      `  answers agree with raw onnxruntime: ${Object.entries(agreement)
        .map(([k, v]) => `${k} within ${v.toExponential(1)}`)
        .join(', ')} (P(${LABELS[1]}) spans ${spread.toFixed(3)} across the images)`,
    );

    const http = (server, name, path, connections) =>
      path === '/predict'
        ? { kind: 'http', name, server, path, connections, imagesPerRequest: 1, contentType: `multipart/form-data; boundary=${BOUNDARY}`, bodies: multipartBodies }
        : { kind: 'http', name, server, path, connections, imagesPerRequest: BATCH, contentType: 'application/json', bodies: batchBodies };
    const targets = [
      http(vitals, 'vitals /predict', '/predict', CONNECTIONS),
      http(vitals, `vitals /predict/batch (${BATCH})`, '/predict/batch', BATCH_CONNECTIONS),
      { kind: 'raw', name: 'raw ort, tensors, batch 1', server: raw, mode: 'tensor', batch: 1 },
      { kind: 'raw', name: `raw ort, tensors, batch ${BATCH}`, server: raw, mode: 'tensor', batch: BATCH },
      { kind: 'raw', name: 'raw ort + sharp decode, batch 1', server: raw, mode: 'decode', batch: 1 },
      ...peers.flatMap((p) => [http(p, `${p.name} /predict`, '/predict', CONNECTIONS), http(p, `${p.name} /predict/batch (${BATCH})`, '/predict/batch', BATCH_CONNECTIONS)]),
    ];

    await waitForQuiet({ maxWaitS: Number(args['wait-idle']) });
    console.log(`\n▶ warm-up, ${WARMUP_S} s each…`);
    for (const t of targets) {
      const w = await measure(t, WARMUP_S);
      if (w.non2xx || w.errors) throw new Error(`${t.name}: ${w.non2xx} non-2xx, ${w.errors} errors in the warm-up`);
    }
    console.log(`▶ measuring: ${ROUNDS} rounds × ${targets.length} targets × ${round(ROUND_S, 2)} s…`);
    for (let r = 0; r < ROUNDS; r++) {
      const line = [];
      for (const t of targets.map((_, i) => targets[(i + r) % targets.length])) {
        const before = await ask(t.server.child, 'cpu', 120_000);
        const busy0 = machineBusyMs();
        const own0 = process.cpuUsage();
        const run = await measure(t, ROUND_S);
        const own = process.cpuUsage(own0);
        const busy = machineBusyMs() - busy0;
        const after = await ask(t.server.child, 'cpu', 120_000);
        const cpuMs = (after.user + after.system - before.user - before.system) / 1000;
        const ownMs = (own.user + own.system) / 1000;
        t.seconds = (t.seconds ?? 0) + run.seconds;
        t.images = (t.images ?? 0) + run.images;
        t.cpuMs = (t.cpuMs ?? 0) + cpuMs;
        t.ownMs = (t.ownMs ?? 0) + ownMs;
        t.foreignMs = (t.foreignMs ?? 0) + foreignCores({ busy0: 0, busy1: busy, ownCpuMs: ownMs, childCpuMs: cpuMs, seconds: run.seconds }) * run.seconds * 1000;
        t.non2xx = (t.non2xx ?? 0) + run.non2xx;
        t.errors = (t.errors ?? 0) + run.errors;
        (t.latencies ??= []).push(...run.latencies);
        (t.byRound ??= []).push(round(run.images / run.seconds, 1));
        if (after.counters?.batch_rows) {
          const c = (t.counters ??= { batches: 0, rows: 0, inferS: 0, inferN: 0 });
          c.batches += after.counters.batch_rows.count - before.counters.batch_rows.count;
          c.rows += after.counters.batch_rows.sum - before.counters.batch_rows.sum;
          c.inferS += after.counters.inference_seconds.sum - before.counters.inference_seconds.sum;
          c.inferN += after.counters.inference_seconds.count - before.counters.inference_seconds.count;
        }
        line.push(`${t.name} ${Math.round(run.images / run.seconds)}`);
      }
      console.log(`  round ${r + 1}: ${line.join(', ')} images/s`);
    }

    const results = targets.map(summarise);
    const by = Object.fromEntries(results.map((r) => [r.name, r]));
    const rawB1 = by['raw ort, tensors, batch 1'];
    const rawBn = by[`raw ort, tensors, batch ${BATCH}`];
    const rawBest = rawB1.images_per_s >= rawBn.images_per_s ? rawB1 : rawBn;
    console.log('');
    printTable(
      results.map((r) => ({
        target: r.name,
        'images/s': r.images_per_s.toFixed(1),
        'p50 ms': r.latency_ms.p50.toFixed(1),
        'p99 ms': r.latency_ms.p99.toFixed(1),
        'CPU ms/image': r.cpu_ms_per_image.toFixed(2),
        'server cores': r.server_cores.toFixed(2),
        '÷ best raw ort': (r.images_per_s / rawBest.images_per_s).toFixed(2),
        'non-2xx': r.non_2xx,
        'other load': r.other_load_cores.toFixed(2),
      })),
    );
    const ratios = {};
    const line = (key, label, a, b, target) => {
      if (!a || !b) return;
      ratios[key] = round(a.images_per_s / b.images_per_s, 3);
      console.log(`  ${label.padEnd(58)} ${ratios[key].toFixed(2)}×   (target ${target})`);
    };
    console.log('\nratios of images/s (this run, same machine, same images):');
    line('predict_vs_raw_b1', 'Vitals /predict ÷ raw ort (tensors, batch 1)', by['vitals /predict'], rawB1, '≥ 0.9×');
    line('batch_vs_raw_bn', `Vitals /predict/batch ÷ raw ort (tensors, batch ${BATCH})`, by[`vitals /predict/batch (${BATCH})`], rawBn, '≥ 0.9×');
    line('predict_vs_raw_decode', 'Vitals /predict ÷ raw ort + sharp decode (no HTTP)', by['vitals /predict'], by['raw ort + sharp decode, batch 1'], '-');
    line('raw_decode_vs_raw', 'raw ort + sharp decode ÷ raw ort (tensors): decoding costs', by['raw ort + sharp decode, batch 1'], rawB1, '-');
    for (const p of peers) {
      line(`predict_vs_${p.name}`, `Vitals /predict ÷ ${p.name} /predict`, by['vitals /predict'], by[`${p.name} /predict`], '-');
      line(`batch_vs_${p.name}`, `Vitals /predict/batch ÷ ${p.name} /predict/batch`, by[`vitals /predict/batch (${BATCH})`], by[`${p.name} /predict/batch (${BATCH})`], '-');
    }
    for (const r of results)
      if (r.vitals_batches)
        console.log(
          `  ${r.name}: ${r.vitals_batches.mean_images_per_batch} images per inference batch, session.run ${r.vitals_batches.mean_session_run_ms} ms per batch; images/s by round ${r.images_per_s_by_round.join(' ')}`,
        );
    out = {
      benchmark: 'image-serving',
      date: new Date().toISOString(),
      machine: info,
      code: codeInfo(),
      model: {
        architecture: 'MobileNetV2 1.0 (src/onnx/mobilenet.ts), seeded weights',
        parameters: model.parameters,
        multiply_adds: model.multiplyAdds,
        input: '1x3x224x224 float32',
        bytes: model.onnx.byteLength,
      },
      images: { count: N_IMAGES, size: IMAGE_SIZE, format: FORMAT, mean_bytes: Math.round(meanBytes), input_spec: INPUT_SPEC },
      threads: { workers, threads_per_worker: threadsPerWorker },
      load: {
        round_s: ROUND_S,
        rounds: ROUNDS,
        warmup_s: WARMUP_S,
        connections: CONNECTIONS,
        batch_connections: BATCH_CONNECTIONS,
        batch: BATCH,
        tool: 'autocannon, in the parent process on the same machine',
      },
      agreement_max_abs_diff: agreement,
      peers: Object.fromEntries(peers.map((p) => [p.name, p.ready.peer])),
      raw: { onnxruntime_node: raw.ready.ort },
      results,
      ratios,
    };
    const bad = results.filter((r) => r.non_2xx || r.errors);
    if (bad.length) throw new Error(`non-2xx or errors: ${bad.map((r) => `${r.name} (${r.non_2xx}, ${r.errors})`).join(', ')}`);
    const skewed = results.filter((r) => r.other_load_cores > FOREIGN_LOAD_WARN_CORES);
    if (skewed.length) console.warn(`\n⚠ other processes used CPU during ${skewed.map((r) => `${r.name} (${r.other_load_cores} cores)`).join(', ')}: rerun on an idle machine for numbers to quote`);
  } catch (err) {
    failure = err;
  }
  for (const s of servers) s.stopped = await stopChild(s.child);
  const vitals = servers.find((s) => s.name === 'vitals');
  if (out && vitals?.stopped?.logged !== undefined) out.prediction_log = { rows_after_close: vitals.stopped.logged - vitals.ready.logged, pending: vitals.stopped.pending };
  rmSync(tmp, { recursive: true, force: true });
  if (failure) {
    console.error(`\n✖ image serving benchmark failed: ${failure.stack ?? failure}`);
    process.exit(1);
  }
  console.log(`\nresults: ${writeResult('image-serving.json', out)}`);
}

await main();
