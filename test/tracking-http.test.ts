/** Every /api/v1/tracking route over HTTP: what it answers matches its declared response schema. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, startTestApp } from './helpers/app.js';

describe('tracking routes over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.dispose());
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await t.app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: res.statusCode, body: res.json() };
  };

  it('starts, logs, finishes, compares and finds the best run', async () => {
    const a = await call('POST', '/api/v1/tracking/runs', { experiment: 'http', name: 'a', config: { lr: 0.1 }, tags: { who: 'me' } });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ experiment: 'http', name: 'a', status: 'running', config: { lr: 0.1 }, tags: { who: 'me' }, ended_at: null });
    const id = a.body.id as string;
    expect((await call('POST', `/api/v1/tracking/runs/${id}/config`, { batch: 32 })).body.config).toEqual({ lr: 0.1, batch: 32 });
    expect((await call('POST', `/api/v1/tracking/runs/${id}/steps`, { epoch: 0, loss: 0.9, learning_rate: 0.1 })).body).toEqual({ ok: true });
    expect((await call('POST', `/api/v1/tracking/runs/${id}/steps`, { epoch: 1, loss: 0.5 })).status).toBe(200);
    expect((await call('POST', `/api/v1/tracking/runs/${id}/metrics`, { metrics: { accuracy: 0.8 } })).body).toEqual({ ok: true });
    expect((await call('GET', `/api/v1/tracking/runs/${id}/history/loss`)).body.points).toEqual([
      { step: 0, value: 0.9 },
      { step: 1, value: 0.5 },
    ]);
    expect((await call('POST', `/api/v1/tracking/runs/${id}/finish`, {})).body.status).toBe('completed');
    expect((await call('POST', `/api/v1/tracking/runs/${id}/metrics`, { metrics: { accuracy: 0.9 } })).status).toBe(409);
    const b = (await call('POST', '/api/v1/tracking/runs', { experiment: 'http', config: { lr: 0.01 } })).body;
    await call('POST', `/api/v1/tracking/runs/${b.id}/metrics`, { metrics: { accuracy: 0.95 } });
    await call('POST', `/api/v1/tracking/runs/${b.id}/finish`, { status: 'completed' });
    expect((await call('GET', '/api/v1/tracking/experiments')).body.experiments).toEqual([expect.objectContaining({ name: 'http', runs: 2 })]);
    expect((await call('GET', '/api/v1/tracking/experiments/http/runs')).body.runs.map((r: { id: string }) => r.id)).toEqual([b.id, id]);
    expect((await call('GET', '/api/v1/tracking/experiments/http/best?metric=accuracy')).body.run.id).toBe(b.id);
    const cmp = (await call('POST', '/api/v1/tracking/compare', { run_ids: [id, b.id] })).body;
    expect(cmp.metrics.accuracy).toEqual({ [id]: 0.8, [b.id]: 0.95 });
    expect(cmp.config_differences.lr).toEqual({ [id]: 0.1, [b.id]: 0.01 });
    expect((await call('GET', '/api/v1/tracking/runs/nope')).status).toBe(404);
    expect((await call('POST', '/api/v1/tracking/runs', { experiment: '' })).status).toBe(422);
  });
});
