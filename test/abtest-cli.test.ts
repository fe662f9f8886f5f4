/** `vitals ab create|list|status|stop` as a user runs them (compiled, in child processes). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { closeServices, createServices } from '../src/server/app.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');

function vitals(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vitals ab', () => {
  it('creates, lists, reports on and stops a test', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-ab-cli-'));
    const s = await createServices(loadConfig({ env: {}, dotenvFile: false, overrides: { VITALS_HOME: home, LOG_LEVEL: 'silent', INFERENCE_WORKERS: 1 } }));
    const demo = (await bootstrapDemo(s.registry))!;
    await closeServices(s);
    try {
      const created = vitals(home, ['ab', 'create', '--name', 'cli test', '--model', DEMO_MODEL, '--treatment', `${DEMO_MODEL}@challenger`, '--split', '0.2', '--decision', 'recommend-only']);
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      expect(created.out).toMatch(new RegExp(`started ab test "cli test" .*${demo.production} \\(control\\) vs ${demo.challenger} \\(treatment\\), split 0.2`));

      const again = vitals(home, ['ab', 'create', '--name', 'dup', '--model', DEMO_MODEL, '--treatment', demo.challenger]);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/already has an active test "cli test"/);

      const list = vitals(home, ['ab', 'list']);
      expect(list.out).toMatch(/cli test\s+breast-cancer\s+ab\s+1\.\d\.0\s+1\.\d\.0\s+0\.2\s+active\s+recommend-only/);

      const status = vitals(home, ['ab', 'status', 'cli test']);
      expect(status.code).toBe(0);
      expect(status.out).toMatch(/VARIANT\s+VERSION\s+PREDICTIONS/);
      expect(status.out).toMatch(/decision: continue/);
      const json = JSON.parse(vitals(home, ['ab', 'status', 'cli test', '--json']).out);
      expect(json).toMatchObject({ test_name: 'cli test', status: 'active', traffic_split: 0.2 });

      const stop = vitals(home, ['ab', 'stop', 'cli test', '--winner', 'control', '--reason', 'not needed']);
      expect(stop.out).toMatch(/cli test stopped; winner control/);
      expect(vitals(home, ['ab', 'list']).out).toMatch(/no active tests/);
      expect(vitals(home, ['ab', 'list', '--all']).out).toMatch(/cli test.*stopped/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
