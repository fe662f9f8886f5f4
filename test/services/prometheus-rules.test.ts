/**
 * Validates the Prometheus alerting rules in deploy/prometheus/vitals-alerts.yml with the real
 * `promtool`: syntax/PromQL (`promtool check rules`) and behaviour on synthetic series
 * (`promtool test rules deploy/prometheus/vitals-alerts.test.yml`).
 *
 * promtool is taken from $PROMTOOL or PATH. Install it with `bash scripts/services/prometheus.sh`
 * (Debian's `prometheus` package via apt-get). A missing promtool FAILS this test; it is never skipped.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RULES = 'deploy/prometheus/vitals-alerts.yml';
const RULE_TESTS = 'deploy/prometheus/vitals-alerts.test.yml';

function findPromtool(): string {
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
  throw new Error(
    `promtool not found (${process.env.PROMTOOL ? `PROMTOOL=${process.env.PROMTOOL} is not executable` : 'not on PATH'}). ` +
      'Install it with `bash scripts/services/prometheus.sh` (apt-get install prometheus; needs root or sudo), ' +
      'or point PROMTOOL at a promtool binary from https://prometheus.io/download/.',
  );
}

function run(args: string[]): Promise<{ code: number; out: string }> {
  const promtool = findPromtool();
  return new Promise((res) => {
    execFile(promtool, args, { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, out: `${stdout}${stderr}` });
    });
  });
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('Prometheus alerting rules (promtool)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vitals-promtool-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('promtool is installed', async () => {
    const { code, out } = await run(['--version']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/promtool, version \d+\./);
  });

  it(`promtool check rules ${RULES} succeeds`, async () => {
    const { code, out } = await run(['check', 'rules', RULES]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it(`promtool test rules ${RULE_TESTS}: the alerts fire (and only) on synthetic series`, async () => {
    const { code, out } = await run(['test', 'rules', RULE_TESTS]);
    expect(code, out).toBe(0);
    expect(out).toContain('SUCCESS');
  });

  it('promtool really validates: a broken rule file is rejected', async () => {
    const bad = join(tmp, 'bad.yml');
    writeFileSync(bad, 'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: rate(model_drift_score[5m] > 0.1\n');
    const { code, out } = await run(['check', 'rules', bad]);
    expect(code).not.toBe(0);
    expect(out).toMatch(/FAILED|error/i);
  });

  it('covers the expected alerts, each with a severity and summary/description/runbook', () => {
    const doc = parse(readFileSync(join(REPO_ROOT, RULES), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
    const rules = doc.groups.flatMap((g) => g.rules);
    const byName = Object.fromEntries(rules.filter((r) => r.alert).map((r) => [r.alert!, r]));
    expect(Object.keys(byName)).toEqual(
      expect.arrayContaining([
        'VitalsModelDataDrift',
        'VitalsModelHealthCritical',
        'VitalsModelHealthDegraded',
        'VitalsModelAccuracyDecay',
        'VitalsPredictLatencyHigh',
        'VitalsHighErrorRatio',
        'VitalsDown',
      ]),
    );
    for (const r of Object.values(byName)) {
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.severity);
      for (const a of ['summary', 'description', 'runbook']) expect(r.annotations?.[a], `${r.alert}.${a}`).toBeTruthy();
    }
    expect(byName.VitalsModelDataDrift).toMatchObject({ for: '15m', labels: { severity: 'warning' } });
    expect(byName.VitalsModelDataDrift.expr).toMatch(/model_drift_score\s*>\s*0\.1\b/);
    expect(byName.VitalsModelHealthCritical.labels?.severity).toBe('critical');
    expect(byName.VitalsModelHealthCritical.expr).toMatch(/model_health_score\s*<\s*0\.6\b/);
    expect(byName.VitalsModelHealthDegraded.labels?.severity).toBe('warning');
    expect(byName.VitalsModelHealthDegraded.expr).toMatch(/model_health_score\s*<\s*0\.8\b/);
    expect(byName.VitalsModelAccuracyDecay.labels?.severity).toBe('critical');
    expect(byName.VitalsModelAccuracyDecay.expr).toMatch(/model_accuracy_decay\s*>\s*0\.05\b/);
    expect(byName.VitalsPredictLatencyHigh.for).toBe('10m');
    expect(byName.VitalsPredictLatencyHigh.expr).toMatch(/histogram_quantile\(0\.95/);
    expect(byName.VitalsPredictLatencyHigh.expr).toContain('vitals_http_request_duration_seconds_bucket');
    expect(byName.VitalsHighErrorRatio.for).toBe('10m');
    expect(byName.VitalsHighErrorRatio.expr).toMatch(/>\s*0\.05/);
    expect(byName.VitalsDown.expr).toMatch(/up\{[^}]*\}\s*==\s*0/);
  });
});
