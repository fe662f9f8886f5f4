/**
 * What every route declares, in one place: its permission (a fixed, documented set), its body limit,
 * its request schema and a response schema for every status it returns (one shared error shape).
 *
 *   app.get('/api/v1/models/:name', {
 *     ...declare('models:read'),
 *     schema: { tags: ['registry'], params, response: { 200: modelView, ...errorResponses(404) } },
 *   }, handler)
 *
 * The server refuses to start when a route lacks a permission, a body limit or response schemas
 * (`assertDeclared` in an onRoute hook), and test/route-declarations.test.ts walks the route table.
 * Capability folders import this file (never `server/app`).
 */
import { z } from 'zod';

/**
 * The fixed set of permissions. `public` is reachable without credentials (health, liveness);
 * every other one is granted to roles by `server/roles.ts`.
 */
export const PERMISSIONS = {
  public: 'open to anyone who reaches the port (health and liveness only)',
  'system:read': 'service metadata: metrics, model-server info, OpenAPI',
  'models:read': 'read models, versions, aliases, history, specs and metrics',
  'models:write': 'register, promote, roll back, archive, tag models and versions',
  predict: 'send predictions (seed API, model-server API, Open Inference Protocol)',
  'predictions:read': 'read patient-level prediction rows (inputs, outputs, ground truth)',
  'monitoring:read': 'read drift, decay, health, alerts and monitoring reports',
  'monitoring:write': 'run checks, record ground truth and external predictions, handle alerts',
  'releases:write': 'create, stop and decide A/B tests, canaries, shadows and blue-green slots',
  'pipelines:read': 'read pipeline runs, retraining policies and jobs',
  'pipelines:run': 'start pipelines by name, training jobs, retraining policies',
  'tracking:read': 'read experiments, runs, metrics and artifacts',
  'tracking:write': 'create experiments and runs, log params, metrics and artifacts',
  'messaging:read': 'read bus status and outbox backlog',
  'messaging:publish': 'publish messages to the bus',
  'multimodal:process': 'process DICOM, NIfTI, raster images and clinical text (patient-level data)',
  'audit:read': 'read and export the audit trail',
  admin: 'manage API keys and everything else',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** Body limits. JSON bodies are capped at 1 MiB unless a route declares more. */
export const BODY_LIMITS = {
  none: 1024,
  json: 1024 * 1024,
  batch: 64 * 1024 * 1024,
  upload: 2 * 1024 * 1024 * 1024,
} as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** who may call this route; enforced by the auth hook */
    permission?: Permission;
  }
}

/** The route options every route spreads: its permission and its body limit. */
export function declare(permission: Permission, bodyLimit: number = BODY_LIMITS.json): { config: { permission: Permission }; bodyLimit: number } {
  return { config: { permission }, bodyLimit };
}

/** The one error shape every 4xx/5xx answers with (see server/error-handler.ts). */
export const errorBody = z
  .looseObject({
    error: z.string().describe('the HTTP reason phrase'),
    code: z.string().describe('a stable machine-readable code (errors.ts)'),
    message: z.string().describe('what went wrong and what to fix'),
    details: z.unknown().optional(),
    request_id: z.string().optional(),
  })
  .describe('Error');

/** `{ 404: errorBody, 422: errorBody }` for the given statuses; 422 (validation) is always included. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBody> {
  const out: Record<number, typeof errorBody> = { 422: errorBody };
  for (const s of statuses) out[s] = errorBody;
  return out;
}

/**
 * A response view: the listed fields are checked and documented, others pass through unchanged.
 * (Typed as a plain object so service types without index signatures satisfy it.)
 */
export function view<S extends z.ZodRawShape>(shape: S): z.ZodObject<S> {
  return z.looseObject(shape) as unknown as z.ZodObject<S>;
}

/** A JSON object whose fields are open-ended. */
export const anyObject = z.record(z.string(), z.unknown());

export interface RouteDeclarationProblem {
  method: string;
  url: string;
  problem: string;
}

/** What is missing from one route's declaration (empty when it is complete). */
export function declarationProblems(route: {
  method: string | string[];
  url: string;
  bodyLimit?: number;
  config?: { permission?: string };
  schema?: { response?: Record<string | number, unknown>; hide?: boolean };
}): RouteDeclarationProblem[] {
  const method = Array.isArray(route.method) ? route.method.join(',') : route.method;
  const problems: string[] = [];
  if (method === 'HEAD' || method === 'OPTIONS') return [];
  const permission = route.config?.permission;
  if (!permission) problems.push('no permission (spread declare(...) into the route options)');
  else if (!(permission in PERMISSIONS)) problems.push(`unknown permission "${permission}"`);
  if (typeof route.bodyLimit !== 'number') problems.push('no body limit');
  const response = route.schema?.response;
  if (!response) problems.push('no response schemas');
  else {
    const codes = Object.keys(response);
    if (!codes.some((c) => /^[23]/.test(c))) problems.push('no 2xx (or 3xx) response schema');
    if (!codes.some((c) => /^4/.test(c))) problems.push('no 4xx response schema');
  }
  return problems.map((problem) => ({ method, url: route.url, problem }));
}
