/**
 * One incident fires once across replicas: 20 monitors (as 20 replicas would, each with its own
 * notifier) check the same decayed version at the same moment on a real PostgreSQL. The partial
 * unique index of 0150_one_firing_alert lets one insert win; the others only mark the alert seen.
 * Exactly one firing alert row, one webhook delivery (a real local HTTP receiver), one outbox event.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL } from '../../src/pipelines/demo-bootstrap.js';
import { ModelMonitor } from '../../src/monitoring/model-monitor.js';
import { AlertNotifier } from '../../src/monitoring/notifiers.js';
import { isUniqueViolation } from '../../src/store/index.js';
import type { TestApp } from '../helpers/app.js';
import { recordDecayedWindow, startPostgresDemoApp, stopPostgresDemoApp } from '../helpers/postgres-demo.js';

describe('one firing alert per dedup key on PostgreSQL', () => {
  let t: TestApp;
  const received: Array<{ event: string; alert: { id: string; rule: string } }> = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t = await startPostgresDemoApp();
  }, 180_000);
  afterAll(async () => {
    receiver.close();
    await stopPostgresDemoApp(t);
  });

  it('20 concurrent checks of a decayed version → one alert, one notification', async () => {
    await recordDecayedWindow(t);
    const s = t.services;
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const replicas = Array.from({ length: 20 }, () => {
      const notifier = new AlertNotifier({ webhookUrl, retry: { attempts: 1 } });
      return { notifier, monitor: new ModelMonitor(s.database, s.registry, s.predictionLog, s.metrics, notifier, s.monitor.options) };
    });
    const results = await Promise.all(replicas.map((r) => r.monitor.checkModel(DEMO_MODEL)));
    await Promise.all(replicas.map((r) => r.notifier.drain()));

    // every check saw the decay (so every one of them tried to fire)
    for (const r of results) expect(r.reports.some((rep) => rep.decay.decay_detected)).toBe(true);
    const alerts = await s.database.db.selectFrom('alerts').selectAll().where('rule', '=', 'decay').execute();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe('firing');
    const decayNotices = received.filter((n) => n.alert.rule === 'decay');
    expect(decayNotices).toHaveLength(1);
    expect(decayNotices[0]).toMatchObject({ event: 'firing', alert: { id: alerts[0]!.id } });
    const fired = await s.database.db.selectFrom('outbox').select('payload').where('topic', '=', 'alerts').execute();
    expect(fired.filter((o) => o.payload.includes('"decay"') && o.payload.includes('alert.fired')).length).toBeLessThanOrEqual(1);

    // the database itself refuses a second firing row for the key; a resolved one is fine
    const second = { ...alerts[0]!, id: `${alerts[0]!.id}-2` };
    const err = await s.database.db
      .insertInto('alerts')
      .values(second)
      .execute()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isUniqueViolation(err)).toBe(true);
    await s.database.db
      .insertInto('alerts')
      .values({ ...second, status: 'resolved' })
      .execute();
  }, 180_000);
});
