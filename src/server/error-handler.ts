/**
 * Maps every error to one response shape: `{ error, code, message, details? }`.
 * VitalsError carries its own status; request-schema failures become 422 naming each field;
 * anything unexpected is a logged 500 whose message leaks no internals.
 */
import type { FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { STATUS_CODES } from 'node:http';
import { VitalsError } from '../errors.js';
import type { Metrics } from '../metrics.js';

export function installErrorHandler(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((err, req, reply) => {
    let status = 500;
    let body: Record<string, unknown>;
    if (err instanceof VitalsError) {
      status = err.statusCode;
      body = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
      // Back-pressure and shutdown (503s) say when to come back.
      if (typeof err.details?.retry_after_seconds === 'number') reply.header('retry-after', String(Math.ceil(err.details.retry_after_seconds)));
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 422;
      const fields = err.validation.map((v) => ({
        field: [err.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message ?? 'is invalid',
      }));
      body = { code: 'VALIDATION_FAILED', message: `request failed validation: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, details: { fields } };
    } else {
      const e = err as { statusCode?: number; code?: string; message?: string };
      if (e.code === 'FST_REQ_FILE_TOO_LARGE' || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        status = 413;
        body = { code: 'PAYLOAD_TOO_LARGE', message: `${e.message}; the limit is set by MAX_IMAGE_SIZE_MB` };
      } else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        status = e.statusCode;
        body = { code: e.code ?? 'BAD_REQUEST', message: e.message ?? 'bad request' };
      } else {
        req.log.error({ err }, 'unhandled error');
        body = { code: 'INTERNAL', message: 'internal error; see the server log for this request id' };
      }
    }
    metrics.errors.inc({ route: req.routeOptions?.url ?? 'unmatched', code: String(body.code) });
    return reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', ...body, request_id: req.id });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'Not Found', code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}; see /docs for the API`, request_id: req.id }),
  );
}
