/** `GET /api/v1/audit`: the audit trail, filtered, in seq order, with a cursor for the next page. */
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BODY_LIMITS, declare, errorResponses, view } from '../server/route-kit.js';
import { listAudit } from './audit-trail.js';

export interface AuditRouteDeps {
  db: Kysely<any>;
}

const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'an ISO date or time, e.g. 2026-12-01 or 2026-12-01T08:00:00Z');
const auditEvent = view({
  seq: z.number(),
  id: z.string(),
  at: z.string(),
  principal: z.string(),
  role: z.string(),
  action: z.string(),
  target: z.string(),
  outcome: z.string(),
  reason: z.string().nullable(),
  request_id: z.string().nullable(),
  client: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
}).describe('AuditEvent');

export function auditPlugin(deps: AuditRouteDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/audit',
      {
        ...declare('audit:read', BODY_LIMITS.none),
        schema: {
          tags: ['audit'],
          summary: 'The audit trail: filter by time range, principal, action, target; page with `cursor` (the previous page’s next_cursor)',
          querystring: z.strictObject({
            from: time.optional(),
            to: time.optional(),
            principal: z.string().max(200).optional(),
            action: z.string().max(200).optional(),
            target: z.string().max(500).optional(),
            cursor: z.coerce.number().int().min(0).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          }),
          response: { 200: z.object({ events: z.array(auditEvent), next_cursor: z.number().nullable() }), ...errorResponses() },
        },
      },
      async (req) => {
        const q = req.query;
        const iso = (v?: string) => (v ? new Date(Date.parse(v)).toISOString() : undefined);
        const rows = await listAudit(deps.db, { from: iso(q.from), to: iso(q.to), principal: q.principal, action: q.action, target: q.target, after: q.cursor, limit: q.limit });
        return {
          events: rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> })),
          next_cursor: rows.length === q.limit ? rows[rows.length - 1]!.seq : null,
        };
      },
    );
  };
}
