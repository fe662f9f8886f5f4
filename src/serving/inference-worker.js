// Piscina worker: owns onnxruntime sessions. onnxruntime-node's run() does its compute on the calling
// thread's native side and holds the event loop (onnxruntime issues #26968, #19611), so every
// session lives here, off the HTTP thread. Plain JS so the same file runs from src/ (tests) and dist/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

// The CUDA provider ships as a separate library that onnxruntime-node's installer downloads (skipped
// here via .npmrc); DEVICE=auto only tries CUDA when that library is really present.
const ortBinDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
const cudaInstalled = existsSync(join(ortBinDir, 'libonnxruntime_providers_cuda.so'));

/**
 * Open sessions, least recently used first (a Map keeps insertion order; a use re-inserts).
 * @type {Map<string, Promise<{ session: ort.InferenceSession, provider: string }>>}
 */
const sessions = new Map();
/** Bounded memory: past this many sessions the least recently used is released (reopened on its next use). */
const maxSessions = Math.max(1, Number(workerData?.maxSessions) || 16);
let evictions = 0;

function evictBeyondLimit() {
  // piscina runs one task at a time per worker, so no inference is using the session released here.
  while (sessions.size > maxSessions) {
    const [key, oldest] = sessions.entries().next().value;
    sessions.delete(key);
    evictions++;
    oldest.then((s) => s.session.release?.()).catch(() => undefined);
  }
}

function sessionOptions(provider, threads) {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // One thread per worker spins less when idle; the pool gives parallelism across requests.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

async function open({ key, path, device, threads }) {
  let cached = sessions.get(key);
  if (cached) {
    sessions.delete(key);
    sessions.set(key, cached);
  } else {
    cached = (async () => {
      if (device === 'cuda' || (device === 'auto' && cudaInstalled)) {
        try {
          return { session: await ort.InferenceSession.create(path, sessionOptions('cuda', threads)), provider: 'cuda' };
        } catch (err) {
          if (device === 'cuda') console.warn(`[vitals] CUDA execution provider unavailable (${String(err?.message ?? err).split('\n')[0]}); using CPU`);
        }
      }
      return { session: await ort.InferenceSession.create(path, sessionOptions('cpu', threads)), provider: 'cpu' };
    })();
    sessions.set(key, cached);
    cached.catch(() => sessions.get(key) === cached && sessions.delete(key));
    evictBeyondLimit();
  }
  return cached;
}

function describe(meta) {
  return meta.map((m) => ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor', shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : -1)) : [] }));
}

/**
 * task: { op: 'load', key, path, device, threads }
 *     | { op: 'run', key, path, device, threads, feeds: { [name]: { type, data, dims } }, fetches?: string[] }
 *     | { op: 'sessions' }  → the keys held, least recently used first, and the evictions so far
 */
export default async function (task) {
  if (task.op === 'sessions') return { keys: [...sessions.keys()], evictions, maxSessions };
  const { session, provider } = await open(task);
  if (task.op === 'load') {
    return { provider, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
  }
  const feeds = {};
  for (const [name, t] of Object.entries(task.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  const started = performance.now();
  const results = task.fetches ? await session.run(feeds, task.fetches) : await session.run(feeds);
  const inferenceMs = performance.now() - started;
  const outputs = {};
  for (const [name, tensor] of Object.entries(results)) {
    outputs[name] = { type: tensor.type, dims: [...tensor.dims], data: tensor.data };
  }
  return { outputs, inferenceMs };
}
