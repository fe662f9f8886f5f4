/**
 * Maps every error to one response shape: `{ error, code, message, details?, request_id }`.
 * VitalsError carries its own status; request-schema failures become 422 naming each field; a
 * database unique violation is a 409; body-parser failures say what to send; anything unexpected is a
 * logged 500 whose message leaks no internals.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { STATUS_CODES } from 'node:http';
import { VitalsError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { isUniqueViolation } from '../store/index.js';

interface Mapped {
  status: number;
  body: { code: string; message: string; details?: unknown };
}


function mapError(err: unknown, options: { maxImageMb: number }): Mapped | undefined {
  if (err instanceof VitalsError) {
    return { status: err.statusCode, body: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const fields = err.validation.map((v) => ({
      field: [err.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'is invalid',
    }));
    return { status: 422, body: { code: 'VALIDATION_FAILED', message: `request failed validation: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, details: { fields } } };
  }
  if (isUniqueViolation(err)) return { status: 409, body: { code: 'CONFLICT', message: 'that already exists (another request made it first); fetch it, or choose another name or version' } };
  const e = err as { statusCode?: number; code?: string; message?: string };
  const message = e.message ?? '';
  if (e.code === 'FST_REQ_FILE_TOO_LARGE' || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.code === 'FST_FILES_LIMIT' || e.code === 'FST_PARTS_LIMIT') {
    return { status: 413, body: { code: 'PAYLOAD_TOO_LARGE', message: `${message}; images may be up to MAX_IMAGE_SIZE_MB=${options.maxImageMb} MB, JSON bodies up to 1 MB unless the route says more (see /docs)` } };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE', message: `${message}: send Content-Type: application/json (or multipart/form-data for uploads)` } };
  }
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e.statusCode === 400 && /JSON/.test(message))) {
    return { status: 400, body: { code: 'BAD_REQUEST', message: `${message}: the body must be valid JSON (Content-Type: application/json)` } };
  }
  // busboy/@fastify/multipart: a malformed multipart body (no boundary, broken part headers)
  if (/^(Multipart|Malformed part header|Unexpected end of (form|multipart data)|Boundary not found)/i.test(message) || e.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return { status: 400, body: { code: 'BAD_REQUEST', message: `cannot read the multipart body (${message}); send multipart/form-data with a boundary, e.g. curl -F file=@image.png` } };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { code: e.code ?? 'BAD_REQUEST', message: message || 'bad request' } };
  }
  return undefined;
}

export function installErrorHandler(app: FastifyInstance, metrics: Metrics, options: { maxImageMb: number; notRouted?: NotRouted }): void {
  const notRouted = options.notRouted;
  app.setErrorHandler((err, req, reply) => {
    // an unknown method with a body (QUERY, …) fails content-type checks before routing: it is a 404/405
    if (!req.routeOptions?.url && notRouted && (err as { code?: string }).code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE') return notRouted(req, reply);
    let mapped = mapError(err, options);
    if (!mapped) {
      req.log.error({ err }, 'unhandled error');
      mapped = { status: 500, body: { code: 'INTERNAL', message: 'internal error; see the server log for this request id' } };
    }
    // back-pressure and shutdown (503s) say when to come back
    const retryAfter = err instanceof VitalsError ? err.details?.retry_after_seconds : undefined;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(Math.ceil(retryAfter)));
    metrics.errors.inc({ route: req.routeOptions?.url ?? 'unmatched', code: String(mapped.body.code) });
    return sendError(req, reply, mapped.status, mapped.body);
  });
}

/** MLflow's names for the codes a hook answers with before a route runs (its clients read error_code). */
const MLFLOW_CODES: Record<string, string> = { UNAUTHORIZED: 'UNAUTHENTICATED', FORBIDDEN: 'PERMISSION_DENIED', RATE_LIMITED: 'REQUEST_LIMIT_EXCEEDED', PAYLOAD_TOO_LARGE: 'INVALID_PARAMETER_VALUE' };

export function sendError(req: FastifyRequest, reply: FastifyReply, status: number, body: Mapped['body']) {
  // error_code as well: the MLflow API's routes declare that shape, and one body serves both
  return reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', ...body, error_code: MLFLOW_CODES[body.code] ?? body.code, request_id: req.id });
}

/**
 * The methods each route pattern answers, collected as routes register, matched against a decoded
 * path. Like the router, the most specific pattern wins (fewest parameters), so /tests/create does
 * not borrow the methods of /tests/:id.
 */
export class RouteMethods {
  private readonly byUrl = new Map<string, { re: RegExp; params: number; methods: Set<string> }>();

  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (route) => {
      let entry = this.byUrl.get(route.url);
      if (!entry) {
        const re = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*|\*/g, '.*').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`);
        entry = { re, params: (route.url.match(/:|\*/g) ?? []).length, methods: new Set() };
        this.byUrl.set(route.url, entry);
      }
      for (const m of Array.isArray(route.method) ? route.method : [route.method]) entry.methods.add(m);
    });
  }

  /** The request's path, decoded, with doubled slashes folded as the router folds them. */
  static pathOf(req: FastifyRequest): string {
    const path = req.url.split('?')[0] ?? '/';
    try {
      return decodeURIComponent(path).replace(/\/{2,}/g, '/');
    } catch {
      return path;
    }
  }

  /** The methods a path answers, sorted; empty when no route has it. */
  allowed(path: string): string[] {
    const matches = [...this.byUrl.values()].filter((p) => p.re.test(path));
    const fewest = Math.min(...matches.map((m) => m.params));
    return [...new Set(matches.filter((m) => m.params === fewest).flatMap((m) => [...m.methods]))].sort();
  }
}

/** Unknown paths answer 404; a known path asked with the wrong method answers 405 with `Allow`. */
export function installMethodNotAllowed(app: FastifyInstance, methods: RouteMethods): NotRouted {
  const answer = (req: FastifyRequest, reply: FastifyReply) => {
    const path = RouteMethods.pathOf(req);
    const allowed = methods.allowed(path);
    if (allowed.length) {
      return sendError(req, reply.header('allow', allowed.join(', ')), 405, { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}` });
    }
    return sendError(req, reply, 404, { code: 'NOT_FOUND', message: `no route ${req.method} ${path}; see /docs for the API` });
  };
  app.setNotFoundHandler(answer);
  return answer;
}

export type NotRouted = (req: FastifyRequest, reply: FastifyReply) => unknown;
