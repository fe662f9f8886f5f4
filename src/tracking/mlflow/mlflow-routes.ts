/**
 * The MLflow REST API, as the official client (mlflow / mlflow-skinny) calls it: tracking and the
 * model registry under /api/2.0/mlflow and /ajax-api/2.0/mlflow, the artifact proxy under
 * /api/2.0/mlflow-artifacts. Errors answer in MLflow's shape `{ error_code, message }` (this
 * plugin's own error handler), so the client raises the exceptions it expects.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type ZodTypeProvider, hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError } from '../../errors.js';
import { RouteMethods } from '../../server/error-handler.js';
import { actorOf } from '../../server/principal.js';
import { BODY_LIMITS, type Permission, declare } from '../../server/route-kit.js';
import { MLFLOW_ERROR_STATUS, type MlflowErrorCode, invalidParameter, toMlflowError } from './mlflow-errors.js';
import type { MlflowModelRegistry } from './mlflow-registry.js';
import {
  datasetInputIn,
  empty,
  experimentView,
  fileInfo,
  epochMillis,
  optionalEpochMillis,
  optionalStep,
  keyValueIn,
  metricIn,
  metricView,
  mlflowErrors,
  modelVersionView,
  queryInt,
  registeredModelView,
  runInfoView,
  runStatus,
  runView,
  stringList,
  viewType,
} from './mlflow-schemas.js';
import { type MlflowTracking, runArtifactRoot } from './mlflow-tracking.js';
import { type RunArtifacts, artifactPath } from './run-artifacts.js';

export interface MlflowDeps {
  tracking: MlflowTracking;
  models: MlflowModelRegistry;
  artifacts: RunArtifacts;
  /** the methods the server answers on a path (a wrong method on a known path is a 405, not a 404) */
  allowedMethods?: (path: string) => string[];
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function installMlflowErrors(app: FastifyInstance, allowedMethods: MlflowDeps['allowedMethods']): void {
  const notRouted = (req: FastifyRequest, reply: FastifyReply) => {
    const path = RouteMethods.pathOf(req);
    const allowed = allowedMethods?.(path) ?? [];
    if (allowed.length)
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ error_code: 'BAD_REQUEST', message: `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}` });
    return reply
      .code(MLFLOW_ERROR_STATUS.ENDPOINT_NOT_FOUND)
      .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No API endpoint ${req.method} ${path}: Vitals implements the MLflow subset the official client uses (see /docs)` });
  };
  app.setErrorHandler((err, req, reply) => {
    // an unknown method with a body but no Content-Type fails before routing: it is still a wrong method
    if (!req.routeOptions?.url && (err as { code?: string }).code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE') return notRouted(req, reply);
    let status: number;
    let errorCode: MlflowErrorCode;
    let message: string;
    if (err instanceof VitalsError) {
      ({ status, error_code: errorCode } = toMlflowError(err));
      message = err.message;
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      errorCode = 'INVALID_PARAMETER_VALUE';
      message = `Invalid request: ${err.validation.map((v) => `${[err.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.')}: ${v.message ?? 'is invalid'}`).join('; ')}`;
    } else {
      const e = err as { statusCode?: number; message?: string };
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        status = e.statusCode;
        errorCode = status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'BAD_REQUEST';
        message = e.message ?? STATUS_CODES[status] ?? 'bad request';
      } else {
        req.log.error({ err }, 'unhandled error in the MLflow API');
        status = 500;
        errorCode = 'INTERNAL_ERROR';
        message = `internal error; see the server log for request ${req.id}`;
      }
    }
    return reply.code(status).send({ error_code: errorCode, message });
  });
  app.setNotFoundHandler(notRouted);
}

/** One MLflow RPC: GET takes its input from the query string, the others from the JSON body. */
function rpc<I extends z.ZodType, O extends z.ZodType>(
  app: FastifyInstance,
  method: Method,
  url: string,
  permission: Permission,
  summary: string,
  input: I,
  output: O,
  handler: (input: z.output<I>, req: FastifyRequest) => Promise<z.input<O>>,
): void {
  app.withTypeProvider<ZodTypeProvider>().route({
    method,
    url,
    ...declare(permission),
    schema: { tags: ['mlflow'], summary, ...(method === 'GET' ? { querystring: input } : { body: input }), response: { 200: output, ...mlflowErrors } },
    // the response schema checks what the handler returns (a mismatch is a 500), so the handler's type is ours
    handler: (async (req: FastifyRequest) => handler((method === 'GET' ? req.query : (req.body ?? {})) as z.output<I>, req)) as never,
  });
}

const runRef = { run_id: z.string().optional(), run_uuid: z.string().optional() };
const runIdOf = (b: { run_id?: string; run_uuid?: string }) => {
  const id = b.run_id || b.run_uuid;
  if (!id) throw invalidParameter("Missing value for required parameter 'run_id'.");
  return id;
};

function trackingApi(deps: MlflowDeps): FastifyPluginAsync {
  const { tracking, models, artifacts } = deps;
  return async (app) => {
    installMlflowErrors(app, deps.allowedMethods);
    const R: Permission = 'tracking:read';
    const W: Permission = 'tracking:write';
    const MR: Permission = 'models:read';
    const MW: Permission = 'models:write';

    // ---------- experiments ----------
    rpc(
      app,
      'POST',
      '/experiments/create',
      W,
      'Create an experiment',
      z.object({ name: z.string(), artifact_location: z.string().optional(), tags: z.array(keyValueIn).optional() }),
      z.object({ experiment_id: z.string() }),
      async (b) => ({
        experiment_id: await tracking.createExperiment(b.name, b.tags, b.artifact_location),
      }),
    );
    rpc(app, 'GET', '/experiments/get', R, 'Get an experiment', z.object({ experiment_id: z.string() }), z.object({ experiment: experimentView }), async (q) => ({
      experiment: await tracking.getExperiment(q.experiment_id),
    }));
    rpc(app, 'GET', '/experiments/get-by-name', R, 'Get an experiment by name', z.object({ experiment_name: z.string() }), z.object({ experiment: experimentView }), async (q) => ({
      experiment: await tracking.getExperimentByName(q.experiment_name),
    }));
    const searchExperiments = z.object({
      max_results: queryInt.optional(),
      page_token: z.string().optional(),
      filter: z.string().optional(),
      order_by: stringList.optional(),
      view_type: viewType.optional(),
    });
    const searchExperimentsOut = z.object({ experiments: z.array(experimentView), next_page_token: z.string().optional() });
    const doSearchExperiments = (b: z.output<typeof searchExperiments>) =>
      tracking.searchExperiments({ viewType: b.view_type, maxResults: b.max_results, filter: b.filter, orderBy: b.order_by, pageToken: b.page_token });
    rpc(app, 'POST', '/experiments/search', R, 'Search experiments', searchExperiments, searchExperimentsOut, doSearchExperiments);
    rpc(app, 'GET', '/experiments/search', R, 'Search experiments', searchExperiments, searchExperimentsOut, doSearchExperiments);
    rpc(app, 'POST', '/experiments/update', W, 'Rename an experiment', z.object({ experiment_id: z.string(), new_name: z.string().min(1) }), empty, async (b) => {
      await tracking.updateExperiment(b.experiment_id, b.new_name);
      return {};
    });
    rpc(app, 'POST', '/experiments/delete', W, 'Delete an experiment (and its runs; restorable)', z.object({ experiment_id: z.string() }), empty, async (b) => {
      await tracking.setExperimentLifecycle(b.experiment_id, 'deleted');
      return {};
    });
    rpc(app, 'POST', '/experiments/restore', W, 'Restore a deleted experiment', z.object({ experiment_id: z.string() }), empty, async (b) => {
      await tracking.setExperimentLifecycle(b.experiment_id, 'active');
      return {};
    });
    rpc(app, 'POST', '/experiments/set-experiment-tag', W, 'Set an experiment tag', z.object({ experiment_id: z.string(), key: z.string().min(1), value: z.string() }), empty, async (b) => {
      await tracking.setExperimentTag(b.experiment_id, b.key, b.value);
      return {};
    });
    rpc(app, 'POST', '/experiments/delete-experiment-tag', W, 'Delete an experiment tag', z.object({ experiment_id: z.string(), key: z.string().min(1) }), empty, async (b) => {
      await tracking.setExperimentTag(b.experiment_id, b.key, null);
      return {};
    });

    // ---------- runs ----------
    rpc(
      app,
      'POST',
      '/runs/create',
      W,
      'Create a run (a Vitals tracking run)',
      z.object({ experiment_id: z.string().optional(), user_id: z.string().optional(), start_time: optionalEpochMillis, tags: z.array(keyValueIn).optional(), run_name: z.string().optional() }),
      z.object({ run: runView }),
      async (b) => ({
        run: await tracking.createRun(b),
      }),
    );
    rpc(app, 'GET', '/runs/get', R, 'Get a run', z.object(runRef), z.object({ run: runView }), async (q) => ({ run: await tracking.getRun(runIdOf(q)) }));
    rpc(
      app,
      'POST',
      '/runs/update',
      W,
      'Update a run (status, end time, name)',
      z.object({ ...runRef, status: runStatus.optional(), end_time: optionalEpochMillis, run_name: z.string().optional() }),
      z.object({ run_info: runInfoView }),
      async (b) => ({
        run_info: await tracking.updateRun(runIdOf(b), b),
      }),
    );
    rpc(app, 'POST', '/runs/delete', W, 'Delete a run (restorable)', z.object({ run_id: z.string() }), empty, async (b) => {
      await tracking.setRunLifecycle(b.run_id, 'deleted');
      return {};
    });
    rpc(app, 'POST', '/runs/restore', W, 'Restore a deleted run', z.object({ run_id: z.string() }), empty, async (b) => {
      await tracking.setRunLifecycle(b.run_id, 'active');
      return {};
    });
    rpc(
      app,
      'POST',
      '/runs/log-metric',
      W,
      'Log a metric value at a step',
      z.looseObject({ ...runRef, key: z.string().min(1), value: z.number(), timestamp: epochMillis, step: optionalStep }),
      empty,
      async (b) => {
        await tracking.logBatch(runIdOf(b), { metrics: [{ key: b.key, value: b.value, timestamp: b.timestamp, step: b.step }] });
        return {};
      },
    );
    rpc(
      app,
      'POST',
      '/runs/log-parameter',
      W,
      'Log a param (immutable once logged)',
      z.object({ ...runRef, key: z.string().min(1), value: z.union([z.string(), z.number(), z.boolean()]).transform(String) }),
      empty,
      async (b) => {
        await tracking.logBatch(runIdOf(b), { params: [{ key: b.key, value: b.value }] });
        return {};
      },
    );
    rpc(
      app,
      'POST',
      '/runs/set-tag',
      W,
      'Set a run tag',
      z.object({ ...runRef, key: z.string().min(1), value: z.union([z.string(), z.number(), z.boolean()]).transform(String) }),
      empty,
      async (b) => {
        await tracking.logBatch(runIdOf(b), { tags: [{ key: b.key, value: b.value }] });
        return {};
      },
    );
    rpc(app, 'POST', '/runs/delete-tag', W, 'Delete a run tag', z.object({ run_id: z.string(), key: z.string().min(1) }), empty, async (b) => {
      await tracking.deleteTag(b.run_id, b.key);
      return {};
    });
    rpc(
      app,
      'POST',
      '/runs/log-batch',
      W,
      'Log metrics, params and tags in one transaction',
      z.object({ run_id: z.string(), metrics: z.array(metricIn).optional(), params: z.array(keyValueIn).optional(), tags: z.array(keyValueIn).optional() }),
      empty,
      async (b) => {
        await tracking.logBatch(b.run_id, b);
        return {};
      },
    );
    rpc(app, 'POST', '/runs/log-inputs', W, 'Log dataset inputs (name, digest, source)', z.looseObject({ run_id: z.string(), datasets: z.array(datasetInputIn).optional() }), empty, async (b) => {
      await tracking.logInputs(b.run_id, b.datasets ?? []);
      return {};
    });
    rpc(
      app,
      'POST',
      '/runs/search',
      R,
      'Search runs: filter on metrics, params, tags and attributes, order_by, max_results, page_token',
      z.object({
        experiment_ids: z.array(z.string()).optional(),
        filter: z.string().optional(),
        run_view_type: viewType.optional(),
        max_results: queryInt.optional(),
        order_by: z.array(z.string()).optional(),
        page_token: z.string().optional(),
      }),
      z.object({ runs: z.array(runView), next_page_token: z.string().optional() }),
      async (b) => tracking.searchRuns({ experimentIds: b.experiment_ids ?? [], filter: b.filter, viewType: b.run_view_type, maxResults: b.max_results, orderBy: b.order_by, pageToken: b.page_token }),
    );
    rpc(
      app,
      'GET',
      '/metrics/get-history',
      R,
      'All values of a metric, by step',
      z.object({ ...runRef, metric_key: z.string(), max_results: queryInt.optional(), page_token: z.string().optional() }),
      z.object({ metrics: z.array(metricView), next_page_token: z.string().optional() }),
      async (q) => tracking.metricHistory(runIdOf(q), q.metric_key, { maxResults: q.max_results, pageToken: q.page_token }),
    );
    rpc(
      app,
      'GET',
      '/artifacts/list',
      R,
      "List a run's artifacts",
      z.object({ ...runRef, path: z.string().optional(), page_token: z.string().optional() }),
      z.object({ root_uri: z.string(), files: z.array(fileInfo) }),
      async (q) => {
        const run = await tracking.getRun(runIdOf(q));
        const root = runArtifactRoot(run.info.experiment_id, run.info.run_id);
        const sub = q.path ? artifactPath(q.path) : '';
        const files = await artifacts.list(sub ? `${root}/${sub}` : root);
        return { root_uri: run.info.artifact_uri, files: files.map((f) => ({ ...f, path: sub ? `${sub}/${f.path}` : f.path })) };
      },
    );

    // MLflow 3's LoggedModel entities (mlflow.<flavor>.log_model) are not kept by Vitals: the client
    // also looks for them when it lists a run's artifacts, and finds none.
    rpc(
      app,
      'POST',
      '/logged-models/search',
      R,
      'Logged models (none: log ONNX files as run artifacts)',
      z.looseObject({ experiment_ids: z.array(z.string()).optional() }),
      z.object({ models: z.array(z.never()) }),
      async () => ({ models: [] }),
    );

    // ---------- registered models ----------
    const nameIn = z.object({ name: z.string().min(1) });
    rpc(
      app,
      'POST',
      '/registered-models/create',
      MW,
      'Create a registered model (a Vitals model)',
      z.object({ name: z.string(), tags: z.array(keyValueIn).optional(), description: z.string().optional() }),
      z.object({ registered_model: registeredModelView }),
      async (b) => ({
        registered_model: await models.createRegisteredModel(b),
      }),
    );
    rpc(app, 'GET', '/registered-models/get', MR, 'Get a registered model', nameIn, z.object({ registered_model: registeredModelView }), async (q) => ({
      registered_model: await models.getRegisteredModel(q.name),
    }));
    rpc(
      app,
      'GET',
      '/registered-models/search',
      MR,
      'Search registered models',
      z.object({ filter: z.string().optional(), max_results: queryInt.optional(), order_by: stringList.optional(), page_token: z.string().optional() }),
      z.object({ registered_models: z.array(registeredModelView), next_page_token: z.string().optional() }),
      async (q) => models.searchRegisteredModels({ filter: q.filter, maxResults: q.max_results, orderBy: q.order_by, pageToken: q.page_token }),
    );
    rpc(
      app,
      'PATCH',
      '/registered-models/update',
      MW,
      'Update the description',
      z.object({ name: z.string().min(1), description: z.string().optional() }),
      z.object({ registered_model: registeredModelView }),
      async (b) => ({
        registered_model: await models.updateRegisteredModel(b.name, b.description),
      }),
    );
    rpc(app, 'DELETE', '/registered-models/delete', MW, 'Delete a registered model that has no served versions', nameIn, empty, async (b) => {
      await models.deleteRegisteredModel(b.name);
      return {};
    });
    rpc(app, 'POST', '/registered-models/set-tag', MW, 'Set a registered model tag', z.object({ name: z.string().min(1), key: z.string().min(1), value: z.string() }), empty, async (b) => {
      await models.setRegisteredModelTag(b.name, b.key, b.value);
      return {};
    });
    rpc(app, 'DELETE', '/registered-models/delete-tag', MW, 'Delete a registered model tag', z.object({ name: z.string().min(1), key: z.string().min(1) }), empty, async (b) => {
      await models.setRegisteredModelTag(b.name, b.key, null);
      return {};
    });
    const latestIn = z.object({ name: z.string().min(1), stages: stringList.optional() });
    const latestOut = z.object({ model_versions: z.array(modelVersionView) });
    rpc(app, 'POST', '/registered-models/get-latest-versions', MR, 'Latest version', latestIn, latestOut, async (b) => ({ model_versions: await models.latestVersions(b.name, b.stages) }));
    rpc(app, 'GET', '/registered-models/get-latest-versions', MR, 'Latest version', latestIn, latestOut, async (q) => ({ model_versions: await models.latestVersions(q.name, q.stages) }));
    rpc(
      app,
      'POST',
      '/registered-models/alias',
      MW,
      'Point an alias at a version (a Vitals alias move: production is served)',
      z.object({ name: z.string().min(1), alias: z.string().min(1), version: z.union([z.string(), z.number()]).transform(String) }),
      empty,
      async (b, req) => {
        await models.setAlias(b.name, b.alias, b.version, actorOf(req));
        return {};
      },
    );
    rpc(app, 'DELETE', '/registered-models/alias', MW, 'Remove an alias', z.object({ name: z.string().min(1), alias: z.string().min(1) }), empty, async (b, req) => {
      await models.deleteAlias(b.name, b.alias, actorOf(req));
      return {};
    });
    rpc(
      app,
      'GET',
      '/registered-models/alias',
      MR,
      'The version an alias points at',
      z.object({ name: z.string().min(1), alias: z.string().min(1) }),
      z.object({ model_version: modelVersionView }),
      async (q) => ({
        model_version: await models.versionByAlias(q.name, q.alias),
      }),
    );

    // ---------- model versions ----------
    const versionIn = z.object({ name: z.string().min(1), version: z.union([z.string(), z.number()]).transform(String) });
    rpc(
      app,
      'POST',
      '/model-versions/create',
      MW,
      'Create a model version; an ONNX model in its artifacts becomes a servable Vitals version',
      z.looseObject({
        name: z.string().min(1),
        source: z.string(),
        run_id: z.string().optional(),
        tags: z.array(keyValueIn).optional(),
        run_link: z.string().optional(),
        description: z.string().optional(),
      }),
      z.object({ model_version: modelVersionView }),
      async (b, req) => ({ model_version: await models.createModelVersion({ ...b, actor: actorOf(req) }) }),
    );
    rpc(app, 'GET', '/model-versions/get', MR, 'Get a model version', versionIn, z.object({ model_version: modelVersionView }), async (q) => ({
      model_version: await models.getModelVersion(q.name, q.version),
    }));
    rpc(app, 'PATCH', '/model-versions/update', MW, 'Update the description', versionIn.extend({ description: z.string().optional() }), z.object({ model_version: modelVersionView }), async (b) => ({
      model_version: await models.updateModelVersion(b.name, b.version, b.description),
    }));
    rpc(app, 'DELETE', '/model-versions/delete', MW, 'Delete a model version (its Vitals version is archived)', versionIn, empty, async (b, req) => {
      await models.deleteModelVersion(b.name, b.version, actorOf(req));
      return {};
    });
    rpc(
      app,
      'GET',
      '/model-versions/search',
      MR,
      'Search model versions',
      z.object({ filter: z.string().optional(), max_results: queryInt.optional(), order_by: stringList.optional(), page_token: z.string().optional() }),
      z.object({ model_versions: z.array(modelVersionView), next_page_token: z.string().optional() }),
      async (q) => models.searchModelVersions({ filter: q.filter, maxResults: q.max_results, orderBy: q.order_by, pageToken: q.page_token }),
    );
    rpc(app, 'POST', '/model-versions/set-tag', MW, 'Set a model version tag', versionIn.extend({ key: z.string().min(1), value: z.string() }), empty, async (b) => {
      await models.setModelVersionTag(b.name, b.version, b.key, b.value);
      return {};
    });
    rpc(app, 'DELETE', '/model-versions/delete-tag', MW, 'Delete a model version tag', versionIn.extend({ key: z.string().min(1) }), empty, async (b) => {
      await models.setModelVersionTag(b.name, b.version, b.key, null);
      return {};
    });
    rpc(app, 'GET', '/model-versions/get-download-uri', MR, "A model version's artifact URI", versionIn, z.object({ artifact_uri: z.string() }), async (q) => ({
      artifact_uri: await models.downloadUri(q.name, q.version),
    }));
  };
}

/** The artifact proxy: files of runs, content-addressed; a path is only ever a key in the index. */
function artifactProxy(deps: MlflowDeps): FastifyPluginAsync {
  const { artifacts } = deps;
  return async (base) => {
    installMlflowErrors(base, deps.allowedMethods);
    const app = base.withTypeProvider<ZodTypeProvider>();
    // uploads are raw bytes whatever their Content-Type (the client sends the file's guessed type, or none)
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMITS.upload }, (_req, body, done) => done(null, body));
    const pathParams = z.object({ '*': z.string() });
    const bytes = z.any().describe('the file bytes (application/octet-stream)');
    app.put(
      '/artifacts/*',
      { ...declare('tracking:write', BODY_LIMITS.upload), schema: { tags: ['mlflow'], summary: 'Upload an artifact', params: pathParams, response: { 200: empty, ...mlflowErrors } } },
      async (req) => {
        const body = req.body;
        await artifacts.put(req.params['*'], Buffer.isBuffer(body) ? body : Buffer.alloc(0));
        return {};
      },
    );
    app.get(
      '/artifacts/*',
      {
        ...declare('tracking:read'),
        schema: { tags: ['mlflow'], summary: 'Download an artifact', params: pathParams, response: { 200: bytes, ...mlflowErrors }, mediaTypes: { 200: ['application/octet-stream'] } },
      },
      async (req, reply) => {
        const data = await artifacts.get(req.params['*']);
        return reply.type('application/octet-stream').send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      },
    );
    app.delete(
      '/artifacts/*',
      { ...declare('tracking:write'), schema: { tags: ['mlflow'], summary: 'Delete an artifact or a directory', params: pathParams, response: { 200: empty, ...mlflowErrors } } },
      async (req) => {
        await artifacts.remove(req.params['*']);
        return {};
      },
    );
    app.get(
      '/artifacts',
      {
        ...declare('tracking:read'),
        schema: {
          tags: ['mlflow'],
          summary: 'List a directory of artifacts',
          querystring: z.object({ path: z.string().optional() }),
          response: { 200: z.object({ files: z.array(fileInfo) }), ...mlflowErrors },
        },
      },
      async (req) => ({
        files: await artifacts.list(req.query.path ?? ''),
      }),
    );
  };
}

/** The MLflow API plugin: register it on the root app. */
export function mlflowPlugin(deps: MlflowDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(trackingApi(deps), { prefix: '/api/2.0/mlflow' });
    await app.register(trackingApi(deps), { prefix: '/ajax-api/2.0/mlflow' });
    await app.register(artifactProxy(deps), { prefix: '/api/2.0/mlflow-artifacts' });
    await app.register(artifactProxy(deps), { prefix: '/ajax-api/2.0/mlflow-artifacts' });
  };
}
