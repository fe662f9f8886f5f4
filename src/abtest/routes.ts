/**
 * Release-test API: the seed's `/api/v1/mlops/ab-testing/…` endpoints, the champion/challenger
 * config form (`start`), evaluate / finalize / canary advance, and model-level blue-green under
 * `/api/v1/mlops/deployments/{model}/…`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { validationFailed } from '../errors.js';
import { actorOf, auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, anyObject, declare, errorResponses, view } from '../server/route-kit.js';
import type { AbTesting } from './ab-testing.js';
import type { BlueGreenDeployments } from './blue-green.js';
import { statusView } from './status-view.js';
import { DECISION_MODES, RELEASE_MODES, TEST_METRICS } from './types.js';

const configBody = z
  .object({
    min_samples: z.number().int().min(0).optional().describe('predictions per variant (labelled, for accuracy) before a promotion; default 1000'),
    min_duration_s: z.number().min(0).optional().describe('seconds the test runs at least before a promotion'),
    alpha: z.number().gt(0).lt(0.5).optional().describe('false-positive rate of each decision (default 0.05)'),
    power: z.number().gt(0).lt(1).optional(),
    mde: z.number().gt(0).lt(1).optional().describe('minimum effect worth detecting on the primary metric (absolute, default 0.02)'),
    canary_stages: z.array(z.number().gt(0).max(1)).min(1).max(20).optional().describe('canary ramp, e.g. [0.05, 0.25, 0.5, 1]'),
    canary_min_samples: z.number().int().min(0).optional(),
    canary_min_stage_s: z.number().min(0).optional(),
    latency_tolerance: z.number().min(0).optional().describe('p95 latency guardrail: relative margin (default 0.2 = 20 % worse)'),
    latency_min_diff_ms: z.number().min(0).optional().describe('p95 latency guardrail: absolute margin in ms (default 5)'),
    guardrail_min_samples: z.number().int().min(0).optional(),
  })
  .strict();

const commonOptions = {
  mode: z.enum(RELEASE_MODES).optional().describe('ab (fixed split), canary (ramp) or shadow (copy of traffic, never returned)'),
  metric: z.enum(TEST_METRICS).optional().describe('primary metric a promotion is decided on (default accuracy)'),
  decision_mode: z.enum(DECISION_MODES).optional().describe('auto: promote/roll back/advance by itself; recommend-only: say what to do'),
  hash_seed: z.string().min(1).max(256).optional().describe('GrowthBook seed (experiment key) for the user buckets; default the test id'),
  config: configBody.optional(),
};

const createBody = z.strictObject({
  test_name: z.string().min(1).max(256),
  control_model_id: z.string().min(1).optional().describe('control version: version id, name@1.2.0, name@alias, or the model name (its production version)'),
  treatment_model_id: z.string().min(1).describe('treatment version: version id, name@1.3.0, or a version string of the control model'),
  model: z.string().optional().describe('the model, when control_model_id is omitted'),
  traffic_split: z.number().gt(0).max(1).optional().describe("treatment's share of traffic (default 0.5; shadow: share of requests copied, default 1)"),
  ...commonOptions,
});

const championChallengerBody = z.strictObject({
  name: z.string().min(1).max(256),
  model_type: z.string().min(1).describe('the model name'),
  control_version: z.string().min(1),
  treatment_version: z.string().min(1),
  treatment_traffic_pct: z.number().gt(0).max(100),
  duration_days: z.number().min(0).default(0).describe('minimum duration before a promotion'),
  ...commonOptions,
});

const testParam = z.object({ test_id: z.string().describe('test id (or name)') });
const modelParam = z.object({ model: z.string() });

export interface AbTestRouteDeps {
  abTests: Pick<AbTesting, 'create' | 'startChampionChallenger' | 'list' | 'status' | 'events' | 'selectModel' | 'recordResult' | 'evaluate' | 'finalize' | 'stop' | 'advance'>;
  blueGreen: Pick<BlueGreenDeployments, 'state' | 'deploy' | 'healthCheck' | 'switchTraffic' | 'rollback'>;
}

const testView = view({ id: z.string(), name: z.string(), model_name: z.string(), mode: z.string(), status: z.string() }).describe('AbTest');
const slotsView = anyObject.describe('Blue-green slots of a model');
const read = declare('models:read', BODY_LIMITS.none);
const write = declare('releases:write');
const reasonField = z.string().trim().min(1).max(2000);

const bg = async (p: Promise<unknown>) => (await p) as Record<string, unknown>;

export function abTestPlugin(s: AbTestRouteDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['ab-testing'];
    const prefix = '/api/v1/mlops/ab-testing';

    app.post(
      `${prefix}/create`,
      {
        ...write,
        schema: {
          tags,
          body: createBody,
          summary: 'Create and start an A/B, canary or shadow test',
          response: { 200: view({ test_id: z.string(), message: z.string(), test: testView }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const b = req.body;
        const test = await s.abTests.create({
          name: b.test_name,
          control: b.control_model_id,
          treatment: b.treatment_model_id,
          model: b.model,
          mode: b.mode,
          traffic_split: b.traffic_split,
          metric: b.metric,
          decision_mode: b.decision_mode,
          hash_seed: b.hash_seed,
          config: b.config,
          actor: actorOf(req),
          audit: auditContextOf(req),
        });
        return { test_id: test.id, message: `${test.mode === 'ab' ? 'A/B' : test.mode} test created successfully`, test };
      },
    );

    app.post(
      `${prefix}/start`,
      {
        ...write,
        schema: {
          tags,
          body: championChallengerBody,
          summary: 'Start a champion/challenger test from the seed config (model_type, versions, traffic %, duration)',
          response: { 200: view({ test_id: z.string(), message: z.string(), test: testView }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const test = await s.abTests.startChampionChallenger({ ...req.body, actor: actorOf(req), audit: auditContextOf(req) });
        return { test_id: test.id, message: `A/B test started: ${test.name}`, test };
      },
    );

    app.get(
      prefix,
      {
        ...read,
        schema: {
          tags,
          querystring: z.object({ status: z.enum(['active', 'completed', 'stopped', 'all']).default('active'), model: z.string().optional() }),
          summary: 'List tests (active by default)',
          response: { 200: z.object({ tests: z.array(testView), count: z.number() }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const tests = await s.abTests.list({ status: req.query.status, model: req.query.model });
        return { tests, count: tests.length };
      },
    );

    app.get(
      `${prefix}/:test_id`,
      {
        ...read,
        schema: {
          tags,
          params: testParam,
          summary: 'Results: per-variant metrics, significance (fixed-horizon and always-valid), CI, sample sizes, sample-ratio check, decision',
          response: { 200: anyObject, ...errorResponses(404) },
        },
      },
      async (req) => {
        const { test, report, decision } = await s.abTests.status(req.params.test_id);
        return statusView(test, report, decision);
      },
    );

    app.get(
      `${prefix}/:test_id/events`,
      {
        ...read,
        schema: {
          tags,
          params: testParam,
          summary: 'Audit trail: created, recommendations, canary stages, promotion or rollback',
          response: { 200: z.object({ events: z.array(view({ id: z.string() })) }), ...errorResponses(404) },
        },
      },
      async (req) => ({
        events: await s.abTests.events(req.params.test_id),
      }),
    );

    app.post(
      `${prefix}/:test_id/select-model`,
      {
        ...declare('predict', BODY_LIMITS.none),
        schema: {
          tags,
          params: testParam,
          querystring: z.object({ user_id: z.string().optional() }),
          summary: 'Which version a user meets (consistent hashing: the same user, the same variant)',
          response: { 200: view({ model_id: z.string(), variant: z.string(), test_id: z.string() }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const { test, route } = await s.abTests.selectModel(req.params.test_id, req.query.user_id);
        return {
          model_id: route.versionId,
          variant: route.variant,
          test_id: test.id,
          model: test.model_name,
          model_version: route.variant === 'treatment' ? test.treatment_version : test.control_version,
          bucket: route.bucket,
          sticky: route.sticky,
        };
      },
    );

    app.post(
      `${prefix}/:test_id/record`,
      {
        ...declare('monitoring:write'),
        schema: {
          tags,
          params: testParam,
          response: { 200: view({ message: z.string() }), ...errorResponses(404, 409) },
          body: z.strictObject({
            variant: z.enum(['control', 'treatment']),
            prediction: z.union([z.string(), z.number()]).nullable().optional(),
            ground_truth: z.union([z.string(), z.number()]).nullable().optional(),
            metrics: z.record(z.string(), z.number()).optional().describe('confidence, latency_ms (or inference_time_ms), …'),
            error: z.string().nullable().optional().describe('error code when the prediction failed'),
            user_id: z.string().optional(),
          }),
          summary: 'Record a prediction made outside Vitals under the test (goes to the prediction log)',
        },
      },
      async (req) => ({ ...(await s.abTests.recordResult(req.params.test_id, req.body)), message: 'result recorded' }),
    );

    app.post(
      `${prefix}/:test_id/evaluate`,
      {
        ...declare('releases:write', BODY_LIMITS.none),
        schema: {
          tags,
          params: testParam,
          querystring: z.object({ apply: z.enum(['true', 'false']).optional().describe('carry the decision out (default: only in auto mode)') }),
          summary: 'Look at the test and decide: promote, rollback, advance (canary) or continue',
          response: { 200: view({ test_id: z.string(), applied: z.string().nullable(), status: z.string(), result: anyObject }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const apply = req.query.apply === undefined ? undefined : req.query.apply === 'true';
        const e = await s.abTests.evaluate(req.params.test_id, { apply, actor: req.principal ? actorOf(req) : undefined });
        return { test_id: e.test.id, ...e.decision, applied: e.applied, status: e.test.status, result: statusView(e.test, e.report, e.decision) as Record<string, unknown> };
      },
    );

    app.post(
      `${prefix}/:test_id/finalize`,
      {
        ...write,
        schema: {
          tags,
          params: testParam,
          body: z.strictObject({ action: z.enum(['promote', 'rollback']), reason: reasonField.describe('why: required, recorded in the history') }),
          summary: 'End the test: promote the treatment (registry, audited) or roll back (keep production), with a reason',
          response: { 200: z.object({ test: testView }), ...errorResponses(404, 409) },
        },
      },
      async (req) => ({ test: await s.abTests.finalize(req.params.test_id, req.body.action, { reason: req.body.reason, actor: actorOf(req), audit: auditContextOf(req) }) }),
    );

    app.post(
      `${prefix}/:test_id/stop`,
      {
        ...declare('releases:write', BODY_LIMITS.none),
        schema: {
          tags,
          params: testParam,
          querystring: z.object({ winner: z.enum(['treatment', 'control']).optional(), reason: z.string().optional() }),
          summary: 'Stop the test; winner=treatment promotes it (needs a reason), winner=control keeps production',
          response: { 200: view({ test_id: z.string(), status: z.string(), message: z.string(), test: testView }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        if (req.query.winner === 'treatment' && !req.query.reason?.trim())
          throw validationFailed([{ field: 'reason', message: 'stopping with the treatment as winner moves production: give a reason' }]);
        const test = await s.abTests.stop(req.params.test_id, { winner: req.query.winner, reason: req.query.reason, actor: actorOf(req), audit: auditContextOf(req) });
        return { test_id: test.id, status: test.status, winner: test.winner, message: `test stopped${test.winner ? `; winner: ${test.winner}` : ''}`, test };
      },
    );

    app.post(
      `${prefix}/:test_id/advance`,
      {
        ...write,
        schema: {
          tags,
          params: testParam,
          body: z.strictObject({ force: z.boolean().default(false), reason: z.string().optional() }).default({ force: false }),
          summary: 'Move a canary to its next stage (refused while a guardrail is breached unless force)',
          response: { 200: z.object({ test: testView }), ...errorResponses(404, 409) },
        },
      },
      async (req) => ({ test: await s.abTests.advance(req.params.test_id, { force: req.body.force, reason: req.body.reason, actor: actorOf(req) }) }),
    );

    // ---------- blue-green ----------
    const dtags = ['deployments'];
    const dprefix = '/api/v1/mlops/deployments/:model';
    const slotEnum = z.enum(['blue', 'green']);
    app.get(
      dprefix,
      {
        ...read,
        schema: {
          tags: dtags,
          params: modelParam,
          summary: 'Blue and green slots of a model: which version each holds, which is live, last health check',
          response: { 200: slotsView, ...errorResponses(404) },
        },
      },
      async (req) => (await s.blueGreen.state(req.params.model)) as unknown as Record<string, unknown>,
    );
    app.post(
      `${dprefix}/deploy`,
      {
        ...write,
        schema: {
          tags: dtags,
          params: modelParam,
          body: z.strictObject({ version: z.string().min(1) }),
          summary: 'Deploy a version to the idle slot and health-check it (traffic does not move)',
          response: { 200: slotsView, ...errorResponses(404, 409) },
        },
      },
      async (req) => bg(s.blueGreen.deploy(req.params.model, req.body.version, { actor: actorOf(req) })),
    );
    app.post(
      `${dprefix}/health-check`,
      {
        ...write,
        schema: {
          tags: dtags,
          params: modelParam,
          body: z.strictObject({ slot: slotEnum.optional(), environment: slotEnum.optional().describe("the seed's name for slot") }).default({}),
          summary: 'Load the slot version and run it once on a probe input',
          response: { 200: slotsView, ...errorResponses(404, 409) },
        },
      },
      async (req) => bg(s.blueGreen.healthCheck(req.params.model, req.body.slot ?? req.body.environment, { actor: actorOf(req) })),
    );
    app.post(
      `${dprefix}/switch-traffic`,
      {
        ...write,
        schema: {
          tags: dtags,
          params: modelParam,
          body: z.strictObject({ to: slotEnum.optional(), to_env: slotEnum.optional(), from_env: slotEnum.optional(), reason: reasonField.describe('why production moves: required') }),
          summary: 'Health-check the idle slot, then move production to it, with a reason',
          response: { 200: slotsView, ...errorResponses(404, 409) },
        },
      },
      async (req) => bg(s.blueGreen.switchTraffic(req.params.model, { to: req.body.to ?? req.body.to_env, reason: req.body.reason, actor: actorOf(req) })),
    );
    app.post(
      `${dprefix}/rollback`,
      {
        ...write,
        schema: {
          tags: dtags,
          params: modelParam,
          body: z.strictObject({ reason: reasonField }),
          summary: 'Move production back to the other slot, with a reason',
          response: { 200: slotsView, ...errorResponses(404, 409) },
        },
      },
      async (req) => bg(s.blueGreen.rollback(req.params.model, { reason: req.body.reason, actor: actorOf(req) })),
    );
  };
}
