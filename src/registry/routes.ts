/**
 * Registry HTTP API: `/api/v1/models/…` plus the seed documents' `/api/v1/mlops/versioning/…` names.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { validationFailed } from '../errors.js';
import type { Services } from '../server/app.js';
import { buildReferenceProfile } from '../stats/reference-profile.js';
import type { RegisterVersionInput } from './model-registry.js';
import { ALIASES, MODALITIES, MODEL_TASKS, type InputSpec } from './specs.js';

const registerBody = z.object({
  version: z.string().optional().describe('semantic version; omitted: the latest version is bumped'),
  bump: z.enum(['major', 'minor', 'patch']).optional(),
  model_path: z.string().optional().describe('path of the ONNX file on the server'),
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
  actor: z.string().optional(),
});
type RegisterBody = z.infer<typeof registerBody>;

const changeBody = z.object({ reason: z.string().optional(), actor: z.string().optional() }).default({});
const actorOf = (req: FastifyRequest, body?: { actor?: string }) => body?.actor ?? (req.headers['x-actor'] as string | undefined) ?? 'api';

async function artifactBytes(body: RegisterBody, file?: Uint8Array): Promise<Uint8Array> {
  if (file) return file;
  if (body.artifact_base64) return Buffer.from(body.artifact_base64, 'base64');
  if (body.model_path) {
    return readFile(body.model_path).catch(() => {
      throw validationFailed([{ field: 'model_path', message: `cannot read ${body.model_path} on the server` }]);
    });
  }
  throw validationFailed([{ field: 'artifact', message: 'send the ONNX file as multipart field "file", as artifact_base64, or name a server path in model_path' }]);
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
  return { ...body, name, artifact, actor, reference_profile: profile, metadata: body.metadata, aliases: body.aliases };
}

/** Multipart registration: the ONNX file in field `file`, the rest as JSON in field `spec` (or one field each). */
async function readMultipart(req: FastifyRequest): Promise<{ body: RegisterBody; file?: Uint8Array }> {
  const fields: Record<string, unknown> = {};
  let file: Uint8Array | undefined;
  for await (const part of req.parts({ limits: { fileSize: 2 * 1024 ** 3 } })) {
    if (part.type === 'file') file = await part.toBuffer();
    else fields[part.fieldname] = part.value;
  }
  let merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'spec' && typeof v === 'string') merged = { ...merged, ...JSON.parse(v) };
    else if (typeof v === 'string' && /^[[{]/.test(v.trim())) merged[k] = JSON.parse(v);
    else merged[k] = v;
  }
  const parsed = registerBody.safeParse(merged);
  if (!parsed.success) throw validationFailed(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })));
  return { body: parsed.data, file };
}

