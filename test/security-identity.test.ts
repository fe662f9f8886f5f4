/**
 * Identities from outside: OIDC bearer tokens verified against a JWKS served on loopback (roles from a
 * claim), HTTPS with a certificate made here, and the CLI: `vitals keys create` prints the key last;
 * an open-network bind with no credentials refuses to start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, startTestApp } from './helpers/app.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');

describe('OIDC', () => {
  let jwks: Server;
  let t: TestApp;
  let sign: (claims: Record<string, unknown>, options?: { issuer?: string; audience?: string; expires?: string }) => Promise<string>;
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
    sign = (claims, o = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(o.issuer ?? 'https://idp.hospital.example')
        .setAudience(o.audience ?? 'vitals')
        .setSubject(String(claims.sub ?? 'u1'))
        .setIssuedAt()
        .setExpirationTime(o.expires ?? '5m')
        .sign(privateKey);
    t = await startTestApp({ HOST: '0.0.0.0', AUTH_JWKS_URL: url, AUTH_ISSUER: 'https://idp.hospital.example', AUTH_AUDIENCE: 'vitals', AUTH_ROLES_CLAIM: 'vitals_roles' });
  });
  afterAll(async () => {
    await t?.dispose();
    jwks?.close();
  });

  it('accepts a signed token with a role claim and refuses wrong issuer, audience, expiry or role', async () => {
    const ok = await sign({ sub: 'dr-lee', preferred_username: 'dr.lee', vitals_roles: ['viewer'] });
    const me = await t.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${ok}` } });
    expect(me.json()).toMatchObject({ principal: 'dr.lee', role: 'viewer', method: 'oidc' });
    expect((await t.app.inject({ url: '/api/v1/models', headers: { authorization: `Bearer ${ok}` } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/models/x/rollback', headers: { authorization: `Bearer ${ok}` }, payload: { reason: 'r' } })).statusCode).toBe(403);
    for (const bad of [
      await sign({ vitals_roles: ['admin'] }, { issuer: 'https://evil.example' }),
      await sign({ vitals_roles: ['admin'] }, { audience: 'someone-else' }),
      await sign({ vitals_roles: ['admin'] }, { expires: '-1m' }),
      await sign({ vitals_roles: ['superuser'] }),
    ]) {
      expect((await t.app.inject({ url: '/api/v1/models', headers: { authorization: `Bearer ${bad}` } })).statusCode).toBe(401);
    }
    expect((await t.app.inject({ url: '/api/v1/models' })).statusCode).toBe(401);
  });
});

describe('TLS', () => {
  it('serves HTTPS with TLS_CERT_FILE and TLS_KEY_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    const t = await startTestApp({ TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') });
    try {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      expect(address).toMatch(/^https:/);
      const { request } = await import('node:https');
      const status = await new Promise<number>((done, fail) =>
        request(`${address}/health`, { rejectUnauthorized: false }, (res) => done(res.statusCode ?? 0))
          .on('error', fail)
          .end(),
      );
      expect(status).toBe(200);
    } finally {
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the CLI', () => {
  const vitals = (home: string, args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent', VITALS_DEMO: 'false', ...env }, encoding: 'utf8', timeout: 60_000 });

  it('refuses an open-network bind with no credentials, naming `vitals keys create`; keys are printed once and listed without secrets', () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-keys-'));
    try {
      const refused = vitals(home, ['serve', '--host', '0.0.0.0', '--port', '0']);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/vitals keys create/);
      const created = vitals(home, ['keys', 'create', '--name', 'ward-app', '--role', 'predictor']);
      expect(created.status).toBe(0);
      const key = created.stdout.trim().split('\n').at(-1)!;
      expect(key).toMatch(/^vk_[A-Za-z0-9_-]{40,}$/);
      const listed = vitals(home, ['keys', 'list', '--json']);
      expect(JSON.parse(listed.stdout)).toMatchObject([{ name: 'ward-app', role: 'predictor', revoked_at: null }]);
      expect(listed.stdout).not.toContain(key);
      expect(vitals(home, ['keys', 'create', '--name', 'x', '--role', 'root']).status).not.toBe(0);
      expect(vitals(home, ['keys', 'revoke', 'ward-app']).status).toBe(0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
