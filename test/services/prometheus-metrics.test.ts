/**
 * The /metrics exposition of a live Vitals server (listening on 127.0.0.1, after real predictions,
 * a cache hit, a validation error and an unmatched URL) passes `promtool check metrics`, keeps the
 * standard Node/process names, and every Vitals metric ends in a unit with bounded labels.
 *
 * promtool comes from $PROMTOOL or PATH (`bash scripts/services/prometheus.sh`); missing, it FAILS.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

function promtool(): string {
  const candidates = process.env.PROMTOOL
    ? [process.env.PROMTOOL]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, 'promtool'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  throw new Error('promtool not found: install it with `bash scripts/services/prometheus.sh` or set PROMTOOL');
}

function checkMetrics(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtool(), ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
    child.stdin.end(text);
  });
}

describe('GET /metrics follows the Prometheus conventions (promtool)', () => {
  let t: TestApp;
  let base: string;
  let exposition: string;

  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 10, CACHE_TTL: 60 });
    await bootstrapDemo(t.services.registry);
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
    const names = csv.columns.filter((c) => c !== 'diagnosis');
    const features = Object.fromEntries(names.map((f) => [f, Number(csv.rows[0]![csv.columns.indexOf(f)])]));
    const post = (body: unknown) => fetch(`${base}/api/v1/ml-models/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ model: DEMO_MODEL, features })).status).toBe(200);
    expect((await post({ model: DEMO_MODEL, features })).status).toBe(200); // a cache hit
    expect((await post({ model: DEMO_MODEL, features: { nope: 1 } })).status).toBe(422);
    expect((await fetch(`${base}/no/such/path/${Date.now()}`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/models`, { method: 'PROPFIND' })).status).toBeGreaterThanOrEqual(400);
    await new Promise((r) => setTimeout(r, 100)); // let the prediction log flush
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    exposition = await res.text();
  });
  afterAll(() => t?.dispose());

  it('promtool check metrics is clean', async () => {
    const { code, out } = await checkMetrics(exposition);
    expect(out.trim()).toBe('');
    expect(code).toBe(0);
  });

  it('promtool really checks: a gauge named _total is refused', async () => {
    const { code, out } = await checkMetrics('# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n');
    expect(code).not.toBe(0);
    expect(out).toContain('non-counter metrics should not have "_total" suffix');
  });

  it('Node and process metrics keep their standard names (no prefix)', () => {
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
    ]) {
      expect(exposition).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(exposition).not.toMatch(/vitals_process_/);
  });

  it('every Vitals metric ends in a unit, and its labels are bounded', () => {
    const types = [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    const ours = types.filter((m) => m.name.startsWith('vitals_'));
    expect(ours.map((m) => m.name)).toEqual(expect.arrayContaining(['vitals_http_requests_total', 'vitals_predictions_total', 'vitals_inference_batch_rows']));
    for (const m of ours) {
      if (m.type === 'counter') expect(m.name, m.name).toMatch(/_total$/);
      else expect(m.name, m.name).toMatch(/_(seconds|bytes|rows|models|alerts|events|ratio)$/);
    }
    const samples = exposition.split('\n').filter((l) => l.startsWith('vitals_http_requests_total{'));
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) {
      // a route template or "unmatched", never a raw path; a known method
      expect(s).toMatch(/route="(\/[^"]*|unmatched)"/);
      expect(s).not.toMatch(/\/no\/such\/path/);
      expect(s).toMatch(/method="(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|OTHER)"/);
    }
    expect(exposition).toMatch(/vitals_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(exposition).toMatch(new RegExp(`vitals_prediction_cache_hits_total\\{model="${DEMO_MODEL}"\\} 1`));
  });
});
