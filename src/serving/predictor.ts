/**
 * The prediction path: resolve which version answers, encode and validate the input, batch it with
 * concurrent requests, run it in the inference pool, decode, cache, and record it in the prediction
 * log. With PREDICTION_LOG_ACK=commit (the default) the answer waits for the row's group commit
 * (done by the log's writer thread, never on this thread), so an answered prediction is never lost.
 */
import { randomBytes } from 'node:crypto';
import { VitalsError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { PredictionLog, PredictionRecord } from '../monitoring/prediction-log.js';
import { type StudyIdentifiers, studyKeys } from '../multimodal/index.js';
import type { ModelRegistry, ModelVersion } from '../registry/index.js';
import type { RouteDecision, TrafficRouter } from '../routing/index.js';
import { decodeClassRows } from './classification-output.js';
import { DynamicBatcher } from './dynamic-batcher.js';
import { type ImageFacts, encodeImage, imageTensorDims } from './image-input.js';
import type { InferencePool, TensorData } from './inference-pool.js';
import { InferenceStats } from './inference-stats.js';
import { PredictionCache } from './prediction-cache.js';
import { type ServedModel, serveFile, serveVersion } from './served-model.js';
import { type Features, encodeTabularRows } from './tabular-input.js';
import { type RowOutputs, type TensorRowLayout, inputRows, joinRows, splitRows, tensorRowLayout } from './tensor-rows.js';

export interface PredictorOptions {
  batchSize: number;
  enableBatching: boolean;
  batchMaxWaitMs: number;
  cacheSize: number;
  cacheTtlSeconds: number;
  supportedImageFormats: string[];
  /** bare ONNX file served by /predict when set (MODEL_PATH) */
  modelPath?: string;
  /** registry reference served by /predict when set (MODEL_NAME, e.g. "chest-xray@production") */
  defaultModel?: string;
  monitoringEnabled: boolean;
  /** routes requests for models with an active release test (A/B, canary, shadow); none: always the alias */
  router?: TrafficRouter;
  /** the de-identification key: a DICOM's study is recorded as its remapped UID and a keyed hash of its accession */
  deidSalt?: string;
}

export interface PredictionContext {
  requestId?: string;
  variant?: string | null;
  /** the release test that routed the request (set by the router) */
  abTestId?: string | null;
  /** whom the request is for: release tests assign variants by it (random when absent) */
  userId?: string;
  source?: 'api' | 'image' | 'kserve' | 'batch';
  /** the study the images belong to, from the request's metadata (a DICOM's own identifiers come first) */
  study?: StudyIdentifiers;
}

/** What one prediction answers. Regression models give a number and no probabilities. */
export interface Prediction {
  prediction_id: string | null;
  model: string;
  model_version: string;
  prediction: string | number;
  confidence: number | null;
  probabilities: Record<string, number> | null;
  processing_time_ms: number;
  cached: boolean;
  /** set when a release test routed the request */
  variant?: string;
  ab_test_id?: string;
}

type RowResult = { prediction: string | number; confidence: number | null; probabilities: Record<string, number> | null };

/** How long a resolved alias is trusted before asking the database again (other replicas may move it). */
const RESOLVE_TTL_MS = 2000;

export class Predictor {
  private readonly served = new Map<string, Promise<ServedModel>>();
  private readonly resolved = new Map<string, { versionId: string; at: number }>();
  private readonly resolving = new Map<string, Promise<ModelVersion>>();
  private readonly batcher: DynamicBatcher<Float32Array, RowResult>;
  /** V2 infers' rows (tensor-rows.ts): batched per model, row shape and outputs asked for */
  private readonly tensorBatcher: DynamicBatcher<Float32Array, RowOutputs>;
  private readonly tensorBatches = new Map<string, { served: ServedModel; fetches: string[] | undefined; rowDims: number[] }>();
  /** row layouts whose outputs turned out not to have one row per input row: those run as sent */
  private readonly unsplittable = new Set<string>();
  /** seed-API rows (keyed by the version) and V2 rows (keyed `v2|…`): the keys never meet */
  private readonly cache: PredictionCache<RowResult | RowOutputs>;
  private fileModel?: Promise<ServedModel>;
  /** public so a benchmark can take the release-test path out (bench/abtest.mjs) */
  router?: TrafficRouter;
  /** Triton-shaped inference statistics of every prediction path (GET /v2/models/{name}/stats) */
  readonly stats = new InferenceStats();
  /** versions loaded in this process, for the V2 repository index */
  private readonly loaded = new Map<string, ServedModel>();
  /** without a key given, one for this process: studies then match reports only until a restart */
  private readonly deidSalt: string;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly log: PredictionLog,
    private readonly metrics: Metrics,
    readonly options: PredictorOptions,
  ) {
    this.batcher = new DynamicBatcher((key, items) => this.runBatch(key, items), {
      maxBatch: options.batchSize,
      maxWaitMs: options.batchMaxWaitMs,
      enabled: options.enableBatching,
    });
    this.tensorBatcher = new DynamicBatcher((key, items) => this.runTensorBatch(key, items), {
      maxBatch: options.batchSize,
      maxWaitMs: options.batchMaxWaitMs,
      enabled: options.enableBatching,
    });
    this.cache = new PredictionCache(options.cacheSize, options.cacheTtlSeconds * 1000);
    this.router = options.router;
    this.deidSalt = options.deidSalt ?? randomBytes(32).toString('hex');
    registry.onEvent((e) => {
      // An alias moved in this process: forget resolutions of that model at once.
      for (const key of this.resolved.keys()) if (key === e.model_name || key === e.model_id || key.startsWith(`${e.model_name}@`)) this.resolved.delete(key);
    });
  }

  /** The model a reference names, loaded and ready. */
  async serve(ref: string): Promise<ServedModel> {
    const hit = this.resolved.get(ref);
    let versionId: string;
    let version: ModelVersion | undefined;
    if (hit && Date.now() - hit.at < RESOLVE_TTL_MS) versionId = hit.versionId;
    else {
      // Single flight: when the entry expires under load, one lookup serves every waiting request.
      let lookup = this.resolving.get(ref);
      if (!lookup) {
        lookup = this.registry.resolve(ref).finally(() => this.resolving.delete(ref));
        this.resolving.set(ref, lookup);
      }
      version = await lookup;
      versionId = version.id;
      this.resolved.set(ref, { versionId, at: Date.now() });
    }
    let served = this.served.get(versionId);
    if (!served) {
      served = (async () => {
        const v = version ?? (await this.registry.getVersion(versionId));
        await this.registry.loadArtifact(v); // integrity check before the first load
        const model = await this.registry.getModel(v.model_id);
        const s = await serveVersion(this.pool, v, this.registry.artifacts.pathOf(v.artifact.sha256), model.task, model.description);
        this.loaded.set(versionId, s);
        this.metrics.modelsLoaded.set(this.served.size);
        return s;
      })();
      this.served.set(versionId, served);
      served.catch(() => this.served.delete(versionId));
    }
    return served;
  }

  /** The model that `/predict` answers with: MODEL_PATH, else MODEL_NAME, else 503 with how to configure one. */
  async serveDefault(): Promise<ServedModel> {
    if (this.options.modelPath) {
      this.fileModel ??= serveFile(this.pool, this.options.modelPath);
      this.fileModel.catch(() => (this.fileModel = undefined));
      return this.fileModel;
    }
    if (this.options.defaultModel) return this.serve(this.options.defaultModel);
    throw new VitalsError('MODEL_NOT_LOADED', 'no image model is configured for /predict: set MODEL_PATH to an ONNX file, or MODEL_NAME to a registered model (e.g. MODEL_NAME=chest-xray@production)');
  }

  async predictTabular(ref: string, rows: Features[], ctx: PredictionContext = {}): Promise<Prediction[]> {
    const started = performance.now();
    // A warm router answers synchronously; a failing test lookup never fails the prediction (production answers).
    const r = this.router?.route(ref, ctx.userId) ?? null;
    const route = r instanceof Promise ? await r.catch(() => null) : r;
    if (route) {
      const routed = this.predictTabularServed(route.versionId, rows, { ...ctx, variant: route.variant, abTestId: route.testId }, started);
      if (!route.shadowVersionIds.length || !this.options.monitoringEnabled) return routed; // no extra await on the hot path
      const out = await routed;
      setImmediate(() => this.runShadows(route, rows, out, ctx));
      return out;
    }
    return this.predictTabularServed(ref, rows, ctx, started);
  }

  /**
   * Shadow copies, after the response: the shadow version answers the same rows; its answers are
   * logged (variant `shadow`, pointing at the prediction they copy) and never returned.
   */
  private runShadows(route: RouteDecision, rows: Features[], primary: Prediction[], ctx: PredictionContext): void {
    for (const versionId of route.shadowVersionIds) {
      void (async () => {
        const started = performance.now();
        const served = await this.serve(versionId);
        const shadowCtx = { ...ctx, variant: 'shadow', abTestId: route.testId };
        try {
          if (served.inputSpec.kind !== 'tabular') throw new VitalsError('BAD_REQUEST', `shadow model "${served.modelName}" takes images`);
          const spec = served.inputSpec;
          const encoded = encodeTabularRows(spec, rows, ctx.source === 'batch');
          const width = spec.features.length;
          const results = await this.runRows(
            served,
            rows.map((_, i) => encoded.subarray(i * width, (i + 1) * width)),
          );
          const perRow = (performance.now() - started) / results.length;
          results.forEach((r, i) =>
            this.log.record({
              ...logContext(served, shadowCtx),
              shadow_of: primary[i]?.prediction_id ?? null,
              input: null, // the primary row holds the input
              prediction: r.prediction,
              probabilities: r.probabilities,
              confidence: r.confidence,
              latency_ms: perRow,
            }),
          );
        } catch (err) {
          const code = err instanceof VitalsError ? err.code : 'INTERNAL';
          for (const p of primary) this.log.record({ ...logContext(served, shadowCtx), shadow_of: p.prediction_id, input: null, error: code });
        }
      })().catch(() => undefined); // a shadow that cannot even load is invisible to callers by design
    }
  }

  /** Loads a version and runs it once on a zero input: the blue-green health check. */
  async probe(ref: string): Promise<{ ok: boolean; latency_ms: number; message: string }> {
    const started = performance.now();
    const served = await this.serve(ref);
    const dims = served.inputSpec.kind === 'image' ? imageTensorDims(served.inputSpec, 1) : [1, served.inputSpec.features.length];
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const run = await this.inferRaw(served, { [served.inputName]: { type: 'float32', data, dims } }, [served.outputName]);
    const out = run.outputs[served.outputName]!.data as Float32Array;
    const latency = performance.now() - started;
    const finite = out.length > 0 && Array.from(out).every((x) => Number.isFinite(Number(x)));
    return {
      ok: finite,
      latency_ms: latency,
      message: finite ? `${served.modelName} ${served.version} loaded and answered a probe in ${latency.toFixed(1)} ms` : `${served.modelName} ${served.version} returned non-finite outputs`,
    };
  }

  private async predictTabularServed(ref: string, rows: Features[], ctx: PredictionContext, started: number): Promise<Prediction[]> {
    const served = await this.serve(ref);
    if (served.inputSpec.kind !== 'tabular') {
      throw new VitalsError('BAD_REQUEST', `model "${served.modelName}" takes images; send them to /predict or /predict/batch`);
    }
    const spec = served.inputSpec;
    return this.recordingFailures(served, ctx, async () => {
      const encoded = encodeTabularRows(spec, rows, ctx.source === 'batch');
      const width = spec.features.length;
      const vectors = rows.map((_, i) => encoded.subarray(i * width, (i + 1) * width));
      const results = await this.runRows(served, vectors);
      return this.durable(this.finish(served, results, started, ctx, (i) => rows[i]));
    });
  }

  /** ack=commit: the answer waits until its log rows are committed (a failed write is a 503; the rows are retried). */
  private async durable<T>(out: T): Promise<T> {
    if (this.options.monitoringEnabled && this.log.ack === 'commit') await this.log.committed();
    return out;
  }

  /** Failed predictions count too: they are logged (for the error rate) and counted, then rethrown. */
  private async recordingFailures<T>(served: ServedModel, ctx: PredictionContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const code = err instanceof VitalsError ? err.code : 'INTERNAL';
      this.metrics.predictionErrors.inc({ model: served.modelName, code });
      this.stats.failure(served.modelName, served.version, 0);
      if (this.options.monitoringEnabled) {
        this.log.record({ ...logContext(served, ctx), input: null, error: code });
      }
      throw err;
    }
  }

  async predictImages(served: ServedModel, images: Uint8Array[], ctx: PredictionContext = {}): Promise<Array<Prediction & { image: ImageFacts }>> {
    const started = performance.now();
    if (served.inputSpec.kind !== 'image') {
      throw new VitalsError('BAD_REQUEST', `model "${served.modelName}" takes tabular features; send them to /api/v1/ml-models/predict`);
    }
    const spec = served.inputSpec;
    return this.recordingFailures(served, { ...ctx, source: 'image' }, async () => {
      const encoded = await Promise.all(images.map((img) => encodeImage(img, spec, this.options.supportedImageFormats)));
      const results = await this.runRows(
        served,
        encoded.map((e) => e.tensor),
      );
      const salt = this.deidSalt;
      const studyOf = (i: number) => studyKeys(salt, { ...ctx.study, ...definedOnly(encoded[i]!.study) });
      const out = this.finish(served, results, started, { ...ctx, source: 'image' }, (i) => ({ image: encoded[i]!.facts }), studyOf);
      return this.durable(out.map((p, i) => ({ ...p, image: encoded[i]!.facts })));
    });
  }

  private async runRows(served: ServedModel, vectors: Float32Array[]): Promise<Array<RowResult & { cached: boolean }>> {
    const useCache = this.cache.enabled;
    const results: Array<(RowResult & { cached: boolean }) | undefined> = new Array(vectors.length);
    const misses: number[] = [];
    vectors.forEach((v, i) => {
      const hit = useCache && v.length <= 4096 ? (this.cache.get(cacheKey(served.key, v)) as RowResult | undefined) : undefined;
      if (hit) {
        results[i] = { ...hit, cached: true };
        this.metrics.cacheHits.inc({ model: served.modelName });
      } else {
        misses.push(i);
        if (useCache) this.metrics.cacheMisses.inc({ model: served.modelName });
      }
    });
    this.servedByKey.set(served.key, served);
    // Back-pressure: with the inference queue full, answer 503 + Retry-After now rather than queue more.
    if (misses.length) this.pool.assertCapacity();
    const fresh =
      misses.length === 1
        ? [await this.batcher.submit(served.key, vectors[misses[0]!]!)]
        : await this.batcher.submitMany(
            served.key,
            misses.map((i) => vectors[i]!),
          );
    misses.forEach((i, j) => {
      results[i] = { ...fresh[j]!, cached: false };
      if (useCache && vectors[i]!.length <= 4096) this.cache.set(cacheKey(served.key, vectors[i]!), fresh[j]!);
    });
    return results as Array<RowResult & { cached: boolean }>;
  }

  private readonly servedByKey = new Map<string, ServedModel>();

  private async runBatch(key: string, items: Float32Array[]): Promise<RowResult[]> {
    const served = this.servedByKey.get(key);
    if (!served) throw new Error(`no served model for ${key}`);
    const width = items[0]!.length;
    const data = new Float32Array(items.length * width);
    items.forEach((item, i) => data.set(item, i * width));
    const dims = served.inputSpec.kind === 'image' ? imageTensorDims(served.inputSpec, items.length) : [items.length, width];
    const labels = { model: served.modelName, version: served.version };
    this.metrics.batchSize.observe({ model: served.modelName }, items.length);
    let run: Awaited<ReturnType<InferencePool['run']>>;
    try {
      // `data` is this batch's own buffer: moved to the worker rather than copied.
      run = await this.pool.run(served.handle, { [served.inputName]: { type: 'float32', data, dims } }, [served.outputName], [data.buffer]);
    } catch (err) {
      if (err instanceof VitalsError) throw err; // back-pressure (503 PREDICTION_QUEUE_FULL) passes through
      throw new VitalsError('INFERENCE_FAILED', `inference failed for ${served.modelName} ${served.version}: ${String((err as Error).message).split('\n')[0]}`);
    }
    this.metrics.inferenceDuration.observe(labels, run.inferenceMs / 1000);
    this.stats.execution(served.modelName, served.version, run.inferenceMs);
    const scores = run.outputs[served.outputName]!.data as Float32Array;
    if (served.task === 'regression') {
      return Array.from({ length: items.length }, (_, i) => ({ prediction: scores[i * (scores.length / items.length)]!, confidence: null, probabilities: null }));
    }
    return decodeClassRows(scores, items.length, served.outputSpec.labels, served.outputSpec.logits);
  }

  private finish(
    served: ServedModel,
    results: Array<RowResult & { cached: boolean }>,
    started: number,
    ctx: PredictionContext,
    inputOf: (i: number) => unknown,
    studyOf?: (i: number) => Pick<PredictionRecord, 'study_uid' | 'accession_key'>,
  ): Prediction[] {
    const elapsed = performance.now() - started;
    const perRow = elapsed / results.length;
    const labels = { model: served.modelName, version: served.version };
    this.metrics.predictions.inc({ ...labels, kind: served.inputSpec.kind }, results.length);
    this.metrics.predictionLatency.observe(labels, elapsed / 1000);
    let cached = 0;
    for (const r of results) if (r.cached) cached++;
    this.stats.success(served.modelName, served.version, results.length, elapsed, cached);
    return results.map((r, i) => {
      const p: Prediction = {
        prediction_id: this.options.monitoringEnabled
          ? this.log.record({
              ...logContext(served, ctx),
              input: inputOf(i),
              prediction: r.prediction,
              probabilities: r.probabilities,
              confidence: r.confidence,
              latency_ms: perRow,
              ...studyOf?.(i),
            })
          : null,
        model: served.modelName,
        model_version: served.version,
        prediction: r.prediction,
        confidence: r.confidence,
        probabilities: r.probabilities,
        processing_time_ms: Math.round(elapsed * 1000) / 1000,
        cached: r.cached,
      };
      // Routed by a release test: say which variant answered (set here, not copied afterwards: the predict path is hot).
      if (ctx.abTestId) {
        p.variant = ctx.variant ?? undefined;
        p.ab_test_id = ctx.abTestId;
      }
      return p;
    });
  }

  /**
   * An Open Inference Protocol infer: the release-test router picks the version when the request names
   * none; a batch of rows for the model's one float32 input goes through the row cache and the
   * dynamic batcher like seed-API rows (tensor-rows.ts), anything else runs as sent. Outputs come
   * back raw, and each row of a tabular classification or regression answer goes to the prediction
   * log, counted in the metrics and the inference statistics like a seed-API prediction.
   */
  async inferTensors(
    ref: string | ServedModel,
    feeds: Parameters<InferencePool['run']>[1],
    fetches: string[] | undefined,
    ctx: PredictionContext = {},
  ): Promise<{ served: ServedModel; outputs: Awaited<ReturnType<InferencePool['run']>>['outputs']; predictionIds: string[] }> {
    const started = performance.now();
    let routed = ctx;
    if (typeof ref === 'string' && !ref.includes('@')) {
      const r = this.router?.route(ref, ctx.userId) ?? null;
      const route = r instanceof Promise ? await r.catch(() => null) : r;
      if (route) {
        ref = route.versionId;
        routed = { ...ctx, variant: route.variant, abTestId: route.testId };
      }
    }
    const served = typeof ref === 'string' ? await this.serve(ref) : ref;
    const context: PredictionContext = { ...routed, source: 'kserve' };
    return this.recordingFailures(served, context, async () => {
      const input = feeds[served.inputName];
      const rows = input?.dims[0] ?? 1;
      const layout = this.cache.enabled || this.options.enableBatching ? tensorRowLayout(served, feeds, fetches) : null;
      let answer = layout && !this.unsplittable.has(layout.key) ? await this.inferRows(served, layout, input!, fetches) : null;
      if (!answer) {
        this.pool.assertCapacity();
        const run = await this.inferRaw(served, feeds, fetches);
        this.metrics.inferenceDuration.observe({ model: served.modelName, version: served.version }, run.inferenceMs / 1000);
        this.stats.execution(served.modelName, served.version, run.inferenceMs);
        answer = { outputs: run.outputs, cached: 0 };
      }
      const { outputs, cached } = answer;
      const elapsed = performance.now() - started;
      const labels = { model: served.modelName, version: served.version };
      this.metrics.predictions.inc({ ...labels, kind: 'kserve' }, rows);
      this.metrics.predictionLatency.observe(labels, elapsed / 1000);
      this.stats.success(served.modelName, served.version, rows, elapsed, cached);
      const predictionIds: string[] = [];
      if (this.options.monitoringEnabled) {
        for (const row of this.logRows(served, input, outputs[served.outputName], rows)) {
          predictionIds.push(this.log.record({ ...logContext(served, context), ...row, latency_ms: elapsed / rows }));
        }
      }
      return this.durable({ served, outputs, predictionIds });
    });
  }

  /** A V2 infer row by row: cached rows answer at once, the others join the model's next batch. Null: run it as sent. */
  private async inferRows(served: ServedModel, layout: TensorRowLayout, input: TensorData, fetches: string[] | undefined): Promise<{ outputs: RowOutputs; cached: number } | null> {
    const vectors = inputRows(input, layout.rows);
    const useCache = this.cache.enabled && (vectors[0]?.length ?? 0) <= 4096;
    const results: RowOutputs[] = new Array(vectors.length);
    const misses: number[] = [];
    const keyOf = (v: Float32Array) => cacheKey(`v2|${layout.key}`, v);
    vectors.forEach((v, i) => {
      const hit = useCache ? (this.cache.get(keyOf(v)) as RowOutputs | undefined) : undefined;
      if (hit) {
        results[i] = hit;
        this.metrics.cacheHits.inc({ model: served.modelName });
      } else {
        misses.push(i);
        if (this.cache.enabled) this.metrics.cacheMisses.inc({ model: served.modelName });
      }
    });
    if (misses.length) {
      this.pool.assertCapacity();
      this.tensorBatches.set(layout.key, { served, fetches, rowDims: layout.rowDims });
      let fresh: RowOutputs[];
      try {
        fresh =
          misses.length === 1
            ? [await this.tensorBatcher.submit(layout.key, vectors[misses[0]!]!)]
            : await this.tensorBatcher.submitMany(
                layout.key,
                misses.map((i) => vectors[i]!),
              );
      } catch (err) {
        if (!(err instanceof UnsplittableOutputs)) throw err;
        this.unsplittable.add(layout.key);
        return null;
      }
      misses.forEach((i, j) => {
        results[i] = fresh[j]!;
        if (useCache) this.cache.set(keyOf(vectors[i]!), fresh[j]!);
      });
    }
    return { outputs: joinRows(results), cached: vectors.length - misses.length };
  }

  private async runTensorBatch(key: string, items: Float32Array[]): Promise<RowOutputs[]> {
    const batch = this.tensorBatches.get(key);
    if (!batch) throw new Error(`no served model for ${key}`);
    const { served, fetches, rowDims } = batch;
    const width = items[0]!.length;
    const data = new Float32Array(items.length * width);
    items.forEach((item, i) => data.set(item, i * width));
    this.metrics.batchSize.observe({ model: served.modelName }, items.length);
    const run = await this.inferRaw(served, { [served.inputName]: { type: 'float32', data, dims: [items.length, ...rowDims] } }, fetches);
    this.metrics.inferenceDuration.observe({ model: served.modelName, version: served.version }, run.inferenceMs / 1000);
    this.stats.execution(served.modelName, served.version, run.inferenceMs);
    const rows = splitRows(run.outputs, items.length);
    if (!rows) throw new UnsplittableOutputs();
    return rows;
  }

  /** The log rows of a V2 infer: features by name for tabular models, decoded like the seed API when the output is bound. */
  private logRows(served: ServedModel, input: Parameters<InferencePool['run']>[1][string] | undefined, output: { data: unknown } | undefined, rows: number) {
    const spec = served.inputSpec;
    const values = input && input.type === 'float32' ? (input.data as Float32Array) : undefined;
    const width = values ? values.length / rows : 0;
    const inputOf = (i: number) => (spec.kind === 'tabular' && values && width === spec.features.length ? Object.fromEntries(spec.features.map((f, j) => [f.name, values[i * width + j]])) : null);
    let decoded: RowResult[] | undefined;
    const scores = output?.data;
    if (scores instanceof Float32Array && scores.length % rows === 0) {
      try {
        decoded =
          served.task === 'regression'
            ? Array.from({ length: rows }, (_, i) => ({ prediction: scores[i * (scores.length / rows)]!, confidence: null, probabilities: null }))
            : decodeClassRows(scores, rows, served.outputSpec.labels, served.outputSpec.logits);
      } catch {
        decoded = undefined; // an output the spec does not describe is logged without a decoded answer
      }
    }
    return Array.from({ length: rows }, (_, i) => ({
      input: inputOf(i),
      prediction: decoded?.[i]?.prediction ?? null,
      probabilities: decoded?.[i]?.probabilities ?? null,
      confidence: decoded?.[i]?.confidence ?? null,
    }));
  }

  /** Versions loaded in this process (the V2 repository index). */
  loadedVersions(): ServedModel[] {
    return [...this.loaded.values()];
  }

  /** Drops a model's loaded versions from this process; the next request loads it again. */
  unload(modelName: string): number {
    let n = 0;
    for (const [versionId, s] of this.loaded) {
      if (s.modelName !== modelName) continue;
      this.loaded.delete(versionId);
      this.served.delete(versionId);
      n++;
    }
    for (const key of this.resolved.keys()) if (key === modelName || key.startsWith(`${modelName}@`)) this.resolved.delete(key);
    this.metrics.modelsLoaded.set(this.served.size);
    return n;
  }

  /** Raw tensor inference for the Open Inference Protocol (no encoding, no cache). */
  async inferRaw(served: ServedModel, feeds: Parameters<InferencePool['run']>[1], fetches?: string[]) {
    try {
      return await this.pool.run(served.handle, feeds, fetches);
    } catch (err) {
      if (err instanceof VitalsError) throw err;
      throw new VitalsError('BAD_REQUEST', `inference failed: ${String((err as Error).message).split('\n')[0]}`);
    }
  }
}

/** The prediction-log fields that say who answered and for whom. */
/** The fields of `ids` that are set: a file's missing accession number does not hide the request's. */
function definedOnly(ids: StudyIdentifiers | undefined): StudyIdentifiers {
  return Object.fromEntries(Object.entries(ids ?? {}).filter(([, v]) => v !== undefined && v !== '')) as StudyIdentifiers;
}

function logContext(served: ServedModel, ctx: PredictionContext) {
  return {
    model_id: served.modelId,
    model_name: served.modelName,
    version_id: served.versionId,
    version: served.version,
    variant: ctx.variant ?? null,
    ab_test_id: ctx.abTestId ?? null,
    request_id: ctx.requestId ?? null,
    source: ctx.source ?? 'api',
  };
}

/** A batch whose outputs cannot be cut into rows: its requests run again as sent. */
class UnsplittableOutputs extends Error {}

function cacheKey(modelKey: string, v: Float32Array): string {
  return `${modelKey}|${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
}
