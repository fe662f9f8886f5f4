/**
 * The seed's CI/CD and retraining endpoints (`/api/v1/mlops/cicd/…`, `/api/v1/mlops/retraining/…`),
 * built-in training (`/api/v1/train`), and pipeline runs, their stages and diffs under `/api/v1/pipelines/…`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError } from '../errors.js';
import type { DataDir } from '../files/data-dir.js';
import { ALIASES } from '../registry/index.js';
import { actorOf, auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, anyObject, declare, errorResponses, view } from '../server/route-kit.js';
import { cicdRequestSchema } from './cicd-request.js';
import type { Pipelines } from './pipelines.js';
import { RETRAIN_TRIGGERS, retrainingPolicySchema } from './retraining.js';
import { accepted, acceptedRunView, checkNetworkCicdRequest, requireCsv, runView } from './routes.js';

export interface PipelinesRouteDeps {
  pipelines: Pick<Pipelines, 'submitCicd' | 'submitNamed' | 'submitTraining' | 'namedPipelines' | 'runs' | 'retraining' | 'diff' | 'queue'>;
  dataDir: Pick<DataDir, 'resolve' | 'readText'>;
}

const trainBody = z.strictObject({
  model_name: z.string().min(1),
  target: z.string().min(1).describe('the CSV column to predict'),
  algo: z.enum(['logreg', 'rf']).default('rf'),
  csv: z.string().optional().describe('the training data as CSV text'),
  data_path: z.string().optional().describe('or a CSV file inside DATA_DIR'),
  version: z.string().optional(),
  aliases: z.array(z.enum(ALIASES)).optional(),
  seed: z.number().int().optional(),
  test_fraction: z.number().min(0.05).max(0.5).optional(),
  params: z.record(z.string(), z.number()).optional().describe('rf: n_estimators, max_depth, min_samples_leaf; logreg: l2, epochs'),
});

const limitQuery = z.coerce.number().int().min(1).max(1000).default(50);

export function pipelinesPlugin(deps: PipelinesRouteDeps): FastifyPluginAsync {
  const { pipelines: p, dataDir } = deps;
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['pipelines'];
    const read = declare('pipelines:read', BODY_LIMITS.none);
    const run = declare('pipelines:run');

    app.post(
      '/api/v1/train',
      {
        ...declare('pipelines:run', 32 * 1024 * 1024),
        schema: {
          tags: ['training'],
          summary: 'Queue the training of a logistic regression or random forest on a CSV; the run registers it',
          body: trainBody,
          response: { 202: acceptedRunView, ...errorResponses(403, 404, 413) },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const csv = requireCsv(b.csv ?? (b.data_path ? await dataDir.readText(b.data_path, 'data_path') : undefined));
        const queued = await p.submitTraining({
          csv,
          target: b.target,
          algo: b.algo,
          modelName: b.model_name,
          version: b.version,
          aliases: b.aliases,
          seed: b.seed,
          testFraction: b.test_fraction,
          params: b.params,
          dataSource: b.data_path ? await dataDir.resolve(b.data_path, 'data_path') : undefined,
          actor: actorOf(req),
          audit: auditContextOf(req),
        });
        return reply.code(202).send(accepted(queued));
      },
    );

    app.post(
      '/api/v1/mlops/cicd/run-pipeline',
      {
        ...run,
        schema: {
          tags,
          summary: 'Queue a CI/CD run (data collection → validation → training → model validation → testing → A/B → deployment → monitoring setup), or a named pipeline of PIPELINES_DIR',
          body: cicdRequestSchema
            .extend({ pipeline: z.string().optional().describe('the name of a pipeline in PIPELINES_DIR (model_name is then a label)') })
            .partial({ model_name: true })
            .strict(),
          response: { 202: acceptedRunView, ...errorResponses(403, 404) },
        },
      },
      async (req, reply) => {
        const { pipeline, ...body } = req.body;
        if (pipeline) return reply.code(202).send(accepted(await p.submitNamed(pipeline, { actor: actorOf(req), audit: auditContextOf(req) })));
        if (!body.model_name) throw new VitalsError('VALIDATION_FAILED', 'model_name is required (or pipeline: the name of a pipeline in PIPELINES_DIR)');
        const checked = await checkNetworkCicdRequest(body, dataDir);
        const queued = await p.submitCicd(checked, { trigger: 'api', actor: actorOf(req), audit: auditContextOf(req) });
        return reply.code(202).send(accepted(queued!));
      },
    );

    app.get(
      '/api/v1/pipelines',
      { ...read, schema: { tags, summary: 'The named pipelines of PIPELINES_DIR that the API can start', response: { 200: z.object({ pipelines: z.array(z.string()) }), ...errorResponses() } } },
      async () => ({ pipelines: p.namedPipelines() }),
    );

    app.get(
      '/api/v1/mlops/cicd/pipeline-history',
      {
        ...read,
        schema: {
          tags,
          summary: 'Pipeline runs, newest first, with every stage',
          querystring: z.object({ model_id: z.string().optional(), limit: limitQuery }),
          response: { 200: z.object({ runs: z.array(runView), total: z.number() }), ...errorResponses() },
        },
      },
      async (req) => {
        const runs = await p.runs.list({ model: req.query.model_id, limit: req.query.limit });
        return { runs, total: runs.length };
      },
    );

    app.get(
      '/api/v1/mlops/cicd/check-retrain/:model_id',
      {
        ...read,
        schema: {
          tags,
          summary: 'Would Vitals retrain this model now, and why',
          params: z.object({ model_id: z.string() }),
          response: { 200: view({ model: z.string(), should_retrain: z.boolean(), reasons: z.array(z.string()) }), ...errorResponses(404) },
        },
      },
      async (req) => p.retraining.check(req.params.model_id),
    );

    app.get(
      '/api/v1/pipelines/runs/:run_id',
      {
        ...read,
        schema: { tags, summary: 'One run: status, stages (logs, durations, artefacts), result', params: z.object({ run_id: z.string() }), response: { 200: runView, ...errorResponses(404) } },
      },
      async (req) => p.runs.get(req.params.run_id),
    );
    app.get(
      '/api/v1/pipelines/diff',
      {
        ...read,
        schema: {
          tags,
          summary: 'params diff and metrics diff between two runs',
          querystring: z.object({ a: z.string(), b: z.string(), all: z.enum(['true', 'false']).default('false') }),
          response: { 200: view({ a: z.string(), b: z.string(), params: z.unknown(), metrics: z.unknown() }), ...errorResponses(404) },
        },
      },
      async (req) => p.diff(req.query.a, req.query.b, { all: req.query.all === 'true' }),
    );
    app.get(
      '/api/v1/pipelines/jobs',
      {
        ...read,
        schema: {
          tags,
          summary: 'The job queue',
          querystring: z.object({ status: z.enum(['queued', 'running', 'done', 'failed']).optional() }),
          response: { 200: z.object({ jobs: z.array(view({ id: z.string(), kind: z.string(), status: z.string() })) }), ...errorResponses() },
        },
      },
      async (req) => {
        const jobs = await p.queue.list({ status: req.query.status });
        // a job's payload may carry training data: the queue view shows what it is, not what it holds
        return { jobs: jobs.map(({ payload: _payload, ...job }) => job) };
      },
    );

    const modelBody = z.object({ model_id: z.string().min(1) });
    const policyView = view({ model: z.string(), enabled: z.boolean() });
    app.post(
      '/api/v1/mlops/retraining/start',
      {
        ...run,
        schema: {
          tags,
          summary: 'Enable automated retraining of a model (drift, decay, schedule, manual)',
          body: modelBody.extend(retrainingPolicySchema.shape).partial({ triggers: true, pipeline: true }),
          response: { 200: policyView, ...errorResponses(403, 404) },
        },
      },
      async (req) => {
        const { model_id, ...policy } = req.body;
        const pipeline = policy.pipeline ? await checkNetworkCicdRequest(policy.pipeline, dataDir, 'pipeline.') : undefined;
        return p.retraining.start(model_id, { ...policy, ...(pipeline ? { pipeline } : {}) }, { audit: auditContextOf(req) });
      },
    );
    app.post(
      '/api/v1/mlops/retraining/stop',
      { ...run, schema: { tags, summary: 'Disable automated retraining of a model', body: modelBody, response: { 200: policyView, ...errorResponses(404) } } },
      async (req) => p.retraining.stop(req.body.model_id, { audit: auditContextOf(req) }),
    );
    app.delete(
      '/api/v1/mlops/retraining/policies/:model_id',
      {
        ...declare('pipelines:run', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Delete the retraining policy of a model (stop keeps it, disabled)',
          params: z.object({ model_id: z.string().min(1) }),
          response: { 200: z.object({ model: z.string(), deleted: z.literal(true) }), ...errorResponses(404) },
        },
      },
      async (req) => p.retraining.deletePolicy(req.params.model_id, { audit: auditContextOf(req) }),
    );
    app.post(
      '/api/v1/mlops/retraining/trigger',
      {
        ...run,
        schema: {
          tags,
          summary: 'Start a retraining run now (debounced: an incident key already used returns its run)',
          body: modelBody.extend({ trigger: z.enum(RETRAIN_TRIGGERS).default('manual'), reason: z.string().optional(), incident_key: z.string().optional(), pipeline: anyObject.optional() }),
          response: {
            200: view({ run_id: z.string(), status: z.string(), debounced: z.boolean(), reason: z.string(), run: runView }),
            202: view({ run_id: z.string(), status: z.string(), debounced: z.boolean(), reason: z.string(), run: runView }),
            ...errorResponses(403, 404, 409),
          },
        },
      },
      async (req, reply) => {
        const overrides = req.body.pipeline ? await checkNetworkCicdRequest(req.body.pipeline as { training?: { cmd?: string }; data?: { path?: string } }, dataDir, 'pipeline.') : undefined;
        const r = await p.retraining.trigger(req.body.model_id, req.body.trigger, {
          reason: req.body.reason,
          incidentKey: req.body.incident_key,
          actor: actorOf(req),
          audit: auditContextOf(req),
          overrides,
        });
        return reply.code(r.debounced ? 200 : 202).send({ run_id: r.run.id, status: r.run.status, debounced: r.debounced, reason: r.reason, run: r.run });
      },
    );
    app.get(
      '/api/v1/mlops/retraining/history',
      {
        ...read,
        schema: {
          tags,
          summary: 'Retraining runs with trigger, data, result, new version and decision',
          querystring: z.object({ model_id: z.string().optional(), limit: limitQuery }),
          response: { 200: z.object({ history: z.array(view({ run_id: z.string(), model: z.string().nullable(), trigger: z.string(), status: z.string() })) }), ...errorResponses() },
        },
      },
      async (req) => {
        const runs = await p.retraining.history({ model: req.query.model_id, limit: req.query.limit });
        return {
          history: runs.map((r) => ({
            run_id: r.id,
            model: r.model_name,
            trigger: r.trigger,
            trigger_reason: r.result.trigger_reason ?? null,
            status: r.status,
            decision: r.result.decision ?? null,
            reason: r.result.reason ?? null,
            data_rows: r.result.data_rows ?? null,
            data_sha256: r.result.data_sha256 ?? null,
            previous_version: r.result.previous_production_version ?? null,
            new_version: r.result.new_version ?? null,
            ab_test_id: r.result.ab_test_id ?? null,
            validation: r.result.validation ?? null,
            created_at: r.created_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
          })),
        };
      },
    );
    app.get(
      '/api/v1/mlops/retraining/stats',
      { ...read, schema: { tags, summary: 'Retraining runs summarised', querystring: z.object({ model_id: z.string().optional() }), response: { 200: anyObject, ...errorResponses() } } },
      async (req) => (await p.retraining.stats(req.query.model_id)) as Record<string, unknown>,
    );
  };
}
