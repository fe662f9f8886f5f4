/**
 * Registry HTTP API: `/api/v1/models/…` plus the seed documents' `/api/v1/mlops/versioning/…` names.
 * Handlers parse, make one registry call and return its view.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError, validationFailed } from '../errors.js';
import type { DataDir } from '../files/data-dir.js';
import { fileField } from '../server/openapi.js';
import { actorOf, auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, anyObject, declare, errorResponses, view } from '../server/route-kit.js';
import { buildReferenceProfile } from '../stats/reference-profile.js';
import type { ModelRegistry, RegisterVersionInput } from './model-registry.js';
import { ALIASES, MODALITIES, MODEL_TASKS, type InputSpec } from './specs.js';
import { eventView, modelView, versionView } from './views.js';

export interface RegistryRouteDeps {
  registry: Pick<ModelRegistry, 'listModels' | 'getModel' | 'listVersions' | 'getVersion' | 'referenceProfile' | 'register' | 'promote' | 'archive' | 'rollback' | 'removeAlias' | 'history'>;
  /** files named by `model_path` must lie inside DATA_DIR */
  dataDir: Pick<DataDir, 'read'>;
}

const registerFields = {
  version: z.string().optional().describe('semantic version; omitted: the latest version is bumped'),
  bump: z.enum(['major', 'minor', 'patch']).optional(),
  model_path: z.string().optional().describe('path of the ONNX file inside DATA_DIR on the server'),
  artifact_base64: z.string().optional().describe('the ONNX file, base64-encoded'),
  task: z.enum(MODEL_TASKS).optional(),
  modality: z.enum(MODALITIES).optional(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  input_spec: z.unknown().describe('{kind:"tabular", features:[{name,type,min,max,categories}]} or {kind:"image", width, height, channels, mean, std, layout}'),
  output_spec: z.unknown().describe('{labels:[...], probabilities?, logits?}'),
  metrics: z.record(z.string(), z.number()).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  lineage: z.record(z.string(), z.unknown()).optional(),
  reference_profile: z.unknown().optional().describe('a profile as built by Vitals; or send reference_data'),
  reference_data: z.array(z.record(z.string(), z.unknown())).max(100_000).optional().describe('training rows to profile as the drift baseline'),
  aliases: z.array(z.enum(ALIASES)).optional(),
};
const registerBody = z.strictObject(registerFields);
type RegisterBody = z.infer<typeof registerBody>;

const registerMultipart = z.object({
  file: fileField('the ONNX model'),
  spec: z.string().describe('JSON object with the fields of the JSON form (version, input_spec, output_spec, metrics, …)'),
});

const reasonField = z.string().trim().min(1).max(2000).describe('why: recorded in the history');
const changeBody = z.strictObject({ reason: reasonField.optional() });
const productionChangeBody = z.strictObject({ reason: reasonField.describe('why production moves: required, recorded in the history') });

const issuesToFields = (error: z.ZodError) => error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));

function parseRegisterBody(value: unknown, extra: z.ZodRawShape = {}): RegisterBody & Record<string, unknown> {
  const parsed = registerBody.extend(extra).safeParse(value ?? {});
  if (!parsed.success) throw validationFailed(issuesToFields(parsed.error), 'registration failed validation');
  return parsed.data as RegisterBody & Record<string, unknown>;
}

function toRegisterInput(name: string, body: RegisterBody, artifact: Uint8Array, actor: string): RegisterVersionInput {
  let profile = body.reference_profile as RegisterVersionInput['reference_profile'];
  if (!profile && body.reference_data?.length) {
    const spec = body.input_spec as InputSpec | undefined;
    const features = spec?.kind === 'tabular' ? spec.features : undefined;
    profile = buildReferenceProfile(body.reference_data as never, {
      features: features?.map((f) => f.name),
      categorical: features?.filter((f) => f.type === 'category').map((f) => f.name),
    });
  }
  const { reference_data: _rows, model_path: _path, artifact_base64: _b64, ...rest } = body;
  return { ...rest, name, artifact, actor, reference_profile: profile };
}

function parseJsonField(field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw validationFailed([{ field, message: 'is not valid JSON' }]);
  }
}

/** Multipart registration: the ONNX file in field `file`, the rest as JSON in field `spec` (or one field each). */
async function readMultipart(req: FastifyRequest): Promise<{ body: RegisterBody; file?: Uint8Array }> {
  const fields: Record<string, unknown> = {};
  let file: Uint8Array | undefined;
  try {
    for await (const part of req.parts({ limits: { fileSize: BODY_LIMITS.upload } })) {
      if (part.type === 'file') file = await part.toBuffer();
      else fields[part.fieldname] = part.value;
    }
  } catch (err) {
    if (err instanceof VitalsError) throw err;
    const e = err as { code?: string; message?: string; statusCode?: number };
    if (e.statusCode === 413) throw err;
    throw new VitalsError('BAD_REQUEST', `cannot read the multipart body: ${e.message ?? 'malformed'}; send multipart/form-data with a boundary (curl -F file=@model.onnx -F spec=…)`);
  }
  let merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'spec' && typeof v === 'string') {
      const spec = parseJsonField('spec', v);
      if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw validationFailed([{ field: 'spec', message: 'must be a JSON object' }]);
      merged = { ...merged, ...(spec as Record<string, unknown>) };
    } else if (typeof v === 'string' && /^[[{]/.test(v.trim())) merged[k] = parseJsonField(k, v);
    else merged[k] = v;
  }
  return { body: parseRegisterBody(merged), file };
}

