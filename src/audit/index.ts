export {
  AuditTrail,
  type AccessRecorder,
  accessRecorder,
  type AuditContext,
  type AuditEntry,
  type AuditRecorder,
  type AuditRow,
  type AuditQuery,
  type VerifyResult,
  canonicalJson,
  listAudit,
  rowHash,
  verifyChain,
} from './audit-trail.js';
export { auditMigrations } from './migrations.js';
export type { AuditSchema, AuditEventsTable } from './tables.js';
export { auditPlugin, type AuditRouteDeps } from './routes.js';
