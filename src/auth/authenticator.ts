/**
 * Who is calling, from the request's credentials only: `Authorization: Bearer <key or JWT>` or
 * `X-API-Key`. On a loopback bind with no credentials configured, the local user is the admin (the
 * quickstart needs no key); AUTH_DISABLED makes everyone admin. Nothing else (no header, no body
 * field) names an identity.
 */
import type { JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Principal } from '../server/principal.js';
import type { ApiKeys } from './api-keys.js';
import { strongestRole } from './roles.js';

export interface OidcSettings {
  jwksUrl: string;
  issuer?: string;
  audience?: string;
  rolesClaim: string;
}

export interface AuthenticatorOptions {
  keys: Pick<ApiKeys, 'verify' | 'activeCount'>;
  /** API_KEY from the environment: an admin key named env-api-key */
  envKey?: string;
  oidc?: OidcSettings;
  disabled: boolean;
  /** the server is bound to a loopback address */
  loopback: boolean;
}

export type Credentials = { kind: 'none' } | { kind: 'token'; token: string };

export class AuthFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthFailure';
  }
}

export const LOCAL_ADMIN: Principal = { name: 'local-admin', role: 'admin', method: 'local' };
const DISABLED: Principal = { name: 'anonymous-admin', role: 'admin', method: 'disabled' };

export function credentialsOf(headers: Record<string, string | string[] | undefined>): Credentials {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return { kind: 'token', token: apiKey.trim() };
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return { kind: 'token', token: m[1]! };
    throw new AuthFailure('the Authorization header must be "Bearer <key>"');
  }
  return { kind: 'none' };
}

export class Authenticator {
  /** jose, imported only where OIDC is configured (it is not needed for API keys) */
  private readonly jose?: Promise<{ jwks: JWTVerifyGetKey; jwtVerify: typeof jwtVerify }>;
  private keysConfigured?: { value: boolean; at: number };

  constructor(private readonly options: AuthenticatorOptions) {
    if (options.oidc) {
      const url = new URL(options.oidc.jwksUrl);
      this.jose = import('jose').then((j) => ({ jwks: j.createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000 }), jwtVerify: j.jwtVerify }));
    }
  }

  /** true when some credential can sign in: then nobody is admin by being local */
  async credentialsConfigured(): Promise<boolean> {
    if (this.options.envKey || this.options.oidc) return true;
    const cached = this.keysConfigured;
    if (cached && Date.now() - cached.at < 2000) return cached.value;
    const value = (await this.options.keys.activeCount()) > 0;
    this.keysConfigured = { value, at: Date.now() };
    return value;
  }

  /** The principal, undefined for an anonymous caller; throws AuthFailure for bad credentials. */
  async authenticate(credentials: Credentials): Promise<Principal | undefined> {
    if (this.options.disabled) return DISABLED;
    if (credentials.kind === 'none') {
      if (this.options.loopback && !(await this.credentialsConfigured())) return LOCAL_ADMIN;
      return undefined;
    }
    const token = credentials.token;
    if (this.options.envKey && safeEqual(token, this.options.envKey)) return { name: 'env-api-key', role: 'admin', method: 'api-key' };
    if (token.startsWith('vk_')) {
      const who = await this.options.keys.verify(token);
      if (!who) throw new AuthFailure('unknown or revoked API key');
      return { ...who, method: 'api-key' };
    }
    if (this.jose && token.split('.').length === 3) return this.verifyJwt(token);
    throw new AuthFailure('unknown credentials: send an API key made with `vitals keys create`');
  }

  private async verifyJwt(token: string): Promise<Principal> {
    const oidc = this.options.oidc!;
    let payload: Record<string, unknown>;
    try {
      const jose = await this.jose!;
      ({ payload } = await jose.jwtVerify(token, jose.jwks, { issuer: oidc.issuer, audience: oidc.audience }));
    } catch (err) {
      throw new AuthFailure(`the token was not accepted: ${(err as Error).message}`);
    }
    const claim = payload[oidc.rolesClaim];
    const names = Array.isArray(claim) ? claim.map(String) : typeof claim === 'string' ? claim.split(/[\s,]+/) : [];
    const role = strongestRole(names);
    if (!role) throw new AuthFailure(`the token's "${oidc.rolesClaim}" claim names no Vitals role (viewer, predictor, operator, auditor, admin)`);
    const name = String(payload.preferred_username ?? payload.email ?? payload.sub ?? 'oidc-user');
    return { name, role, method: 'oidc' };
  }
}

function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
