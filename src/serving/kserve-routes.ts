/**
 * The Open Inference Protocol (KServe V2 REST), so KServe and Triton clients work unchanged.
 * `{name}` is a registry model (its production version) and `/versions/{v}` a semver, alias or id.
 * Errors use the protocol's own shape: `{ "error": "..." }`. An infer without a Content-Type is JSON
 * (tritonclient sends none), and the binary tensor extension is supported both ways: a request whose
 * `Inference-Header-Content-Length` header gives the JSON part's length, followed by the raw tensors
 * of the inputs with `parameters.binary_data_size`; outputs are raw when the request asks
 * (`parameters.binary_data_output`, or an output's `parameters.binary_data`).
 * Triton's extensions that clients call: model configuration (`/config`), the model repository
 * (index, load, unload: this process's loaded versions; models load on demand, so an unloaded
 * model loads again on its next request) and inference statistics (`/stats`, Triton's shape).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { VitalsError } from '../errors.js';
import { type DependencyReport, oipReadiness } from '../server/health-checks.js';
import { BODY_LIMITS, declare } from '../server/route-kit.js';
import type { ModelRegistry } from '../registry/index.js';
import type { Database } from '../store/index.js';
import type { Predictor } from './predictor.js';

export interface KserveRouteDeps {
  predictor: Pick<Predictor, 'serve' | 'serveDefault' | 'inferTensors' | 'stats' | 'loadedVersions' | 'unload'>;
  registry: Pick<ModelRegistry, 'listVersions' | 'listModels'>;
  database: Pick<Database, 'db'>;
  /** what the model configuration reports about dynamic batching */
  batching: { enabled: boolean; maxBatchSize: number; maxWaitMs: number };
  /** MODEL_PATH is set: a bare ONNX file answers for its model name */
  modelPathConfigured: boolean;
  /** the dependency checks of /health (database, bus, default model, inference pool) */
  checkDependencies: () => Promise<DependencyReport>;
}
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
  parameters?: { binary_data_size?: number; binary_data?: boolean };
}

interface V2Request {
  id?: string;
  inputs?: V2Tensor[];
  outputs?: Array<{ name: string; parameters?: { binary_data?: boolean } }>;
  parameters?: { binary_data_output?: boolean };
}

type RawArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
const RAW_ARRAY: Record<string, { new (buffer: ArrayBuffer): RawArray; BYTES_PER_ELEMENT: number }> = {
  FP32: Float32Array,
  FP64: Float64Array,
  INT64: BigInt64Array,
  INT32: Int32Array,
  BOOL: Uint8Array,
  UINT8: Uint8Array,
};

/**
 * Raw little-endian tensor bytes → a typed array of the datatype (BYTES: strings, 4-byte length
 * prefixes). Typed, not a list of numbers: the binary extension exists to skip per-value work, and
 * decodeV2Input takes the array as it is.
 */
function rawValues(datatype: string, bytes: Buffer, where: string): RawArray | string[] {
  if (datatype === 'BYTES') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: string[] = [];
    for (let o = 0; o < bytes.length; ) {
      if (o + 4 > bytes.length) throw new VitalsError('BAD_REQUEST', `${where}: truncated BYTES element`);
      const n = view.getUint32(o, true);
      out.push(bytes.subarray(o + 4, o + 4 + n).toString('utf8'));
      o += 4 + n;
    }
    return out;
  }
  const Typed = RAW_ARRAY[datatype];
  if (!Typed) throw new VitalsError('BAD_REQUEST', `${where}: unsupported datatype "${datatype}" for binary data`);
  if (bytes.length % Typed.BYTES_PER_ELEMENT) throw new VitalsError('BAD_REQUEST', `${where}: ${bytes.length} bytes is not a whole number of ${datatype} values`);
  // a copy: aligned for the typed view (the body's offset is arbitrary), little-endian as on x86/ARM
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Typed(copy.buffer);
}

