/**
 * Monitoring on a real PostgreSQL server: the 0118_alert_workflow migration, a check that fires a
 * decay alert from labelled predictions, and every alert-handling step stored and read back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL } from '../../src/pipelines/demo-bootstrap.js';
import type { TestApp } from '../helpers/app.js';
import { recordDecayedWindow, startPostgresDemoApp, stopPostgresDemoApp } from '../helpers/postgres-demo.js';

describe('monitoring on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startPostgresDemoApp();
  });
  afterAll(() => stopPostgresDemoApp(t));

  it('fires decay from labels, then records the handling of the alert', async () => {
    await recordDecayedWindow(t);
    const check = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/check` });
    expect(check.statusCode).toBe(200);
    const report = check.json().reports.find((r: { version: string; decay: { labels: number } }) => r.decay.labels === 150);
    expect(report.decay).toMatchObject({ decay_detected: true, test: { method: 'confidence_sequence' } });
    const status = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}` })).json();
    expect(status.decay_status.decay_detected).toBe(true);
    const alert = (await t.app.inject({ url: '/api/v1/mlops/production-monitoring/alerts?status=firing' })).json().alerts.find((a: { rule: string }) => a.rule === 'decay');
    const base = `/api/v1/mlops/production-monitoring/alerts/${alert.id}`;
    expect((await t.app.inject({ method: 'POST', url: `${base}/acknowledge`, payload: { comment: 'on it' } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `${base}/actions`, payload: { kind: 'retrain', reference: 'run-1' } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `${base}/resolve` })).statusCode).toBe(200);
    const done = (await t.app.inject({ url: base })).json();
    expect(done.status).toBe('resolved');
    expect(done.handling.events.map((e: { action: string }) => e.action)).toEqual(['acknowledged', 'action_taken', 'resolved']);
    expect(done.handling.actions_taken).toEqual([expect.objectContaining({ kind: 'retrain', reference: 'run-1' })]);
  });
});
