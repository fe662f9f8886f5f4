// Child process: raw onnxruntime-node on images, the reference of bench/image-serving.mjs. It has
// the threads Vitals infers with: `workers` worker threads, each with one session of `threads`
// intra-op threads and Vitals' session options (src/serving/inference-worker.js). Each worker runs
// closed-loop: no HTTP, no batching queue, no log.
//   mode 'tensor': the pre-decoded float32 tensors (Vitals' own encodeImage output, from a file);
//   mode 'decode': the image files, through Vitals' encodeImage (sharp), then the session: the
//                  floor of any server that decodes on the same cores.
// argv[2]: JSON { onnxPath, tensorsPath, imagePaths, inputSpec, dims: [C, H, W], workers, threads }.
//   → { type: 'ready', ort, workers, threads }
//   ← { type: 'run', id, seconds, batch, mode } → { type: 'run:reply', id, images, requests, latencies, seconds }
//   ← { type: 'answers', id } → { type: 'answers:reply', id, probabilities: [[p0, p1], …] } (one per image, batch 1)
//   ← { type: 'cpu', id } / { type: 'stop' }: child-control.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import 'sharp'; // loaded on the main thread first, as sharp asks of programs that use it in workers

if (isMainThread) {
  const { serveControl } = await import('./child-control.mjs');
  const arg = JSON.parse(process.argv[2]);
  const workers = Array.from({ length: arg.workers }, () => new Worker(new URL(import.meta.url), { workerData: arg }));
  const ask = (w, msg) =>
    new Promise((resolve, reject) => {
      const fail = (err) => reject(err);
      w.once('error', fail);
      w.once('message', (reply) => {
        w.off('error', fail);
        resolve(reply);
      });
      w.postMessage(msg);
    });
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  serveControl({
    stop: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
    on: {
      run: async ({ seconds, batch, mode }) => {
        const t0 = performance.now();
        const all = await Promise.all(workers.map((w, i) => ask(w, { seconds, batch, mode, offset: i })));
        return {
          images: all.reduce((a, r) => a + r.images, 0),
          requests: all.reduce((a, r) => a + r.requests, 0),
          latencies: all.flatMap((r) => r.latencies),
          seconds: (performance.now() - t0) / 1000,
        };
      },
      answers: async () => ask(workers[0], { answers: true }),
    },
  });
  const version = createRequire(import.meta.url)('onnxruntime-node/package.json').version;
  process.send({ type: 'ready', ort: version, workers: arg.workers, threads: arg.threads });
} else {
  const { onnxPath, tensorsPath, imagePaths, inputSpec, dims, threads } = workerData;
  const { encodeImage } = await import('../../dist/serving/image-input.js');
  const session = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const size = dims.reduce((a, b) => a * b, 1);
  const all = new Float32Array(readFileSync(tensorsPath).buffer.slice(0));
  const count = all.length / size;
  const files = imagePaths.map((p) => readFileSync(p));
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const batchOf = async (start, n, mode) => {
    const data = new Float32Array(n * size);
    if (mode === 'decode') {
      const encoded = await Promise.all(Array.from({ length: n }, (_, i) => encodeImage(files[(start + i) % count], inputSpec, ['png', 'jpg'])));
      encoded.forEach((e, i) => data.set(e.tensor, i * size));
    } else for (let i = 0; i < n; i++) data.set(all.subarray(((start + i) % count) * size, (((start + i) % count) + 1) * size), i * size);
    return new ort.Tensor('float32', data, [n, ...dims]);
  };
  parentPort.on('message', async (msg) => {
    if (msg.answers) {
      const probabilities = [];
      for (let i = 0; i < count; i++) probabilities.push(Array.from((await session.run({ [inputName]: await batchOf(i, 1, 'tensor') }))[outputName].data));
      parentPort.postMessage({ probabilities });
      return;
    }
    const { seconds, batch, mode, offset } = msg;
    const deadline = performance.now() + seconds * 1000;
    const latencies = [];
    let images = 0;
    let next = offset * 7; // workers start on different images
    while (performance.now() < deadline) {
      const t = performance.now();
      const feeds = { [inputName]: await batchOf(next, batch, mode) };
      await session.run(feeds);
      latencies.push(performance.now() - t);
      images += batch;
      next += batch;
    }
    parentPort.postMessage({ images, requests: latencies.length, latencies });
  });
  parentPort.postMessage('ready');
}