/** Splits a binary-extension body into its JSON header and the inputs' raw data. */
export function parseBinaryInfer(body: Buffer, headerLength: number): V2Request {
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
    throw new VitalsError('BAD_REQUEST', `Inference-Header-Content-Length ${headerLength} does not fit a ${body.length}-byte body`);
  }
  let req: V2Request;
  try {
    req = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  } catch {
    throw new VitalsError('BAD_REQUEST', 'the inference header (the first Inference-Header-Content-Length bytes) is not JSON');
  }
  let offset = headerLength;
  (req.inputs ?? []).forEach((t, i) => {
    const size = t?.parameters?.binary_data_size;
    if (size === undefined) return;
    if (!Number.isInteger(size) || size < 0 || offset + size > body.length) throw new VitalsError('BAD_REQUEST', `inputs[${i}]: binary_data_size ${size} runs past the end of the body`);
    t.data = rawValues(t.datatype, body.subarray(offset, offset + size), `inputs[${i}] (${t.name})`);
    offset += size;
  });
  if (offset !== body.length) throw new VitalsError('BAD_REQUEST', `${body.length - offset} bytes after the last binary input`);
  return req;
}

function rawBytes(t: TensorData): Buffer {
  if (Array.isArray(t.data)) {
    const parts = (t.data as unknown[]).map((v) => Buffer.from(String(v), 'utf8'));
    const out = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, o);
      p.copy(out, o + 4);
      o += 4 + p.length;
    }
    return out;
  }
  const a = t.data as ArrayBufferView;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
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
  const expected = t.shape.reduce((a, b) => a * b, 1);
  const count = (n: number) => {
    if (n !== expected) throw new VitalsError('BAD_REQUEST', `${where}: shape ${JSON.stringify(t.shape)} needs ${expected} values, got ${n}`);
  };
  if (ArrayBuffer.isView(t.data)) {
    // binary data (parseBinaryInfer): already the datatype's typed array
    const raw = t.data as RawArray;
    count(raw.length);
    if ((raw instanceof Float32Array || raw instanceof Float64Array) && raw.some(Number.isNaN)) throw new VitalsError('BAD_REQUEST', `${where}: data must be numbers (got NaN)`);
    return { type, data: raw, dims: t.shape };
  }
  const values = flatten(t.data);
  count(values.length);
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

const v2ErrorBody = z.looseObject({ error: z.string() }).describe('V2Error');

const tensorMeta = (d: TensorDescription) => ({ name: d.name, datatype: toV2[d.type] ?? d.type.toUpperCase(), shape: d.shape });