export function registryPlugin(deps: RegistryRouteDeps): FastifyPluginAsync {
  const { registry, dataDir } = deps;

  async function artifactBytes(body: RegisterBody, file?: Uint8Array): Promise<Uint8Array> {
    if (file) return file;
    if (body.artifact_base64) return Buffer.from(body.artifact_base64, 'base64');
    if (body.model_path) return dataDir.read(body.model_path, 'model_path');
    throw validationFailed([{ field: 'artifact', message: 'send the ONNX file as multipart field "file", as artifact_base64, or name a file inside DATA_DIR in model_path' }]);
  }

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['registry'];
    const nameParam = z.object({ name: z.string() });
    const versionParam = z.object({ name: z.string(), version: z.string().describe('semantic version, alias or version id') });
    const read = declare('models:read', BODY_LIMITS.none);
    const write = declare('models:write');

    app.get('/api/v1/models', { ...read, schema: { tags, summary: 'List models with their aliases', response: { 200: z.object({ models: z.array(modelView) }), ...errorResponses() } } }, async () => ({
      models: await registry.listModels(),
    }));
    app.get('/api/v1/models/:name', { ...read, schema: { tags, params: nameParam, summary: 'Get a model by name or id', response: { 200: modelView, ...errorResponses(404) } } }, async (req) =>
      registry.getModel(req.params.name),
    );
    app.get(
      '/api/v1/models/:name/versions',
      { ...read, schema: { tags, params: nameParam, summary: 'List versions, newest first', response: { 200: z.object({ versions: z.array(versionView) }), ...errorResponses(404) } } },
      async (req) => ({ versions: await registry.listVersions(req.params.name) }),
    );
    app.get(
      '/api/v1/models/:name/versions/:version',
      { ...read, schema: { tags, params: versionParam, summary: 'Get a version by semver, alias or id', response: { 200: versionView, ...errorResponses(404) } } },
      async (req) => registry.getVersion(req.params.name, req.params.version),
    );
    app.get(
      '/api/v1/models/:name/versions/:version/profile',
      {
        ...read,
        schema: {
          tags,
          params: versionParam,
          summary: 'The training-data reference profile',
          response: { 200: z.object({ version_id: z.string(), profile: anyObject.nullable() }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const v = await registry.getVersion(req.params.name, req.params.version);
        return { version_id: v.id, profile: (await registry.referenceProfile(v.id)) as Record<string, unknown> | null };
      },
    );
    app.post(
      '/api/v1/models/:name/versions',
      {
        ...declare('models:write', BODY_LIMITS.upload),
        schema: {
          tags,
          params: nameParam,
          summary: 'Register a version: JSON (artifact_base64 or model_path) or multipart (file + spec JSON)',
          jsonBody: registerBody,
          multipart: registerMultipart,
          response: { 201: versionView, ...errorResponses(400, 403, 409, 413, 415) },
        },
      },
      async (req, reply) => {
        const { body, file } = req.isMultipart() ? await readMultipart(req) : { body: parseRegisterBody(req.body), file: undefined };
        return reply.code(201).send(await registry.register({ ...toRegisterInput(req.params.name, body, await artifactBytes(body, file), actorOf(req)), audit: auditContextOf(req) }));
      },
    );
    app.post(
      '/api/v1/models/:name/versions/:version/promote',
      {
        ...write,
        schema: {
          tags,
          params: versionParam,
          body: z.strictObject({ alias: z.enum(ALIASES).optional(), reason: reasonField.optional() }).default({}),
          summary: 'Point an alias (default production) at this version; moving production needs a reason',
          response: { 200: versionView, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const alias = req.body.alias ?? 'production';
        if (alias === 'production' && !req.body.reason) throw validationFailed([{ field: 'reason', message: 'moving production needs a reason (recorded in the history)' }]);
        const v = await registry.getVersion(req.params.name, req.params.version);
        return registry.promote(v.id, { alias, reason: req.body.reason, actor: actorOf(req), audit: auditContextOf(req) });
      },
    );
    app.post(
      '/api/v1/models/:name/versions/:version/archive',
      {
        ...write,
        schema: {
          tags,
          params: versionParam,
          body: changeBody.default({}),
          summary: 'Archive a version (not the production one: promote or roll back first)',
          response: { 200: versionView, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const v = await registry.getVersion(req.params.name, req.params.version); // the registry refuses to archive production (409)
        return registry.archive(v.id, { reason: req.body.reason, actor: actorOf(req), audit: auditContextOf(req) });
      },
    );
    app.post(
      '/api/v1/models/:name/rollback',
      {
        ...write,
        schema: {
          tags,
          params: nameParam,
          body: productionChangeBody.extend({ to_version: z.string().optional() }),
          summary: 'Roll production back to the previous or a named version, with a reason',
          response: { 200: versionView, ...errorResponses(404, 409) },
        },
      },
      async (req) => registry.rollback(req.params.name, { toVersion: req.body.to_version, reason: req.body.reason, actor: actorOf(req), audit: auditContextOf(req) }),
    );
    app.delete(
      '/api/v1/models/:name/aliases/:alias',
      {
        ...declare('models:write', BODY_LIMITS.none),
        schema: { tags, params: z.object({ name: z.string(), alias: z.enum(ALIASES) }), summary: 'Remove an alias', response: { 204: z.undefined().describe('removed'), ...errorResponses(404, 409) } },
      },
      async (req, reply) => {
        if (req.params.alias === 'production') throw new VitalsError('CONFLICT', 'production cannot be removed; promote another version or roll back, with a reason');
        await registry.removeAlias(req.params.name, req.params.alias, { actor: actorOf(req), audit: auditContextOf(req) });
        return reply.code(204).send(undefined);
      },
    );
    app.get(
      '/api/v1/models/:name/history',
      {
        ...read,
        schema: {
          tags,
          params: nameParam,
          summary: 'Every registration and alias move: who, when, from, to, why',
          response: { 200: z.object({ events: z.array(eventView) }), ...errorResponses(404) },
        },
      },
      async (req) => ({ events: await registry.history(req.params.name) }),
    );

    // ----- seed names (versioning) -----
    const vtags = ['versioning'];
    app.post(
      '/api/v1/mlops/versioning/create-version',
      {
        ...declare('models:write', BODY_LIMITS.upload),
        schema: {
          tags: vtags,
          summary: 'Create a model version (seed API); model_id is the model name',
          body: view({ model_id: z.string().optional(), model_name: z.string().optional() }).describe('the registration fields plus model_id'),
          response: {
            201: z.object({ version_id: z.string(), model_id: z.string(), version: z.string(), message: z.string(), details: versionView }),
            ...errorResponses(403, 409, 413),
          },
        },
      },
      async (req, reply) => {
        const body = parseRegisterBody(req.body, { model_id: z.string().min(1).optional(), model_name: z.string().min(1).optional() });
        const name = (body.model_id ?? body.model_name) as string | undefined;
        if (!name) throw validationFailed([{ field: 'model_id', message: 'name the model' }]);
        const { model_id: _id, model_name: _name, ...fields } = body;
        const version = await registry.register({ ...toRegisterInput(name, fields as RegisterBody, await artifactBytes(fields as RegisterBody), actorOf(req)), audit: auditContextOf(req) });
        return reply.code(201).send({ version_id: version.id, model_id: name, version: version.version, message: `created ${name} ${version.version}`, details: version });
      },
    );
    app.get(
      '/api/v1/mlops/versioning/:model_id/versions',
      {
        ...read,
        schema: {
          tags: vtags,
          params: z.object({ model_id: z.string() }),
          summary: 'Versions of a model (seed API)',
          response: { 200: z.object({ model_id: z.string(), versions: z.array(versionView) }), ...errorResponses(404) },
        },
      },
      async (req) => ({ model_id: req.params.model_id, versions: await registry.listVersions(req.params.model_id) }),
    );
    const seedChangeView = z.object({ message: z.string(), version: versionView });
    app.post(
      '/api/v1/mlops/versioning/:version_id/promote-to-production',
      {
        ...write,
        schema: {
          tags: vtags,
          params: z.object({ version_id: z.string() }),
          body: productionChangeBody,
          summary: 'Promote a version to production (seed API), with a reason',
          response: { 200: seedChangeView, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const v = await registry.promote(req.params.version_id, { reason: req.body.reason, actor: actorOf(req), audit: auditContextOf(req) });
        return { message: `${v.model_name} ${v.version} is now in production`, version: v };
      },
    );
    app.post(
      '/api/v1/mlops/versioning/:model_id/rollback',
      {
        ...write,
        schema: {
          tags: vtags,
          params: z.object({ model_id: z.string() }),
          body: productionChangeBody.extend({ target_version: z.string().optional(), to_version: z.string().optional() }),
          summary: 'Roll production back (seed API), with a reason',
          response: { 200: seedChangeView, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const v = await registry.rollback(req.params.model_id, { toVersion: req.body.target_version ?? req.body.to_version, reason: req.body.reason, actor: actorOf(req), audit: auditContextOf(req) });
        return { message: `${v.model_name} rolled back to ${v.version}`, version: v };
      },
    );
  };
}
