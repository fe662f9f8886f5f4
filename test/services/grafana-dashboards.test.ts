/**
 * The Grafana dashboards in deploy/grafana/: every PromQL expression parses with the real
 * `promtool` (each is wrapped as a recording rule, with Grafana's template variables given concrete
 * values, and `promtool check rules` must pass), and every metric they read is one Vitals exports.
 *
 * promtool comes from $PROMTOOL or PATH (bash scripts/services/prometheus.sh installs it); a
 * missing promtool FAILS this test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createMetrics } from '../../src/metrics.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const FILES = ['deploy/grafana/vitals-service.json', 'deploy/grafana/vitals-model-monitoring.json'];

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string }>;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string }> };
}

const load = (file: string) => JSON.parse(readFileSync(resolve(REPO_ROOT, file), 'utf8')) as Dashboard;
/** Grafana's variables as a Prometheus server would receive them. */
const concrete = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$model', '.*');

function promtool(args: string[]): Promise<{ code: number; out: string }> {
  const bin = process.env.PROMTOOL ?? 'promtool';
  return new Promise((res) =>
    execFile(bin, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') throw new Error(`promtool not found (${bin}): run "bash scripts/services/prometheus.sh" or set PROMTOOL`);
      res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    }),
  );
}

describe('Grafana dashboards', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vitals-grafana-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const file of FILES) {
    const d = load(file);
    const panels = d.panels.filter((p) => p.type !== 'row');
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

    it(`${file}: a dashboard with unique panel ids, each panel querying Prometheus`, () => {
      expect(d.uid).toMatch(/^vitals-/);
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      expect(panels.length).toBeGreaterThan(5);
      for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(d.templating.list.map((v) => v.name)).toContain('datasource');
    });

    it(`${file}: every expression parses with promtool`, async () => {
      const rules = { groups: [{ name: d.uid, rules: exprs.map((e, i) => ({ record: `grafana:${d.uid.replaceAll('-', '_')}:${i}`, expr: concrete(e.expr) })) }] };
      const path = join(tmp, `${d.uid}.rules.yml`);
      writeFileSync(path, stringify(rules));
      const { code, out } = await promtool(['check', 'rules', path]);
      expect(code, out).toBe(0);
      expect(out).toContain(`SUCCESS: ${exprs.length} rules found`);
    });

    it(`${file}: reads only metrics Vitals exports`, async () => {
      const metrics = createMetrics(true);
      const known = new Set<string>();
      for (const m of await metrics.registry.getMetricsAsJSON()) {
        known.add(m.name);
        if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(`${m.name}${s}`);
      }
      const used = new Set(exprs.flatMap((e) => e.expr.match(/\b(?:vitals|model)_[a-z0-9_]+\b/g) ?? []));
      expect(used.size).toBeGreaterThan(3);
      expect([...used].filter((name) => !known.has(name))).toEqual([]);
    });
  }
});
