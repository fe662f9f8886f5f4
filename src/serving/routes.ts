/**
 * Prediction endpoints: the tabular API (`/api/v1/ml-models/predict`) and the chest X-ray seed's
 * model-server API (`/predict`, `/predict/batch`, `/model/info`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError } from '../errors.js';
import { fileField } from '../server/openapi.js';
import { BODY_LIMITS, anyObject, declare, errorResponses, view } from '../server/route-kit.js';
import type { InferencePool } from './inference-pool.js';
import type { Predictor } from './predictor.js';

export interface ServingRouteDeps {
  predictor: Pick<Predictor, 'predictTabular' | 'predictImages' | 'serveDefault'>;
  pool: Pick<InferencePool, 'workers' | 'threadsPerWorker'>;
  limits: { maxImageBytes: number };
  /** what /model/info reports about batching and caching */
  serving: { batching: boolean; maxBatchSize: number; maxWaitMs: number; cacheSize: number; cacheTtlSeconds: number };
}

const probabilities = z.record(z.string(), z.number()).nullable();
const predictionView = z
  .looseObject({
    prediction_id: z.string().nullable(),
    model: z.string(),
    model_version: z.string(),
    prediction: z.union([z.string(), z.number()]),
    confidence: z.number().nullable(),
    probabilities,
    processing_time_ms: z.number(),
    cached: z.boolean(),
    variant: z.string().optional(),
    ab_test_id: z.string().optional(),
  })
  .describe('Prediction');
const predictResponse = z.union([
  predictionView.extend({ timestamp: z.string() }),
  view({ model: z.string(), model_version: z.string(), batch_size: z.number(), predictions: z.array(predictionView), timestamp: z.string() }),
]);
const imagePredictionView = view({
  prediction: z.union([z.string(), z.number()]),
  confidence: z.number().nullable(),
  probabilities,
  processing_time_ms: z.number(),
  model_version: z.string(),
  timestamp: z.string(),
});

const predictBody = z
  .strictObject({
    model: z.string().min(1).describe('model name (its production version), name@alias, name@1.2.0 or a version id'),
    features: z.record(z.string(), z.unknown()).optional().describe('one row: feature name → value'),
    instances: z.array(z.record(z.string(), z.unknown())).min(1).max(10_000).optional().describe('batch form: many rows'),
    user_id: z.string().min(1).max(512).optional().describe('whom the prediction is for: an active A/B test assigns the variant by it (or send X-User-Id)'),
  })
  .refine((b) => (b.features === undefined) !== (b.instances === undefined), { message: 'send either features (one row) or instances (a batch)', path: ['features'] });

const batchImagesBody = z.strictObject({
  images: z.array(z.string().min(1)).min(1).max(256).describe('base64-encoded PNG/JPEG/TIFF files (data: URLs accepted)'),
  return_probabilities: z.boolean().default(true),
  return_confidence: z.boolean().default(true),
});

function decodeBase64Image(text: string, index: number, maxBytes: number): Uint8Array {
  const payload = text.replace(/^data:[^;]+;base64,/, '').replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload)) throw new VitalsError('INVALID_IMAGE', `images[${index}] is not valid base64`);
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.byteLength > maxBytes) {
    throw new VitalsError('PAYLOAD_TOO_LARGE', `images[${index}] is ${(bytes.byteLength / 1024 ** 2).toFixed(1)} MB; the limit is MAX_IMAGE_SIZE_MB=${maxBytes / 1024 ** 2}`);
  }
  return bytes;
}

