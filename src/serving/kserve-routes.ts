/**
 * The Open Inference Protocol (KServe V2 REST), so KServe and Triton clients work unchanged.
 * `{name}` is a registry model (its production version) and `/versions/{v}` a semver, alias or id.
 * Errors use the protocol's own shape: `{ "error": "..." }`.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { VitalsError } from '../errors.js';
import type { Services } from '../server/app.js';
import { VERSION } from '../server/version.js';
import type { TensorData, TensorDescription, TensorType } from './inference-pool.js';
import type { ServedModel } from './served-model.js';

const toV2: Record<string, string> = { float32: 'FP32', float64: 'FP64', int64: 'INT64', int32: 'INT32', bool: 'BOOL', string: 'BYTES', uint8: 'UINT8' };
const fromV2: Record<string, TensorType> = Object.fromEntries(Object.entries(toV2).map(([k, v]) => [v, k as TensorType]));

interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
}

function flatten(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flat(Infinity as 1) : [data];
}

export function decodeV2Input(t: V2Tensor, index: number): TensorData {
  const where = `inputs[${index}] (${t?.name ?? 'unnamed'})`;
  if (!t || typeof t.name !== 'string') throw new VitalsError('BAD_REQUEST', `inputs[${index}] needs a name`);
  const type = fromV2[t.datatype];
  if (!type) throw new VitalsError('BAD_REQUEST', `${where}: unsupported datatype "${t.datatype}" (use ${Object.values(toV2).join(', ')})`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new VitalsError('BAD_REQUEST', `${where}: shape must be a list of non-negative integers`);
  const values = flatten(t.data);
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) throw new VitalsError('BAD_REQUEST', `${where}: shape ${JSON.stringify(t.shape)} needs ${expected} values, got ${values.length}`);
  let data: TensorData['data'];
  switch (type) {
    case 'float32':
    case 'float64': {
      const nums = values.map(Number);
      if (nums.some((n) => Number.isNaN(n) && n !== null)) throw new VitalsError('BAD_REQUEST', `${where}: data must be numbers`);
      data = type === 'float32' ? Float32Array.from(nums) : Float64Array.from(nums);
      break;
    }
    case 'int64':
      data = BigInt64Array.from(values.map((v) => BigInt(Math.trunc(Number(v)))));
      break;
    case 'int32':
      data = Int32Array.from(values.map(Number));
      break;
    case 'uint8':
    case 'bool':
      data = Uint8Array.from(values.map((v) => Number(v)));
      break;
    default:
      data = values.map(String);
  }
  return { type, data, dims: t.shape };
}

function encodeV2Output(name: string, t: TensorData) {
  const data = t.data instanceof BigInt64Array ? Array.from(t.data, Number) : Array.from(t.data as ArrayLike<unknown>);
  return { name, shape: t.dims, datatype: toV2[t.type] ?? t.type.toUpperCase(), data };
}

const tensorMeta = (d: TensorDescription) => ({ name: d.name, datatype: toV2[d.type] ?? d.type.toUpperCase(), shape: d.shape });

export function kserveRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    const tags = ['kserve'];
    const v2Error = (reply: FastifyReply, err: unknown) => {
      const status = err instanceof VitalsError ? err.statusCode : 500;
      return reply.code(status).send({ error: err instanceof Error ? err.message : String(err) });
    };
    const servedFor = async (name: string, version?: string): Promise<ServedModel> => {
      if (s.settings.MODEL_PATH && !version) {
        const file = await s.predictor.serveDefault().catch(() => undefined);
        if (file && file.modelName === name) return file;
      }
      return s.predictor.serve(version ? `${name}@${version}` : name);
    };

    app.get('/v2', { schema: { tags, summary: 'Server metadata' } }, async () => ({ name: 'vitals', version: VERSION, extensions: ['model_repository_metadata'] }));
    app.get('/v2/health/live', { schema: { tags } }, async () => ({ live: true }));
    app.get('/v2/health/ready', { schema: { tags } }, async (_req, reply) => {
      try {
        await s.database.db.selectFrom('models').select('id').limit(1).execute();
        return { ready: true };
      } catch {
        return reply.code(503).send({ ready: false });
      }
    });

    for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
      type P = { Params: { name: string; version?: string } };
      app.get<P>(prefix, { schema: { tags, summary: 'Model metadata: versions, platform, input and output tensors' } }, async (req, reply) => {
        try {
          const served = await servedFor(req.params.name, req.params.version);
          const versions = served.versionId ? (await s.registry.listVersions(served.modelId)).filter((v) => v.status !== 'archived').map((v) => v.version) : [served.version];
          return {
            name: served.modelName,
            versions,
            platform: 'onnxruntime_onnx',
            inputs: served.session.inputs.map(tensorMeta),
            outputs: served.session.outputs.map(tensorMeta),
          };
        } catch (err) {
          return v2Error(reply, err);
        }
      });
      app.get<P>(`${prefix}/ready`, { schema: { tags } }, async (req, reply) => {
        try {
          const served = await servedFor(req.params.name, req.params.version);
          return { name: served.modelName, ready: true };
        } catch (err) {
          return reply.code(err instanceof VitalsError && err.statusCode === 404 ? 404 : 503).send({ name: req.params.name, ready: false, error: (err as Error).message });
        }
      });
      app.post<P & { Body: { id?: string; inputs?: V2Tensor[]; outputs?: Array<{ name: string }> } }>(
        `${prefix}/infer`,
        { schema: { tags, summary: 'Inference with the protocol’s JSON tensors' } },
        async (req, reply) => {
          try {
            const body = req.body;
            if (!body || !Array.isArray(body.inputs) || body.inputs.length === 0) throw new VitalsError('BAD_REQUEST', 'the request needs "inputs": [{name, shape, datatype, data}]');
            const served = await servedFor(req.params.name, req.params.version);
            const known = new Set(served.session.inputs.map((i) => i.name));
            const feeds: Record<string, TensorData> = {};
            body.inputs.forEach((t, i) => {
              if (!known.has(t?.name)) throw new VitalsError('BAD_REQUEST', `unknown input "${t?.name}"; the model takes ${[...known].join(', ')}`);
              feeds[t.name] = decodeV2Input(t, i);
            });
            const fetches = body.outputs?.map((o) => o.name);
            const result = await s.predictor.inferRaw(served, feeds, fetches);
            s.metrics.predictions.inc({ model: served.modelName, version: served.version, kind: 'kserve' }, feeds[served.inputName]?.dims[0] ?? 1);
            return {
              model_name: served.modelName,
              model_version: served.version,
              id: body.id ?? req.id,
              outputs: Object.entries(result.outputs).map(([name, t]) => encodeV2Output(name, t)),
            };
          } catch (err) {
            return v2Error(reply, err);
          }
        },
      );
    }
  };
}
