// Child process: the full Vitals app (buildApp) serving an image model on `/predict` and
// `/predict/batch`, for bench/image-serving.mjs. argv[2]: JSON { onnxPath, model, inputSpec, labels,
// settings }: the ONNX file is registered as `<model>` 1.0.0 in production and MODEL_NAME points
// /predict at it. Same IPC protocol as vitals-server.mjs (child-control.mjs):
//   → { type: 'ready', port, model, version, sha256, workers, threadsPerWorker, logged }
//   ← { type: 'cpu', id } → CPU of the process (all threads), event-loop delay, counters
//   ← { type: 'stop' } → close() (drains the prediction log), then { type: 'stopped', logged, pending }
// The process environment is not read for settings (env: {}).
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../dist/config/index.js';
import { buildApp } from '../../dist/server/app.js';
import { serveControl } from './child-control.mjs';
import { closeAndCount, histogramTotals } from './vitals-child.mjs';

const { onnxPath, model, inputSpec, labels, settings: overrides = {} } = JSON.parse(process.argv[2] ?? '{}');

async function main() {
  if (overrides.DATABASE_URL) throw new Error('this benchmark server counts logged rows in <VITALS_HOME>/vitals.db: use SQLite');
  const settings = loadConfig({
    env: {},
    dotenvFile: false,
    overrides: { HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent', VITALS_DEMO: false, MODEL_NAME: `${model}@production`, ...overrides },
  });
  const vitals = await buildApp(settings, { logger: { level: settings.LOG_LEVEL === 'silent' ? 'warn' : settings.LOG_LEVEL } });
  const { app, services } = vitals;
  const version = await services.registry.register({
    name: model,
    version: '1.0.0',
    artifact: readFileSync(onnxPath),
    task: 'classification',
    modality: 'image',
    description: 'MobileNetV2-shaped benchmark model with fixed pseudo-random weights (src/onnx/mobilenet.ts); not trained',
    tags: ['bench'],
    input_spec: inputSpec,
    output_spec: { labels, logits: false },
    actor: 'bench',
    aliases: ['production'],
  });
  await app.listen({ host: settings.HOST, port: settings.PORT });
  const { port } = app.server.address();
  const histogram = (name) => histogramTotals(services, name);
  serveControl({
    counters: async () => ({ batch_rows: await histogram('vitals_inference_batch_rows'), inference_seconds: await histogram('vitals_inference_duration_seconds') }),
    stop: () => closeAndCount(vitals, settings, version.model_id),
  });
  process.send({
    type: 'ready',
    port,
    model: version.model_name,
    version: version.version,
    sha256: version.artifact.sha256,
    workers: services.pool.workers,
    threadsPerWorker: services.pool.threadsPerWorker,
    logged: await services.predictionLog.count(version.model_id),
  });
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.send?.({ type: 'error', message: String(err?.message ?? err) });
  process.exitCode = 1;
});
