/**
 * A pool of worker threads running onnxruntime sessions (see inference-worker.js for why).
 * Threads: by default one worker per core with one intra-op thread each. On the 2-core machines
 * this project targets, running two requests side by side beats splitting one small tabular
 * inference over two threads; image models can trade workers for threads (INFERENCE_THREADS).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { VitalsError } from '../errors.js';

export type TensorType = 'float32' | 'int64' | 'int32' | 'string' | 'bool' | 'float64' | 'uint8';

export interface TensorData {
  type: TensorType;
  data: Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array | string[];
  dims: number[];
}

export interface TensorDescription {
  name: string;
  type: string;
  /** -1 marks a dynamic dimension */
  shape: number[];
}

export interface SessionInfo {
  provider: 'cpu' | 'cuda';
  inputs: TensorDescription[];
  outputs: TensorDescription[];
}

export interface ModelHandle {
  /** cache key: the artifact's sha256 */
  key: string;
  path: string;
}

export interface InferencePoolOptions {
  workers?: number;
  threadsPerWorker?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  /** sessions each worker keeps open; the least recently used beyond it is released */
  maxSessionsPerWorker?: number;
  /** inference tasks (batches) waiting for a worker; past it, run() fails with a 503 (back-pressure) */
  maxQueue?: number;
}

export class InferencePool {
  private started?: Piscina;
  private readonly maxSessionsPerWorker: number;
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly device: 'auto' | 'cpu' | 'cuda';
  readonly maxQueue: number;
  private readonly loaded = new Map<string, Promise<SessionInfo>>();

  constructor(options: InferencePoolOptions = {}) {
    const cores = availableParallelism();
    this.workers = options.workers ?? Math.max(1, Math.min(cores, 4));
    this.threadsPerWorker = options.threadsPerWorker ?? Math.max(1, Math.floor(cores / this.workers));
    this.device = options.device ?? 'auto';
    this.maxQueue = options.maxQueue ?? 1000;
    this.maxSessionsPerWorker = options.maxSessionsPerWorker ?? 16;
  }

  /** Started on first use: a CLI command that never infers loads no onnxruntime and starts no thread. */
  private get piscina(): Piscina {
    this.started ??= new Piscina({
      filename: fileURLToPath(new URL('./inference-worker.js', import.meta.url)),
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: 60_000,
      workerData: { maxSessions: this.maxSessionsPerWorker },
      // Bounded queue: past this, callers get a 503 with Retry-After instead of unbounded memory growth.
      maxQueue: this.maxQueue,
    });
    return this.started;
  }

  /**
   * Opens the session in every worker (so the first request on each is not slow) and returns its
   * input/output description. Loading is once per artifact.
   */
  load(model: ModelHandle): Promise<SessionInfo> {
    let info = this.loaded.get(model.key);
    if (!info) {
      const task = { op: 'load', ...model, device: this.device, threads: this.threadsPerWorker };
      info = Promise.all(Array.from({ length: this.workers }, () => this.piscina.run(task))).then((all) => all[0] as SessionInfo);
      this.loaded.set(model.key, info);
      info.catch(() => this.loaded.delete(model.key));
    }
    return info;
  }

  /**
   * `transfer`: buffers of the feeds that the caller hands over (moved to the worker, not copied;
   * detached here afterwards): a batch of images is megabytes that structured cloning would copy.
   */
  async run(model: ModelHandle, feeds: Record<string, TensorData>, fetches?: string[], transfer?: ArrayBuffer[]): Promise<{ outputs: Record<string, TensorData>; inferenceMs: number }> {
    if (this.queueSize >= this.maxQueue) throw queueFull(this.maxQueue);
    try {
      const task = { op: 'run', ...model, device: this.device, threads: this.threadsPerWorker, feeds, fetches };
      return await this.piscina.run(task, transfer?.length ? { transferList: transfer } : undefined);
    } catch (err) {
      if ((err as Error).message === 'Task queue is at limit') throw queueFull(this.maxQueue);
      throw err;
    }
  }

  /** Throws the 503 when the queue is full, so the predictor refuses work before batching it. */
  assertCapacity(): void {
    if (this.queueSize >= this.maxQueue) throw queueFull(this.maxQueue);
  }

  /** What one worker holds (for tests and diagnostics): session keys, least recently used first. */
  sessions(): Promise<{ keys: string[]; evictions: number; maxSessions: number }> {
    return this.piscina.run({ op: 'sessions' });
  }

  get queueSize(): number {
    return this.started?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    await this.started?.destroy();
  }
}

function queueFull(limit: number): VitalsError {
  return new VitalsError('PREDICTION_QUEUE_FULL', `the inference queue is full (${limit} batches waiting, INFERENCE_MAX_QUEUE); retry after the Retry-After delay`, { retry_after_seconds: 1 });
}
