export * from './api-keys.js';
export * from './authenticator.js';
export * from './roles.js';
export { authMigrations } from './migrations.js';
export type { AuthSchema, ApiKeysTable } from './tables.js';
export { authPlugin, installAuth, type AuthHookOptions, type AuthRouteDeps } from './plugin.js';