export function servingPlugin(s: ServingRouteDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const maxImageBytes = s.limits.maxImageBytes;
    const batchBodyLimit = Math.max(BODY_LIMITS.json, Math.ceil(maxImageBytes * 1.4) * 8);

    app.post(
      '/api/v1/ml-models/predict',
      {
        ...declare('predict', BODY_LIMITS.batch),
        schema: {
          tags: ['serving'],
          summary: 'Predict from tabular features (one row, or a batch in `instances`)',
          body: predictBody,
          response: { 200: predictResponse, ...errorResponses(404, 413, 503) },
        },
      },
      async (req) => {
        const rows = req.body.instances ?? [req.body.features!];
        const batch = req.body.instances !== undefined;
        const header = req.headers['x-user-id'];
        const userId = req.body.user_id ?? (typeof header === 'string' && header ? header : undefined);
        const predictions = await s.predictor.predictTabular(req.body.model, rows, { requestId: req.id, source: batch ? 'batch' : 'api', userId });
        const timestamp = new Date().toISOString();
        type Reply = z.infer<typeof predictResponse>;
        if (!batch) return { ...predictions[0]!, timestamp } as Reply;
        const routed = predictions[0]!.variant ? { variant: predictions[0]!.variant, ab_test_id: predictions[0]!.ab_test_id } : {};
        return { model: predictions[0]!.model, model_version: predictions[0]!.model_version, ...routed, batch_size: predictions.length, predictions, timestamp } as Reply;
      },
    );

    app.post(
      '/predict',
      {
        ...declare('predict', maxImageBytes + 64 * 1024),
        schema: {
          tags: ['serving'],
          summary: 'Classify one image (multipart field `file`: PNG, JPEG, TIFF or DICOM)',
          multipart: z.object({ file: fileField('the image') }),
          response: { 200: imagePredictionView, ...errorResponses(400, 404, 413, 415, 503) },
        },
      },
      async (req, reply) => {
        const served = await s.predictor.serveDefault();
        if (!req.isMultipart()) throw new VitalsError('MISSING_FILE', 'send the image as multipart/form-data in a field named "file" (curl -F "file=@xray.png")');
        let bytes: Buffer | undefined;
        for await (const part of req.parts()) {
          if (part.type === 'file' && part.fieldname === 'file') bytes = await part.toBuffer();
          else if (part.type === 'file') await part.toBuffer();
        }
        if (!bytes) throw new VitalsError('MISSING_FILE', 'no file field in the form: send the image in a field named "file"');
        const [p] = await s.predictor.predictImages(served, [bytes], { requestId: req.id });
        if (p!.prediction_id) reply.header('x-prediction-id', p!.prediction_id);
        return {
          prediction: p!.prediction,
          confidence: p!.confidence,
          probabilities: p!.probabilities,
          processing_time_ms: p!.processing_time_ms,
          model_version: p!.model_version,
          timestamp: new Date().toISOString(),
        };
      },
    );

    app.post(
      '/predict/batch',
      {
        ...declare('predict', batchBodyLimit),
        schema: {
          tags: ['serving'],
          summary: 'Classify base64-encoded images in one request',
          body: batchImagesBody,
          response: {
            200: view({
              batch_size: z.number(),
              predictions: z.array(view({ prediction_id: z.string().nullable(), prediction: z.union([z.string(), z.number()]) })),
              processing_time_ms: z.number(),
              model_version: z.string(),
              timestamp: z.string(),
            }),
            ...errorResponses(400, 404, 413, 415, 503),
          },
        },
      },
      async (req) => {
        const served = await s.predictor.serveDefault();
        const images = req.body.images.map((img, i) => decodeBase64Image(img, i, maxImageBytes));
        const started = performance.now();
        const results = await s.predictor.predictImages(served, images, { requestId: req.id, source: 'batch' });
        return {
          batch_size: results.length,
          predictions: results.map((p) => ({
            prediction_id: p.prediction_id,
            prediction: p.prediction,
            ...(req.body.return_confidence ? { confidence: p.confidence } : {}),
            ...(req.body.return_probabilities ? { probabilities: p.probabilities } : {}),
          })),
          processing_time_ms: Math.round((performance.now() - started) * 1000) / 1000,
          model_version: served.version,
          timestamp: new Date().toISOString(),
        };
      },
    );

    const modelInfo = view({
      name: z.string(),
      version: z.string(),
      version_id: z.string().nullable(),
      task: z.string(),
      description: z.string().nullable().describe("the model's description (the demo model says there that it is one)"),
      metadata: anyObject.describe("the version's metadata"),
      classes: z.array(z.string()),
      input_spec: anyObject,
      output_spec: anyObject,
    });
    app.get(
      '/model/info',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: { tags: ['serving'], summary: 'The model /predict serves: classes, input spec, tensors, runtime', response: { 200: modelInfo, ...errorResponses(404, 503) } },
      },
      async () => {
        const served = await s.predictor.serveDefault();
        return {
          name: served.modelName,
          version: served.version,
          version_id: served.versionId,
          task: served.task,
          description: served.description,
          metadata: served.metadata,
          classes: served.outputSpec.labels,
          input_spec: served.inputSpec,
          output_spec: served.outputSpec,
          tensors: { inputs: served.session.inputs, outputs: served.session.outputs },
          runtime: { engine: 'onnxruntime-node', provider: served.session.provider, workers: s.pool.workers, threads_per_worker: s.pool.threadsPerWorker },
          batching: { enabled: s.serving.batching, max_batch_size: s.serving.maxBatchSize, max_wait_ms: s.serving.maxWaitMs },
          cache: { size: s.serving.cacheSize, ttl_seconds: s.serving.cacheTtlSeconds },
        };
      },
    );
  };
}
