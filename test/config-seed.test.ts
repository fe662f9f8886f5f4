import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ignoredSettingNotes, loadConfig, settingsSchema } from '../src/config/index.js';
import { SETTING_GROUPS, withConfigTable } from '../src/config/table.js';
import { buildApp } from '../src/server/app.js';

const noDotenv = { dotenvFile: false as const };

describe("the chest X-ray seed's settings", () => {
  it('maps BATCH_WAIT_TIME seconds to BATCH_MAX_WAIT_MS; an explicit BATCH_MAX_WAIT_MS wins', () => {
    expect(loadConfig({ ...noDotenv, env: { BATCH_WAIT_TIME: '0.05' } }).BATCH_MAX_WAIT_MS).toBe(50);
    expect(loadConfig({ ...noDotenv, env: { BATCH_WAIT_TIME: '0.05', BATCH_MAX_WAIT_MS: '3' } }).BATCH_MAX_WAIT_MS).toBe(3);
    expect(() => loadConfig({ ...noDotenv, env: { BATCH_WAIT_TIME: '5' } })).toThrow(/BATCH_WAIT_TIME/);
  });

  it("reads the seed's nested deployment/config.yaml", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-seed-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'model:',
        '  path: "models/best_chest_xray_model.onnx"',
        '  architecture: "efficientnet_b4"',
        '  device: "auto"',
        'server:',
        '  host: "0.0.0.0"',
        '  port: 8001',
        '  workers: 2',
        'performance:',
        '  cache_size: 1000',
        '  enable_batching: true',
        '  batch_timeout: 100  # milliseconds',
        'LOG_LEVEL: WARNING',
      ].join('\n'),
    );
    const c = loadConfig({ ...noDotenv, env: {}, configFile: file });
    expect(c).toMatchObject({
      MODEL_PATH: 'models/best_chest_xray_model.onnx',
      MODEL_ARCHITECTURE: 'efficientnet_b4',
      HOST: '0.0.0.0',
      PORT: 8001,
      INFERENCE_WORKERS: 2,
      CACHE_SIZE: 1000,
      BATCH_MAX_WAIT_MS: 100,
      LOG_LEVEL: 'warn',
    });
    writeFileSync(file, 'server:\n  threads: 4\n');
    expect(() => loadConfig({ ...noDotenv, env: {}, configFile: file })).toThrow(/unknown setting "server.threads"/);
    writeFileSync(file, 'modle: {}\n');
    expect(() => loadConfig({ ...noDotenv, env: {}, configFile: file })).toThrow(ConfigError);
  });

  it('says once, at start, why a seed setting cannot apply', async () => {
    const c = loadConfig({ ...noDotenv, env: { MODEL_ARCHITECTURE: 'efficientnet_b4', AUTO_OPTIMIZE: 'false', IMAGE_PROCESSING_BACKEND: 'opencv', TEXT_PROCESSING_BACKEND: 'spacy' } });
    const notes = ignoredSettingNotes(c);
    expect(notes).toHaveLength(4);
    expect(notes[0]).toMatch(/MODEL_ARCHITECTURE=efficientnet_b4 is ignored: an ONNX model file/);
    expect(ignoredSettingNotes(loadConfig({ ...noDotenv, env: {} }))).toEqual([]);
    expect(() => loadConfig({ ...noDotenv, env: { IMAGE_PROCESSING_BACKEND: 'matlab' } })).toThrow(/IMAGE_PROCESSING_BACKEND/);
  });

  it('PROMETHEUS_PORT opens a separate listener that serves only /metrics', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-prom-'));
    const probe = (await import('node:net')).createServer();
    const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
    await new Promise((r) => probe.close(r));
    const cfg = loadConfig({ ...noDotenv, env: { VITALS_HOME: home, PORT: '0', PROMETHEUS_PORT: String(port), INFERENCE_WORKERS: '1', MESSAGING_CONSUMERS_ENABLED: 'false' } });
    const { app, close } = await buildApp(cfg, { logger: false });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/# TYPE/);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(404);
    } finally {
      await close();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  }, 180_000);
});

describe('README configuration table', () => {
  it('lists every setting exactly once', () => {
    const listed = SETTING_GROUPS.flatMap((g) => g.keys);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(Object.keys(settingsSchema.shape).sort());
  });

  it('matches the schema (run `npm run build && node scripts/make-config-table.mjs` when this fails)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withConfigTable(readme));
  });
});
