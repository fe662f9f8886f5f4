/**
 * Trying to get in. An authorization matrix generated from the route table (every route × every role
 * and anonymous, on a non-loopback bind with keys), and the attacks that worked before as regressions:
 * encoded and doubled paths, commands and paths over HTTP, header identities, missing reasons, big
 * bodies, floods, secrets in a pipeline's environment.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_PERMISSIONS } from '../src/auth/roles.js';
import { checkFetchable } from '../src/messaging/imaging-consumer.js';
import { DEMO_DATA } from '../src/pipelines/demo-bootstrap.js';
import { ROLES, type Role } from '../src/server/principal.js';
import type { Permission } from '../src/server/route-kit.js';
import { type TestApp, startTestApp } from './helpers/app.js';

let t: TestApp;
let data: string;
let pipelines: string;
const keys = {} as Record<Role, string>;
const bearer = (role: Role) => ({ authorization: `Bearer ${keys[role]}` });

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'vitals-data-'));
  pipelines = mkdtempSync(join(tmpdir(), 'vitals-pipelines-'));
  writeFileSync(join(data, 'bc.csv'), readFileSync(DEMO_DATA));
  symlinkSync('/etc/passwd', join(data, 'passwd-link'));
  mkdirSync(join(pipelines, 'print-env'));
  writeFileSync(join(pipelines, 'print-env', 'dvc.yaml'), 'stages:\n  env:\n    cmd: env > env.txt\n    outs:\n      - env.txt\n');
  process.env.VITALS_TEST_SECRET_TOKEN = 'do-not-leak-1234';
  t = await startTestApp({ HOST: '0.0.0.0', API_KEY: 'env-admin-key-0123456789', DATA_DIR: data, PIPELINES_DIR: pipelines, PIPELINE_POLL_MS: 50 });
  for (const role of ROLES) keys[role] = (await t.services.apiKeys.create(`${role}-key`, role, 'test')).key;
});
afterAll(async () => {
  delete process.env.VITALS_TEST_SECRET_TOKEN;
  await t?.dispose();
  rmSync(data, { recursive: true, force: true });
  rmSync(pipelines, { recursive: true, force: true });
});

const fill = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');

describe('authorization matrix (from the route table)', () => {
  it('every route × every role: allowed, or 401 (anonymous) / 403 (role) as declared', async () => {
    const wrong: string[] = [];
    const routes = t.routes.filter((r) => !r.url.startsWith('/docs') && r.url !== '/api/v1/keys/:name');
    expect(routes.length).toBeGreaterThan(50);
    for (const r of routes) {
      const permission = (r.permission ?? 'admin') as Permission;
      const send = (headers: Record<string, string>) =>
        t.app.inject({
          method: r.method as 'GET',
          url: fill(r.url),
          headers: { ...headers, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
          payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}',
        });
      const anon = await send({});
      const whoami = r.url === '/api/v1/auth/me'; // public, and says 401 "not signed in" to anonymous callers
      if (!whoami && (permission === 'public' ? anon.statusCode === 401 : anon.statusCode !== 401)) wrong.push(`anonymous ${r.method} ${r.url} → ${anon.statusCode}`);
      for (const role of ROLES) {
        const res = await send(bearer(role));
        const allowed = ROLE_PERMISSIONS[role].has(permission);
        if (allowed ? res.statusCode === 401 || res.statusCode === 403 : res.statusCode !== 403) wrong.push(`${role} ${r.method} ${r.url} (${permission}) → ${res.statusCode}`);
        if (res.statusCode >= 500 && res.statusCode !== 503) wrong.push(`${role} ${r.method} ${r.url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a predictor key predicts and does nothing else; a viewer cannot read patient-level predictions', async () => {
    const row = Object.fromEntries(
      readFileSync(DEMO_DATA, 'utf8')
        .split('\n')[0]!
        .split(',')
        .filter((c) => c !== 'diagnosis')
        .map((c) => [c, 1]),
    );
    await t.services.registry.getModel('breast-cancer').catch(async () => undefined);
    const predict = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', headers: bearer('predictor'), payload: { model: 'nope', features: row } });
    expect(predict.statusCode).toBe(404); // authorised; the model does not exist here
    for (const url of ['/api/v1/models', '/api/v1/predictions', '/metrics/../api/v1/models']) {
      expect((await t.app.inject({ url, headers: bearer('predictor') })).statusCode).toBe(403);
    }
    expect((await t.app.inject({ url: '/api/v1/predictions', headers: bearer('viewer') })).statusCode).toBe(403);
    expect((await t.app.inject({ url: '/api/v1/models', headers: bearer('viewer') })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/health' })).statusCode).toBe(200);
    const me = (await t.app.inject({ url: '/api/v1/auth/me', headers: bearer('predictor') })).json();
    expect(me).toMatchObject({ principal: 'predictor-key', role: 'predictor', method: 'api-key', permissions: ['public', 'predict'] });
    expect((await t.app.inject({ url: '/api/v1/auth/me' })).statusCode).toBe(401);
  });

  it('a revoked or made-up key is refused', async () => {
    const { key } = await t.services.apiKeys.create('short-lived', 'operator', 'test');
    expect((await t.app.inject({ url: '/api/v1/models', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    await t.services.apiKeys.revoke('short-lived');
    expect((await t.app.inject({ url: '/api/v1/models', headers: { 'x-api-key': key } })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/models', headers: { authorization: 'Bearer vk_notarealkeyatall0000000000' } })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/models', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })).statusCode).toBe(401);
  });
});

describe('attacks that used to work', () => {
  it('percent-encoded, doubled and mixed-case paths reach no route without credentials', async () => {
    for (const url of ['/%61pi/v1/models/breast-cancer/rollback', '//api/v1/models/breast-cancer/rollback', '/api//v1/models/breast-cancer/rollback', '/API/v1/models/breast-cancer/rollback']) {
      const res = await t.app.inject({ method: 'POST', url, payload: { reason: 'x' } });
      expect([401, 404], url).toContain(res.statusCode);
    }
    expect((await t.app.inject({ url: '/%61pi/v1/predictions' })).statusCode).toBe(401);
  });

  it('never runs a command or a pipeline file from the network, even for an admin', async () => {
    const admin = bearer('admin');
    const cmd = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mlops/cicd/run-pipeline',
      headers: admin,
      payload: { model_name: 'breast-cancer', data: { source: 'file', path: 'bc.csv' }, training: { cmd: 'id > /tmp/x' } },
    });
    expect(cmd.statusCode).toBe(422);
    expect(cmd.json().message).toMatch(/training\.cmd/);
    const file = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/cicd/run-pipeline', headers: admin, payload: { pipeline_file: '/tmp/dvc.yaml' } });
    expect(file.statusCode).toBe(422);
    expect(file.json().message).toMatch(/pipeline_file/);
    const retrain = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/retraining/trigger', headers: admin, payload: { model_id: 'breast-cancer', pipeline: { training: { cmd: 'id' } } } });
    expect(retrain.statusCode).toBe(422);
    const traversal = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/cicd/run-pipeline', headers: admin, payload: { pipeline: '../print-env' } });
    expect(traversal.statusCode).toBe(422);
  });

  it('reads no file outside DATA_DIR by any path-taking field, and says so without content or server paths', async () => {
    const admin = bearer('admin');
    const attempts = ['/etc/passwd', '/etc/shadow', '/proc/self/environ', '../../../../etc/passwd', 'passwd-link', `${data}/../../etc/passwd`];
    for (const path of attempts) {
      const requests = [
        { url: '/api/v1/train', payload: { model_name: 'm', target: 'diagnosis', data_path: path } },
        { url: '/api/v1/models/m/versions', payload: { model_path: path, input_spec: {}, output_spec: {} } },
        { url: '/api/v1/mlops/versioning/create-version', payload: { model_id: 'm', model_path: path, input_spec: {}, output_spec: {} } },
        { url: '/api/v1/mlops/cicd/run-pipeline', payload: { model_name: 'm', data: { source: 'file', path } } },
      ];
      for (const r of requests) {
        const res = await t.app.inject({ method: 'POST', url: r.url, headers: admin, payload: r.payload });
        expect(res.statusCode, `${r.url} ${path}`).toBe(403);
        expect(res.body).not.toMatch(/root:|PATH=|\/tmp\/vitals-data/);
      }
    }
    const inside = await t.app.inject({ method: 'POST', url: '/api/v1/train', headers: admin, payload: { model_name: 'inside', target: 'diagnosis', algo: 'logreg', data_path: 'bc.csv' } });
    expect(inside.statusCode).toBe(202);
  });

  it('records the authenticated principal as the actor, never an x-actor header, and moving production needs a reason', async () => {
    const op = { ...bearer('operator'), 'x-actor': 'chief-medical-officer' };
    const csv = readFileSync(DEMO_DATA, 'utf8');
    await t.services.pipelines.submitTraining({ csv, target: 'diagnosis', algo: 'logreg', modelName: 'audited', version: '1.0.0', aliases: ['production'] });
    await t.services.pipelines.submitTraining({ csv, target: 'diagnosis', algo: 'logreg', modelName: 'audited', version: '1.1.0', seed: 7 });
    for (let i = 0; i < 200 && (await t.services.registry.listVersions('audited').catch(() => [])).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const nested = { a: { a: { a: { a: {} } } } };
    for (const url of ['/api/v1/models/audited/versions/1.1.0/promote', '/api/v1/models/audited/rollback', '/api/v1/mlops/versioning/audited/rollback']) {
      const res = await t.app.inject({ method: 'POST', url, headers: op, payload: nested });
      expect(res.statusCode, url).toBe(422);
    }
    expect((await t.services.registry.getModel('audited')).aliases.production).toBe('1.0.0');
    const promoted = await t.app.inject({ method: 'POST', url: '/api/v1/models/audited/versions/1.1.0/promote', headers: op, payload: { reason: 'validated' } });
    expect(promoted.statusCode).toBe(200);
    const events = await t.services.registry.history('audited');
    expect(events.at(-1)).toMatchObject({ action: 'promoted', actor: 'operator-key', reason: 'validated' });
  });

  it('refuses bodies over the limit without stalling /health', async () => {
    const big = Buffer.alloc(200 * 1024 * 1024, 0x20);
    const [res, health] = await Promise.all([
      t.app.inject({ method: 'POST', url: '/api/v1/mlops/ab-testing/create', headers: { ...bearer('admin'), 'content-type': 'application/json' }, payload: big }),
      t.app.inject({ url: '/health' }),
    ]);
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toMatch(/MB/);
    expect(health.statusCode).toBe(200);
  });

  it('a flood from one key meets 429 with Retry-After while /health answers', async () => {
    const flooded = await startTestApp({ HOST: '0.0.0.0', API_KEY: 'flood-admin-key-0123456789', RATE_LIMIT_ROLES: 'viewer=40' });
    const viewer = (await flooded.services.apiKeys.create('viewer', 'viewer', 'test')).key;
    const operator = (await flooded.services.apiKeys.create('operator', 'operator', 'test')).key;
    const codes: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 60; i++) {
      const res = await flooded.app.inject({ url: '/api/v1/models', headers: { authorization: `Bearer ${viewer}` } });
      codes.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
    }
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await flooded.app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await flooded.app.inject({ url: '/api/v1/models', headers: { authorization: `Bearer ${operator}` } })).statusCode).toBe(200); // others are not punished
    await flooded.dispose();
  });

  it('fetches image_url only from listed hosts (no SSRF to loopback)', () => {
    expect(() => checkFetchable('http://127.0.0.1:8000/api/v1/predictions', [])).toThrow(/FETCH_ALLOWED_HOSTS/);
    expect(() => checkFetchable('http://169.254.169.254/latest/meta-data', ['pacs.hospital.example'])).toThrow(/not in FETCH_ALLOWED_HOSTS/);
    expect(() => checkFetchable('file:///etc/passwd', ['pacs.hospital.example'])).toThrow(/file:/);
    expect(checkFetchable('https://pacs.hospital.example/img/1.png', ['pacs.hospital.example'])).toBe('https://pacs.hospital.example/img/1.png');
  });

  it('runs a named pipeline with a scrubbed environment: no secret reaches the command', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/cicd/run-pipeline', headers: bearer('operator'), payload: { pipeline: 'print-env' } });
    expect(res.statusCode).toBe(202);
    let run = res.json();
    for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = (await t.app.inject({ url: res.json().status_url, headers: bearer('operator') })).json();
    }
    expect(run.status).toBe('succeeded');
    const env = readFileSync(join(pipelines, 'print-env', 'env.txt'), 'utf8');
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toMatch(/do-not-leak-1234|env-admin-key|DATABASE_URL|VITALS_TEST_SECRET/);
  });
});