export function kservePlugin(s: KserveRouteDeps): FastifyPluginAsync {
  return async (app) => {
    const tags = ['kserve'];
    // bodies without a Content-Type (tritonclient) or with the binary extension arrive as bytes
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMITS.batch }, (_req, body, done) => done(null, body));
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: BODY_LIMITS.batch }, (_req, body, done) => done(null, body));
    const v2Errors = { 400: v2ErrorBody, 404: v2ErrorBody, 413: v2ErrorBody, 415: v2ErrorBody };
    // A model with no version to serve is "unavailable", a 400 as Triton answers it (the V2 protocol
    // says 4xx for a model that is not ready); the seed API keeps its 503.
    const v2Status = (err: unknown) => (err instanceof VitalsError ? (err.code === 'MODEL_NOT_LOADED' ? 400 : err.statusCode) : 500);
    const v2Error = (reply: FastifyReply, err: unknown) => {
      const status = v2Status(err);
      // exactly `application/json` (Fastify adds `; charset=utf-8` to anything but bytes): KServe's
      // client shows the server's message only then, as it compares the whole header
      return reply
        .code(status)
        .type('application/json')
        .send(Buffer.from(JSON.stringify({ error: err instanceof Error ? err.message : String(err) })));
    };
    /** MODEL_PATH's file when it answers for the name, else the registry reference */
    const refFor = async (name: string, version?: string): Promise<ServedModel | string> => {
      if (s.modelPathConfigured && !version) {
        const file = await s.predictor.serveDefault().catch(() => undefined);
        if (file && file.modelName === name) return file;
      }
      return version ? `${name}@${version}` : name;
    };
    const servedFor = async (name: string, version?: string): Promise<ServedModel> => {
      const ref = await refFor(name, version);
      return typeof ref === 'string' ? s.predictor.serve(ref) : ref;
    };
    const statsView = z
      .looseObject({ model_stats: z.array(z.looseObject({ name: z.string(), version: z.string(), inference_count: z.number(), execution_count: z.number(), inference_stats: z.looseObject({}) })) })
      .describe('InferenceStatistics');
    app.get(
      '/v2/models/stats',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: { tags, summary: 'Inference statistics of every model (Triton shape), counted in this process', response: { 200: statsView, ...v2Errors } },
      },
      async () => ({ model_stats: s.predictor.stats.report() }),
    );

    const indexView = z.array(z.looseObject({ name: z.string(), version: z.string().optional(), state: z.string().optional(), reason: z.string().optional() })).describe('RepositoryIndex');
    app.post<{ Body: unknown }>(
      '/v2/repository/index',
      {
        ...declare('models:read'),
        schema: { tags, summary: 'Model repository index: registry models, READY where loaded in this process', response: { 200: indexView, ...v2Errors, 500: v2ErrorBody } },
      },
      async (req, reply) => {
        try {
          const body = parseJsonBody(req.body) as { ready?: unknown } | undefined;
          const loaded = new Map<string, string>();
          for (const m of s.predictor.loadedVersions()) loaded.set(m.modelName, m.version);
          const models = await s.registry.listModels();
          const index = models.map((m) => {
            const version = loaded.get(m.name);
            return version
              ? { name: m.name, version, state: 'READY', reason: '' }
              : { name: m.name, ...(m.aliases.production ? { version: m.aliases.production } : {}), state: 'UNAVAILABLE', reason: 'unloaded' };
          });
          return body?.ready === true ? index.filter((m) => m.state === 'READY') : index;
        } catch (err) {
          return v2Error(reply, err);
        }
      },
    );
    type Named = { Params: { name: string }; Body: unknown };
    app.post<Named>(
      '/v2/repository/models/:name/load',
      {
        ...declare('models:write'),
        schema: { tags, summary: 'Load a model (its production version) in this process', response: { 200: z.looseObject({}), ...v2Errors, 500: v2ErrorBody, 503: v2ErrorBody } },
      },
      async (req, reply) => {
        try {
          await servedFor(req.params.name);
          return {};
        } catch (err) {
          return v2Error(reply, err);
        }
      },
    );
    app.post<Named>(
      '/v2/repository/models/:name/unload',
      { ...declare('models:write'), schema: { tags, summary: "Unload a model's versions from this process (its next request loads it again)", response: { 200: z.looseObject({}), ...v2Errors } } },
      async (req, reply) => {
        try {
          const models = await s.registry.listModels();
          if (!models.some((m) => m.name === req.params.name)) throw new VitalsError('NOT_FOUND', `model "${req.params.name}" is not in the repository`);
          s.predictor.unload(req.params.name);
          return {};
        } catch (err) {
          return v2Error(reply, err);
        }
      },
    );

    app.get(
      '/v2',
      {
        ...declare('system:read'),
        schema: { tags, summary: 'Server metadata', response: { 200: z.looseObject({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }), ...v2Errors } },
      },
      async () => ({ name: 'vitals', version: VERSION, extensions: ['binary_tensor_data', 'model_configuration', 'model_repository', 'statistics'] }),
    );
    app.get('/v2/health/live', { ...declare('public'), schema: { tags, response: { 200: z.object({ live: z.boolean() }), ...v2Errors } } }, async () => ({ live: true }));
    const check = z.object({ status: z.enum(['ok', 'degraded', 'down']), required: z.boolean(), reason: z.string() });
    const readyView = z
      .object({
        ready: z.boolean().describe("the protocol's answer: false when a required dependency is down or the configured default model cannot be served"),
        reasons: z.array(z.string()).describe('every dependency that is not ok, with why (also when still ready, e.g. the bus)'),
        checks: z.object({ database: check, bus: check, default_model: check, inference_pool: check }),
      })
      .describe('ServerReady');
    app.get(
      '/v2/health/ready',
      {
        ...declare('public'),
        schema: { tags, summary: 'Server readiness, dependency by dependency (as /health); 503 when not ready', response: { 200: readyView, 503: readyView, ...v2Errors } },
      },
      async (_req, reply) => {
        const report = await s.checkDependencies();
        const { ready, reasons } = oipReadiness(report);
        return reply.code(ready ? 200 : 503).send({ ready, reasons, checks: report.checks });
      },
    );

    for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
      type P = { Params: { name: string; version?: string } };
      app.get<P>(
        prefix,
        {
          ...declare('models:read'),
          schema: {
            tags,
            summary: 'Model metadata: versions, platform, input and output tensors',
            response: {
              200: z.looseObject({ name: z.string(), versions: z.array(z.string()), platform: z.string(), inputs: z.array(z.looseObject({})), outputs: z.array(z.looseObject({})) }),
              ...v2Errors,
              500: v2ErrorBody,
              503: v2ErrorBody,
            },
          },
        },
        async (req, reply) => {
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
        },
      );
      app.get<P>(
        `${prefix}/config`,
        {
          ...declare('models:read', BODY_LIMITS.none),
          schema: {
            tags,
            summary: 'Model configuration, as Triton serves it',
            response: {
              200: z.looseObject({ name: z.string(), platform: z.string(), max_batch_size: z.number(), input: z.array(z.looseObject({})), output: z.array(z.looseObject({})) }).describe('ModelConfig'),
              ...v2Errors,
              500: v2ErrorBody,
              503: v2ErrorBody,
            },
          },
        },
        async (req, reply) => {
          try {
            return modelConfig(await servedFor(req.params.name, req.params.version), s.batching);
          } catch (err) {
            return v2Error(reply, err);
          }
        },
      );
      app.get<P>(
        `${prefix}/stats`,
        {
          ...declare('models:read', BODY_LIMITS.none),
          schema: { tags, summary: 'Inference statistics (Triton shape), counted in this process', response: { 200: statsView, ...v2Errors, 500: v2ErrorBody, 503: v2ErrorBody } },
        },
        async (req, reply) => {
          try {
            const served = await servedFor(req.params.name, req.params.version);
            const stats = s.predictor.stats.report(served.modelName, req.params.version ? served.version : undefined);
            return {
              model_stats: stats.length
                ? stats
                : [{ name: served.modelName, version: served.version, last_inference: 0, inference_count: 0, execution_count: 0, inference_stats: {}, batch_stats: [] }],
            };
          } catch (err) {
            return v2Error(reply, err);
          }
        },
      );
      app.get<P>(
        `${prefix}/ready`,
        {
          ...declare('models:read'),
          schema: {
            tags,
            response: {
              200: z.looseObject({ name: z.string(), ready: z.boolean() }),
              404: z.looseObject({ name: z.string(), ready: z.boolean() }),
              503: z.looseObject({ name: z.string(), ready: z.boolean() }),
              400: v2ErrorBody,
            },
          },
        },
        async (req, reply) => {
          try {
            const served = await servedFor(req.params.name, req.params.version);
            return { name: served.modelName, ready: true };
          } catch (err) {
            const status = v2Status(err);
            return reply.code(status >= 500 ? 503 : status).send({ name: req.params.name, ready: false, error: (err as Error).message });
          }
        },
      );
      app.post<P & { Body: unknown }>(
        `${prefix}/infer`,
        {
          ...declare('predict', BODY_LIMITS.batch),
          schema: {
            tags,
            summary: 'Inference: JSON tensors, or the binary tensor extension',
            response: { 200: z.any().describe('InferenceResponse (JSON, or JSON header + raw tensors)'), ...v2Errors },
          },
        },
        async (req, reply) => {
          try {
            const headerLength = req.headers['inference-header-content-length'];
            let body: V2Request;
            if (Buffer.isBuffer(req.body)) {
              if (headerLength !== undefined) body = parseBinaryInfer(req.body, Number(headerLength));
              else {
                try {
                  body = JSON.parse(req.body.toString('utf8')); // no Content-Type (tritonclient): JSON
                } catch {
                  throw new VitalsError('BAD_REQUEST', 'the body is not JSON; binary requests need the Inference-Header-Content-Length header');
                }
              }
            } else body = req.body as V2Request;
            if (!body || !Array.isArray(body.inputs) || body.inputs.length === 0) throw new VitalsError('BAD_REQUEST', 'the request needs "inputs": [{name, shape, datatype, data}]');
            const served = await servedFor(req.params.name, req.params.version);
            const ref = served.versionId === null ? served : req.params.version ? `${req.params.name}@${req.params.version}` : req.params.name;
            const known = new Set(served.session.inputs.map((i) => i.name));
            const feeds: Record<string, TensorData> = {};
            body.inputs.forEach((t, i) => {
              if (!known.has(t?.name)) throw new VitalsError('BAD_REQUEST', `unknown input "${t?.name}"; the model takes ${[...known].join(', ')}`);
              feeds[t.name] = decodeV2Input(t, i);
            });
            const fetches = body.outputs?.map((o) => o.name);
            const userHeader = req.headers['x-user-id'];
            const result = await s.predictor.inferTensors(ref, feeds, fetches, { requestId: req.id, userId: typeof userHeader === 'string' && userHeader ? userHeader : undefined });
            const binaryAll = body.parameters?.binary_data_output === true;
            const wantsBinary = (name: string) => body.outputs?.find((o) => o.name === name)?.parameters?.binary_data ?? binaryAll;
            const blobs: Buffer[] = [];
            const outputs = Object.entries(result.outputs).map(([name, t]) => {
              if (!wantsBinary(name)) return encodeV2Output(name, t);
              const raw = rawBytes(t);
              blobs.push(raw);
              return { name, shape: t.dims, datatype: toV2[t.type] ?? t.type.toUpperCase(), parameters: { binary_data_size: raw.length } };
            });
            const parameters = result.predictionIds.length ? { prediction_ids: result.predictionIds.join(',') } : undefined;
            if (result.predictionIds[0]) reply.header('x-prediction-id', result.predictionIds[0]);
            const response = { model_name: result.served.modelName, model_version: result.served.version, id: body.id ?? req.id, ...(parameters ? { parameters } : {}), outputs };
            if (!blobs.length) return response;
            const header = Buffer.from(JSON.stringify(response), 'utf8');
            return reply
              .header('inference-header-content-length', String(header.length))
              .type('application/octet-stream')
              .send(Buffer.concat([header, ...blobs]));
          } catch (err) {
            return v2Error(reply, err);
          }
        },
      );
    }
  };
}

