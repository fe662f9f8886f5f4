/**
 * Prediction endpoints: the tabular API (`/api/v1/ml-models/predict`) and the chest X-ray seed's
 * model-server API (`/predict`, `/predict/batch`, `/model/info`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError } from '../errors.js';
import type { Services } from '../server/app.js';

const predictBody = z
  .object({
    model: z.string().min(1).describe('model name (its production version), name@alias, name@1.2.0 or a version id'),
    features: z.record(z.string(), z.unknown()).optional().describe('one row: feature name → value'),
    instances: z.array(z.record(z.string(), z.unknown())).min(1).max(10_000).optional().describe('batch form: many rows'),
    user_id: z.string().min(1).max(512).optional().describe('whom the prediction is for: an active A/B test assigns the variant by it (or send X-User-Id)'),
  })
  .refine((b) => (b.features === undefined) !== (b.instances === undefined), { message: 'send either features (one row) or instances (a batch)', path: ['features'] });

const batchImagesBody = z.object({
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

export function servingRoutes(s: Services): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const maxImageBytes = Math.round(s.settings.MAX_IMAGE_SIZE_MB * 1024 * 1024);

    app.post(
      '/api/v1/ml-models/predict',
      { schema: { tags: ['serving'], summary: 'Predict from tabular features (one row, or a batch in `instances`)', body: predictBody } },
      async (req) => {
        const rows = req.body.instances ?? [req.body.features!];
        const batch = req.body.instances !== undefined;
        const header = req.headers['x-user-id'];
        const userId = req.body.user_id ?? (typeof header === 'string' && header ? header : undefined);
        const predictions = await s.predictor.predictTabular(req.body.model, rows, { requestId: req.id, source: batch ? 'batch' : 'api', userId });
        const timestamp = new Date().toISOString();
        if (!batch) return { ...predictions[0]!, timestamp };
        const routed = predictions[0]!.variant ? { variant: predictions[0]!.variant, ab_test_id: predictions[0]!.ab_test_id } : {};
        return { model: predictions[0]!.model, model_version: predictions[0]!.model_version, ...routed, batch_size: predictions.length, predictions, timestamp };
      },
    );

    app.post(
      '/predict',
      { schema: { tags: ['serving'], summary: 'Classify one image (multipart field `file`: PNG, JPEG or TIFF)', consumes: ['multipart/form-data'] } },
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
      { schema: { tags: ['serving'], summary: 'Classify base64-encoded images in one request', body: batchImagesBody } },
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

    app.get('/model/info', { schema: { tags: ['serving'], summary: 'The model /predict serves: classes, input spec, tensors, runtime' } }, async () => {
      const served = await s.predictor.serveDefault();
      return {
        name: served.modelName,
        version: served.version,
        version_id: served.versionId,
        task: served.task,
        classes: served.outputSpec.labels,
        input_spec: served.inputSpec,
        output_spec: served.outputSpec,
        tensors: { inputs: served.session.inputs, outputs: served.session.outputs },
        runtime: { engine: 'onnxruntime-node', provider: served.session.provider, workers: s.pool.workers, threads_per_worker: s.pool.threadsPerWorker },
        batching: { enabled: s.settings.ENABLE_BATCHING, max_batch_size: s.settings.BATCH_SIZE, max_wait_ms: s.settings.BATCH_MAX_WAIT_MS },
        cache: { size: s.settings.CACHE_SIZE, ttl_seconds: s.settings.CACHE_TTL },
      };
    });
  };
}

