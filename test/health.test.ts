/**
 * /health tells the truth (issue 14): database, bus, default model and inference pool each
 * ok / degraded / down with a reason; 503 only when a required one is down; /health/live apart.
 * /v2/health/ready (the Open Inference Protocol's readiness) reads the same checks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { checkDependencies } from '../src/server/health-checks.js';
import { type TestApp, startTestApp } from './helpers/app.js';

describe('/health', () => {
  const apps: TestApp[] = [];
  const start = async (o: Parameters<typeof startTestApp>[0] = {}) => {
    const t = await startTestApp(o);
    apps.push(t);
    return t;
  };
  afterAll(async () => {
    for (const t of apps) await t.dispose().catch(() => undefined);
  });

  it('healthy: every dependency ok, the fields the smoke test reads kept; liveness separate', async () => {
    const t = await start();
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'healthy',
      database: { status: 'ok' },
      checks: {
        database: { status: 'ok', required: true },
        bus: { status: 'ok', reason: 'embedded connected' },
        default_model: { status: 'ok', reason: expect.stringMatching(/no default model configured/) },
        inference_pool: { status: 'ok', required: true },
      },
    });
    const live = await t.app.inject({ url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ status: 'alive' });
    const ready = await t.app.inject({ url: '/v2/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ ready: true, reasons: [], checks: { database: { status: 'ok' }, bus: { status: 'ok' } } });
  }, 180_000);

  it('/v2/health/ready stays ready when only the bus is down, and says so', async () => {
    const t = await start({ MESSAGE_QUEUE_TYPE: 'rabbitmq', RABBITMQ_URL: 'amqp://127.0.0.1:1' });
    const res = await t.app.inject({ url: '/v2/health/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ready: true, checks: { bus: { status: 'down' } } });
    expect(res.json().reasons).toEqual([expect.stringMatching(/^bus down: rabbitmq not connected/)]);
  }, 180_000);

  it('degraded (200) with reasons when the configured RabbitMQ is down and the default model is missing', async () => {
    const t = await start({ MESSAGE_QUEUE_TYPE: 'rabbitmq', RABBITMQ_URL: 'amqp://127.0.0.1:1', MODEL_NAME: 'chest-xray' });
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('degraded');
    expect(body.checks.bus).toMatchObject({ status: 'down', required: false, reason: expect.stringMatching(/rabbitmq not connected/) });
    expect(body.checks.default_model).toMatchObject({ status: 'down', reason: expect.stringMatching(/configured default model cannot be served/) });
    expect(body.model.loaded).toBe(false);
    expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200);
    // the protocol's readiness means the models can infer: a default model that cannot be served is not ready
    const ready = await t.app.inject({ url: '/v2/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().ready).toBe(false);
    expect(ready.json().reasons).toEqual([expect.stringMatching(/^bus down: rabbitmq not connected/), expect.stringMatching(/^default_model down: .*chest-xray/)]);
    expect((await t.app.inject({ url: '/v2/health/live' })).json()).toEqual({ live: true });
  }, 180_000);

  it('unhealthy (503) when a required dependency is down', async () => {
    const t = await start();
    await t.services.database.close();
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unhealthy', checks: { database: { status: 'down', required: true } }, database: { status: expect.stringMatching(/^error: /) } });
    expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200);
    const ready = await t.app.inject({ url: '/v2/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ready: false, reasons: expect.arrayContaining([expect.stringMatching(/^database down: /)]), checks: { database: { status: 'down', required: true } } });
  }, 180_000);

  it('a full inference queue is degraded; no workers is down', async () => {
    const ok = () => Promise.resolve();
    expect((await checkDependencies({ database: ok, pool: { workers: 2, queueSize: 10, maxQueue: 10 } })).checks.inference_pool).toMatchObject({
      status: 'degraded',
      reason: expect.stringMatching(/queue full \(10 of 10\)/),
    });
    expect((await checkDependencies({ database: ok, pool: { workers: 0, queueSize: 0 } })).status).toBe('unhealthy');
  });
});