/** The body of a JSON POST that may come without a Content-Type (then it is bytes) or empty. */
function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body)) return body ?? undefined;
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new VitalsError('BAD_REQUEST', 'the body is not JSON');
  }
}

const TRITON_TYPE: Record<string, string> = { float32: 'TYPE_FP32', float64: 'TYPE_FP64', int64: 'TYPE_INT64', int32: 'TYPE_INT32', bool: 'TYPE_BOOL', string: 'TYPE_STRING', uint8: 'TYPE_UINT8' };

/** Triton's model configuration: with a dynamic first dimension the model batches, and dims leave it out. */
export function modelConfig(served: ServedModel, batching: { enabled: boolean; maxBatchSize: number; maxWaitMs: number }) {
  const all = [...served.session.inputs, ...served.session.outputs];
  const batched = all.length > 0 && all.every((t) => t.shape.length > 0 && t.shape[0] === -1);
  const tensor = (t: TensorDescription) => ({ name: t.name, data_type: TRITON_TYPE[t.type] ?? `TYPE_${t.type.toUpperCase()}`, dims: batched ? t.shape.slice(1) : t.shape });
  return {
    name: served.modelName,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: { specific: { versions: [served.version] } },
    max_batch_size: batched ? batching.maxBatchSize : 0,
    input: served.session.inputs.map((t) => ({ ...tensor(t), format: 'FORMAT_NONE' })),
    output: served.session.outputs.map(tensor),
    ...(batched && batching.enabled ? { dynamic_batching: { max_queue_delay_microseconds: Math.round(batching.maxWaitMs * 1000) } } : {}),
    parameters: { vitals_version_id: { string_value: served.versionId ?? '' } },
  };
}
