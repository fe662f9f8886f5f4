/**
 * Monitoring end to end over HTTP on the demo model: in-distribution traffic shows no drift, two
 * shifted features are flagged (exactly those two), and labels that cost 10+ points of accuracy
 * trigger decay and an alert that reaches a real webhook receiver.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv, mulberry32 } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = csv.rows.map((r) => Object.fromEntries(features.map((f) => [f, Number(r[csv.columns.indexOf(f)])])));
const std = (f: string) => {
  const xs = rows.map((r) => r[f]!);
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

describe('model monitoring over HTTP', () => {
  let t: TestApp;
  let receiver: Server;
  const received: Array<{ event: string; alert: { rule: string; severity: string; model_name: string; message: string } }> = [];
  const rng = mulberry32(2024);
  const draw = (n: number) => Array.from({ length: n }, () => rows[Math.floor(rng() * rows.length)]!);

  async function predict(batch: Array<Record<string, number>>): Promise<Array<{ prediction_id: string; prediction: string }>> {
    const out = [];
    for (let i = 0; i < batch.length; i += 100) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, instances: batch.slice(i, i + 100) } });
      expect(res.statusCode).toBe(200);
      out.push(...res.json().predictions);
    }
    return out;
  }
  const check = async () => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/check` });
    expect(res.statusCode).toBe(200);
    return res.json().reports.find((r: { version: string }) => r.version === production);
  };
  let production = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;
    t = await startTestApp({ ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
    production = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production!;
  });
  afterAll(async () => {
    await t.dispose();
    receiver.close();
  });

  it('says "insufficient data" below 100 predictions', async () => {
    await predict(draw(40));
    const report = await check();
    expect(report.status).toBe('insufficient_data');
    expect(report.window).toMatchObject({ size: 40, needed: 60 });
    expect(report.recommendations[0]).toMatch(/60 more are needed/);
  });

  let normal: Array<{ prediction_id: string; prediction: string }> = [];
  it('finds no drift in 1,000 predictions drawn from the training distribution', async () => {
    normal = await predict(draw(1000));
    const report = await check();
    expect(report.status).toBe('ok');
    expect(report.window.size).toBe(1000);
    expect(report.drift.drifted_features).toEqual([]);
    expect(report.drift.drift_detected).toBe(false);
    expect(Object.keys(report.drift.feature_drifts)).toHaveLength(30);
    expect(report.outputs.prediction_drift.drifted).toBe(false);
    expect(report.health.band).toBe('good');
    const status = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}` })).json();
    expect(status).toMatchObject({ model_id: DEMO_MODEL, drift_status: { drift_detected: false }, decay_status: { decay_detected: false } });
  });

  it('detects decay when labels cost 10+ points of accuracy, and alerts a webhook', async () => {
    // 85% of labels agree with the model: accuracy falls from ~0.96 to ~0.85.
    const labels = normal.map((p, i) => ({ prediction_id: p.prediction_id, ground_truth: i % 20 < 17 ? p.prediction : p.prediction === 'benign' ? 'malignant' : 'benign' }));
    const gt = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/monitoring/ground-truth', payload: { labels } });
    expect(gt.json().updated).toBe(1000);
    const report = await check();
    expect(report.decay.labels).toBe(1000);
    expect(report.decay.current_accuracy).toBeCloseTo(0.85, 2);
    expect(report.decay.decay_detected).toBe(true);
    expect(report.decay.accuracy_decay).toBeGreaterThan(0.1);
    expect(report.recommendations.join(' ')).toMatch(/Retrain: accuracy fell/);
    expect(report.health.band).not.toBe('good');

    await t.services.notifier.drain();
    const decayAlert = received.find((n) => n.alert.rule === 'decay');
    expect(decayAlert).toMatchObject({ event: 'firing', alert: { severity: 'critical', model_name: DEMO_MODEL } });
    const alerts = (await t.app.inject({ url: '/api/v1/mlops/production-monitoring/alerts?status=firing' })).json().alerts;
    expect(alerts.map((a: { rule: string }) => a.rule)).toContain('decay');

    // A second check while still decayed does not notify again (cooldown).
    const before = received.length;
    await check();
    await t.services.notifier.drain();
    expect(received.length).toBe(before);
  });

  it('flags exactly the two shifted features in 1,000 more predictions', async () => {
    const shifted = draw(1000).map((r) => ({ ...r, mean_texture: r.mean_texture! + 1.5 * std('mean_texture'), worst_symmetry: r.worst_symmetry! * 1.6 }));
    await predict(shifted);
    const report = await check();
    expect(report.drift.drifted_features.sort()).toEqual(['mean_texture', 'worst_symmetry']);
    expect(report.drift.drift_score).toBeCloseTo(2 / 30, 6);
    expect(report.drift.feature_drifts.mean_texture.p_value).toBeLessThan(1e-10);
    expect(report.recommendations.join(' ')).toMatch(/Investigate feature "mean_texture"/);
    await t.services.notifier.drain();
    expect(received.some((n) => n.alert.rule === 'data_drift' && n.event === 'firing')).toBe(true);

    const prod = (await t.app.inject({ url: `/api/v1/mlops/production-monitoring/${DEMO_MODEL}` })).json();
    expect(prod).toMatchObject({ model_id: DEMO_MODEL, drift: { detected: true } });
    expect(prod.health_score).toBeGreaterThan(0);
    expect(prod.health_score).toBeLessThan(1);
    const history = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/history` })).json().checks;
    expect(history.length).toBeGreaterThanOrEqual(4);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`model_drift_score\\{model="${DEMO_MODEL}",version="${production.replace(/\./g, '\\.')}"\\} 0\\.0666`));
    expect(metrics).toMatch(/model_health_score\{model="breast-cancer"/);
    expect(metrics).toMatch(/vitals_firing_alerts\{severity="critical"\} [1-9]/);
  });
});
