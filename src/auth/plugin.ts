/**
 * The auth capability over HTTP: the hook that enforces every route's declared permission, the
 * per-principal rate limit, `GET /api/v1/auth/me`, and key management for admins.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendError } from '../server/error-handler.js';
import { ROLES, actorOf, auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, PERMISSION_NAMES, type Permission, declare, errorResponses, view } from '../server/route-kit.js';
import type { ApiKeys } from './api-keys.js';
import { AuthFailure, type Authenticator, credentialsOf } from './authenticator.js';
import { ROLE_PERMISSIONS, allows } from './roles.js';

export interface AuthHookOptions {
  authenticator: Authenticator;
  /** /metrics needs system:read */
  metricsAuth: boolean;
  rateLimit: { perMinute: number; anonymousPerMinute: number; roles: Record<string, number> };
}

function permissionOf(req: { routeOptions?: { url?: string; config?: { permission?: Permission } } }, metricsAuth: boolean): Permission | undefined {
  const url = req.routeOptions?.url;
  if (url === undefined) return undefined; // no such route
  if (metricsAuth && url === '/metrics') return 'system:read';
  // a route that declares nothing is closed to all but admins (it should not exist: see route-kit)
  return req.routeOptions?.config?.permission ?? 'admin';
}

/** Installs authentication, authorisation and rate limiting on the root instance (before any route). */
export async function installAuth(app: FastifyInstance, options: AuthHookOptions): Promise<void> {
  const { authenticator } = options;
  app.addHook('onRequest', async (req, reply) => {
    const permission = permissionOf(req, options.metricsAuth);
    if (permission === undefined) return; // no such route: the 404/405 handler answers
    try {
      req.principal = await authenticator.authenticate(credentialsOf(req.headers));
    } catch (err) {
      // a public route (health) answers anonymously even when the key store, the database, is down
      if (permission === 'public') return;
      if (!(err instanceof AuthFailure)) throw err;
      reply.header('www-authenticate', 'Bearer realm="vitals"');
      return sendError(req, reply, 401, { code: 'UNAUTHORIZED', message: err.message });
    }
    if (permission === 'public') return;
    if (!req.principal) {
      reply.header('www-authenticate', 'Bearer realm="vitals"');
      return sendError(req, reply, 401, {
        code: 'UNAUTHORIZED',
        message: 'sign in: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>" (an admin makes one with `vitals keys create --name NAME --role ROLE`)',
      });
    }
    if (!allows(req.principal.role, permission)) {
      return sendError(req, reply, 403, { code: 'FORBIDDEN', message: `role ${req.principal.role} may not do this (needs ${permission}); ask an admin for a key with a role that has it` });
    }
  });

  const { perMinute, anonymousPerMinute, roles } = options.rateLimit;
  if (perMinute > 0 || anonymousPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      hook: 'preParsing', // after authentication, before a body is read
      timeWindow: 60_000,
      keyGenerator: (req) => (req.principal ? `principal:${req.principal.name}` : `ip:${req.ip}`),
      max: (req) => {
        if (!req.principal) return anonymousPerMinute || Number.MAX_SAFE_INTEGER;
        return roles[req.principal.role] ?? (perMinute || Number.MAX_SAFE_INTEGER);
      },
      // open routes stay reachable in a flood; the machine's own user (loopback, no keys) is not limited
      allowList: (req) => permissionOf(req, options.metricsAuth) === 'public' || req.principal?.method === 'local' || req.principal?.method === 'disabled',
      errorResponseBuilder: (req, context) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'RATE_LIMITED',
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: `more than ${context.max} requests a minute from ${req.principal ? `key ${req.principal.name}` : 'this address'}; retry in ${context.after}`,
        request_id: req.id,
      }),
    });
  }
}

const keyInfo = view({ name: z.string(), role: z.enum(ROLES), prefix: z.string(), created_by: z.string(), created_at: z.string(), revoked_at: z.string().nullable() }).describe('ApiKey');

export interface AuthRouteDeps {
  keys: Pick<ApiKeys, 'create' | 'list' | 'revoke'>;
}

export function authPlugin(deps: AuthRouteDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['auth'];
    app.get(
      '/api/v1/auth/me',
      {
        ...declare('public', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Who the credentials sent belong to, and what they may do (the dashboard shows only that)',
          response: {
            200: z.object({ principal: z.string(), role: z.enum(ROLES), method: z.enum(['local', 'api-key', 'oidc', 'disabled']), permissions: z.array(z.string()) }),
            ...errorResponses(401),
          },
        },
      },
      async (req, reply) => {
        const p = req.principal;
        if (!p)
          return sendError(req, reply.header('www-authenticate', 'Bearer realm="vitals"'), 401, { code: 'UNAUTHORIZED', message: 'not signed in: send an API key as "Authorization: Bearer <key>"' });
        return { principal: p.name, role: p.role, method: p.method, permissions: PERMISSION_NAMES.filter((perm) => ROLE_PERMISSIONS[p.role].has(perm)) };
      },
    );
    app.get(
      '/api/v1/keys',
      { ...declare('admin', BODY_LIMITS.none), schema: { tags, summary: 'API keys (never their secrets)', response: { 200: z.object({ keys: z.array(keyInfo) }), ...errorResponses() } } },
      async () => ({
        keys: await deps.keys.list(),
      }),
    );
    app.post(
      '/api/v1/keys',
      {
        ...declare('admin'),
        schema: {
          tags,
          summary: 'Create an API key; the key is in this response only',
          body: z.strictObject({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, 'letters, digits, . _ @ -; up to 100'), role: z.enum(ROLES) }),
          response: { 201: z.object({ key: z.string(), info: keyInfo }), ...errorResponses(409) },
        },
      },
      async (req, reply) => reply.code(201).send(await deps.keys.create(req.body.name, req.body.role, actorOf(req), auditContextOf(req))),
    );
    app.delete(
      '/api/v1/keys/:name',
      { ...declare('admin', BODY_LIMITS.none), schema: { tags, summary: 'Revoke an API key', params: z.object({ name: z.string() }), response: { 200: keyInfo, ...errorResponses(404) } } },
      async (req) => deps.keys.revoke(req.params.name, auditContextOf(req)),
    );
  };
}
