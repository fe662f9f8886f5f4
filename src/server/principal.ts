/**
 * Who is calling. The auth hook (server/auth.ts) sets `req.principal` from the credentials; routes read
 * the actor of a change only through `actorOf`, never from a header or a body field.
 */
import type { FastifyRequest } from 'fastify';

export const ROLES = ['viewer', 'predictor', 'operator', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** the key's name, the OIDC subject, or `local-admin` on loopback with no keys configured */
  name: string;
  role: Role;
  method: 'local' | 'api-key' | 'oidc' | 'disabled';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The actor recorded for a change made by this request. */
export function actorOf(req: FastifyRequest): string {
  return req.principal?.name ?? 'anonymous';
}

/** The audit context of this request: the authenticated principal, its role, the request id and client address. */
export function auditContextOf(req: FastifyRequest): { principal: string; role: string; request_id: string; client: string } {
  return { principal: actorOf(req), role: req.principal?.role ?? 'anonymous', request_id: String(req.id), client: req.ip };
}