export function registryRoutes(s: Services): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['registry'];
    const nameParam = z.object({ name: z.string() });
    const versionParam = z.object({ name: z.string(), version: z.string().describe('semantic version, alias or version id') });

    const register = async (name: string, req: FastifyRequest) => {
      const { body, file } = req.isMultipart() ? await readMultipart(req) : { body: registerBody.parse(req.body ?? {}), file: undefined };
      return s.registry.register(toRegisterInput(name, body, await artifactBytes(body, file), actorOf(req, body)));
    };

    app.get('/api/v1/models', { schema: { tags, summary: 'List models with their aliases' } }, async () => ({ models: await s.registry.listModels() }));
    app.get('/api/v1/models/:name', { schema: { tags, params: nameParam, summary: 'Get a model by name or id' } }, async (req) => s.registry.getModel(req.params.name));
    app.get('/api/v1/models/:name/versions', { schema: { tags, params: nameParam, summary: 'List versions, newest first' } }, async (req) => ({
      versions: await s.registry.listVersions(req.params.name),
    }));
    app.get('/api/v1/models/:name/versions/:version', { schema: { tags, params: versionParam, summary: 'Get a version by semver, alias or id' } }, async (req) =>
      s.registry.getVersion(req.params.name, req.params.version),
    );
    app.get('/api/v1/models/:name/versions/:version/profile', { schema: { tags, params: versionParam, summary: 'The training-data reference profile' } }, async (req) => {
      const v = await s.registry.getVersion(req.params.name, req.params.version);
      return { version_id: v.id, profile: await s.registry.referenceProfile(v.id) };
    });
    app.post(
      '/api/v1/models/:name/versions',
      { schema: { tags, params: nameParam, summary: 'Register a version: JSON (artifact_base64 or model_path) or multipart (file + spec JSON)', consumes: ['application/json', 'multipart/form-data'] } },
      async (req, reply) => reply.code(201).send(await register(req.params.name, req)),
    );
    app.post(
      '/api/v1/models/:name/versions/:version/promote',
      { schema: { tags, params: versionParam, body: changeBody.and(z.object({ alias: z.enum(ALIASES).optional() })), summary: 'Point an alias (default production) at this version' } },
      async (req) => {
        const v = await s.registry.getVersion(req.params.name, req.params.version);
        return s.registry.promote(v.id, { alias: req.body.alias, reason: req.body.reason, actor: actorOf(req, req.body) });
      },
    );
    app.post('/api/v1/models/:name/versions/:version/archive', { schema: { tags, params: versionParam, body: changeBody, summary: 'Archive a version' } }, async (req) => {
      const v = await s.registry.getVersion(req.params.name, req.params.version);
      return s.registry.archive(v.id, { reason: req.body.reason, actor: actorOf(req, req.body) });
    });
    app.post(
      '/api/v1/models/:name/rollback',
      { schema: { tags, params: nameParam, body: changeBody.and(z.object({ to_version: z.string().optional() })), summary: 'Roll production back to the previous or a named version' } },
      async (req) => s.registry.rollback(req.params.name, { toVersion: req.body.to_version, reason: req.body.reason, actor: actorOf(req, req.body) }),
    );
    app.delete(
      '/api/v1/models/:name/aliases/:alias',
      { schema: { tags, params: z.object({ name: z.string(), alias: z.enum(ALIASES) }), summary: 'Remove an alias' } },
      async (req, reply) => {
        await s.registry.removeAlias(req.params.name, req.params.alias, { actor: actorOf(req) });
        return reply.code(204).send();
      },
    );
    app.get('/api/v1/models/:name/history', { schema: { tags, params: nameParam, summary: 'Every registration and alias move: who, when, from, to, why' } }, async (req) => ({
      events: await s.registry.history(req.params.name),
    }));

    // ----- seed names (versioning) -----
    const vtags = ['versioning'];
    app.post(
      '/api/v1/mlops/versioning/create-version',
      {
        schema: {
          tags: vtags,
          summary: 'Create a model version (seed API); model_id is the model name',
          body: registerBody.and(z.object({ model_id: z.string().optional(), model_name: z.string().optional() })),
        },
      },
      async (req, reply) => {
        const name = req.body.model_id ?? req.body.model_name;
        if (!name) throw validationFailed([{ field: 'model_id', message: 'name the model' }]);
        const version = await s.registry.register(toRegisterInput(name, req.body, await artifactBytes(req.body), actorOf(req, req.body)));
        return reply.code(201).send({ version_id: version.id, model_id: name, version: version.version, message: `created ${name} ${version.version}`, details: version });
      },
    );
    app.get('/api/v1/mlops/versioning/:model_id/versions', { schema: { tags: vtags, params: z.object({ model_id: z.string() }) } }, async (req) => ({
      model_id: req.params.model_id,
      versions: await s.registry.listVersions(req.params.model_id),
    }));
    app.post(
      '/api/v1/mlops/versioning/:version_id/promote-to-production',
      { schema: { tags: vtags, params: z.object({ version_id: z.string() }), body: changeBody } },
      async (req) => {
        const v = await s.registry.promote(req.params.version_id, { reason: req.body.reason, actor: actorOf(req, req.body) });
        return { message: `${v.model_name} ${v.version} is now in production`, version: v };
      },
    );
    app.post(
      '/api/v1/mlops/versioning/:model_id/rollback',
      {
        schema: {
          tags: vtags,
          params: z.object({ model_id: z.string() }),
          body: changeBody.and(z.object({ target_version: z.string().optional(), to_version: z.string().optional() })),
        },
      },
      async (req) => {
        const v = await s.registry.rollback(req.params.model_id, {
          toVersion: req.body.target_version ?? req.body.to_version,
          reason: req.body.reason,
          actor: actorOf(req, req.body),
        });
        return { message: `${v.model_name} rolled back to ${v.version}`, version: v };
      },
    );
  };
}

