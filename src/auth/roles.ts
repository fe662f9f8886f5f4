/**
 * What each role may do. Roles are fixed and documented (docs/security.md); every route names one
 * permission (server/route-kit.ts) and the auth hook checks it against the caller's role.
 */
import type { Permission } from '../server/route-kit.js';
import { PERMISSION_NAMES } from '../server/route-kit.js';
import type { Role } from '../server/principal.js';

const READ: Permission[] = ['system:read', 'models:read', 'monitoring:read', 'pipelines:read', 'tracking:read', 'messaging:read'];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  /** read models, metrics, monitoring; no patient-level data */
  viewer: new Set<Permission>(['public', ...READ]),
  /** predict only: what a client application gets */
  predictor: new Set<Permission>(['public', 'predict']),
  /** run the release process: register, promote, roll back, archive, releases, alerts, pipelines by name, predictions */
  operator: new Set<Permission>([
    'public',
    ...READ,
    'predict',
    'predictions:read',
    'models:write',
    'monitoring:write',
    'releases:write',
    'pipelines:run',
    'tracking:write',
    'messaging:publish',
    'multimodal:process',
  ]),
  /** read the audit trail and predictions */
  auditor: new Set<Permission>(['public', ...READ, 'predictions:read', 'audit:read']),
  /** everything, keys included */
  admin: new Set<Permission>(PERMISSION_NAMES),
};

export function allows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/** The strongest role among those a token names (for OIDC role claims). */
export function strongestRole(names: string[]): Role | undefined {
  const order: Role[] = ['admin', 'operator', 'auditor', 'viewer', 'predictor'];
  return order.find((r) => names.includes(r));
}
