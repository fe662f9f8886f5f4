// Child process: the "floor" — the least a Node server must do for one tabular prediction.
// A bare Fastify app, one route: Fastify's JSON body parsing, a float32 row in the model's feature
// order, one onnxruntime-node session.run in the main thread (intraOpNumThreads 1), the probabilities.
// With a dbFile it is the "durable floor": each answer waits for its row's commit (durable-log.mjs).
// argv[2]: JSON { onnxPath, features: string[], dbFile?, inputName?, outputName? }.
import { randomUUID } from 'node:crypto';
import { serveControl } from './child-control.mjs';
import { startDurableLog } from './durable-log.mjs';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

const { onnxPath, features, dbFile, inputName = 'input', outputName = 'probabilities' } = JSON.parse(process.argv[2]);

async function main() {
  const session = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const log = dbFile ? startDurableLog(dbFile) : null;
  const width = features.length;
  const app = Fastify({ logger: false });
  app.post('/api/v1/ml-models/predict', async (req, reply) => {
    const row = req.body?.features;
    if (!row || typeof row !== 'object') return reply.code(400).send({ error: 'features missing' });
    const data = new Float32Array(width);
    for (let i = 0; i < width; i++) data[i] = Number(row[features[i]]);
    const out = await session.run({ [inputName]: new ort.Tensor('float32', data, [1, width]) }, [outputName]);
    const probabilities = Array.from(out[outputName].data);
    if (!log) return { probabilities };
    const id = randomUUID();
    await log.durably([id, req.body.model ?? null, JSON.stringify(row), JSON.stringify(probabilities), new Date().toISOString()]);
    return { prediction_id: id, probabilities };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address();
  serveControl({
    stop: async () => {
      await app.close();
      await session.release?.();
      await log?.close();
    },
  });
  process.send({ type: 'ready', port, ort: ort.env?.versions?.common ?? null });
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.send?.({ type: 'error', message: String(err?.message ?? err) });
  process.exitCode = 1;
});
