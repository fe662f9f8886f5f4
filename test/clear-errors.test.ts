import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, startTestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('a body of the wrong content type says which one to send', () => {
  it('text/plain on a JSON route is a 415 naming application/json, not "expected object"', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/ab-testing/create', headers: { 'content-type': 'text/plain' }, payload: '{"test_name":"x"}' });
    expect(r.statusCode).toBe(415);
    expect(r.json().message).toMatch(/send Content-Type: application\/json/);
  });

  it('no content type at all names application/json too', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/ab-testing/create', headers: { 'content-type': '' }, payload: '{"test_name":"x"}' });
    expect([400, 415]).toContain(r.statusCode);
    expect(r.json().message).toMatch(/application\/json/);
  });
});
