/**
 * `/api/v1/dashboard/…`: one aggregate per page of the web app, each declared with its permission
 * and response schema; plus the web app itself (static files built by Vite into dist/web) at `/`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError } from '../errors.js';
import { BODY_LIMITS, declare, errorResponses } from '../server/route-kit.js';
import { DashboardQueries, type DashboardQueryDeps, WINDOWS } from './dashboard-queries.js';
import { inputFormView, alertsView, experimentRunsView, modelPageView, overviewView, pipelineRunsView } from './views.js';

/** Where `npm run build` puts the web app: <package root>/dist/web (this file runs from src/ or dist/). */
export const DEFAULT_WEB_ROOT = resolve(fileURLToPath(new URL('../../dist/web', import.meta.url)));

export interface DashboardDeps extends DashboardQueryDeps {
  /** the built web app (index.html + assets/); DEFAULT_WEB_ROOT when omitted */
  webRoot?: string;
}

const tags = ['dashboard'];
const paging = { limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).max(1_000_000).default(0) };
const fileResponse = z.unknown().describe('a file of the web app');

export function dashboardPlugin(deps: DashboardDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const queries = new DashboardQueries(deps);

    app.get(
      '/api/v1/dashboard/overview',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'One row per model: versions, traffic, latency, errors, drift, accuracy, health, alerts, last production change',
          response: { 200: overviewView, ...errorResponses() },
        },
      },
      async () => queries.overview(),
    );

    app.get(
      '/api/v1/dashboard/models/:name',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'A model page: versions, alias history, traffic by version, drift per feature over time, release tests',
          params: z.object({ name: z.string().min(1).max(256) }),
          querystring: z.object({ window: z.enum(Object.keys(WINDOWS) as ['hour', 'day', 'week']).default('day') }),
          response: { 200: modelPageView, ...errorResponses(404) },
        },
      },
      async (req) => queries.modelPage(req.params.name, req.query.window),
    );

    app.get(
      '/api/v1/dashboard/models/:name/input-form',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'The predict form of a model: its production input spec with training-data ranges and categories as hints',
          params: z.object({ name: z.string().min(1).max(256) }),
          response: { 200: inputFormView, ...errorResponses(404) },
        },
      },
      async (req) => queries.inputForm(req.params.name),
    );

    app.get(
      '/api/v1/dashboard/alerts',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Alerts, newest first, by status, severity and model (paginated)',
          querystring: z.object({ status: z.enum(['firing', 'resolved']).optional(), severity: z.enum(['critical', 'warning', 'info']).optional(), model: z.string().max(256).optional(), ...paging }),
          response: { 200: alertsView, ...errorResponses(404) },
        },
      },
      async (req) => queries.alerts(req.query),
    );

    app.get(
      '/api/v1/dashboard/pipeline-runs',
      {
        ...declare('pipelines:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Pipeline runs, newest first, with each stage’s status, duration and last log lines (paginated)',
          querystring: z.object({ pipeline: z.string().max(256).optional(), status: z.string().max(32).optional(), model: z.string().max(256).optional(), ...paging }),
          response: { 200: pipelineRunsView, ...errorResponses() },
        },
      },
      async (req) => queries.pipelineRuns(req.query),
    );

    app.get(
      '/api/v1/dashboard/experiment-runs',
      {
        ...declare('tracking:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Experiment runs: filter by experiment, status and name; sort by time, name, status or any metric (paginated)',
          querystring: z.object({
            experiment: z.string().max(256).optional(),
            status: z.string().max(32).optional(),
            q: z.string().max(256).optional().describe('part of the run name'),
            sort: z
              .string()
              .regex(/^(started_at|name|status|metric:[\w.\-/]{1,128})$/, 'sort by started_at, name, status or metric:<key>')
              .default('started_at') as z.ZodType<'started_at' | 'name' | 'status' | `metric:${string}`>,
            order: z.enum(['asc', 'desc']).default('desc'),
            ...paging,
          }),
          response: { 200: experimentRunsView, ...errorResponses() },
        },
      },
      async (req) => queries.experimentRuns(req.query),
    );

    // ----- the web app -----
    const root = deps.webRoot ?? DEFAULT_WEB_ROOT;
    await app.register(fastifyStatic, { root, serve: false });
    const missing = () => new VitalsError('NOT_FOUND', `the dashboard is not built (no ${root}/index.html): run "npm run build", which builds the API and the web app`);

    app.get('/', { ...declare('public', BODY_LIMITS.none), schema: { hide: true, response: { 200: fileResponse, ...errorResponses(404) } } }, async (_req, reply) => {
      if (!existsSync(resolve(root, 'index.html'))) throw missing();
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html', { cacheControl: false });
    });
    app.get(
      '/assets/:file',
      {
        ...declare('public', BODY_LIMITS.none),
        schema: { hide: true, params: z.object({ file: z.string().regex(/^[\w.-]+$/, 'an asset file name') }), response: { 200: fileResponse, ...errorResponses(404) } },
      },
      async (req, reply) => {
        const file = req.params.file;
        if (file.startsWith('.') || !existsSync(resolve(root, 'assets', file))) throw new VitalsError('NOT_FOUND', `no asset ${file}`);
        // Vite names assets by content hash: they never change under one name.
        return reply.header('cache-control', 'public, max-age=31536000, immutable').sendFile(`assets/${file}`, { cacheControl: false });
      },
    );
  };
}
