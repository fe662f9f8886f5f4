/** Builds a whole Vitals app in-process on a temp directory with real SQLite (or DATABASE_URL). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Settings, loadConfig } from '../../src/config/index.js';
import { type VitalsApp, buildApp } from '../../src/server/app.js';

export interface TestApp extends VitalsApp {
  home: string;
  dispose(): Promise<void>;
}

export async function startTestApp(overrides: Partial<Record<keyof Settings, unknown>> = {}): Promise<TestApp> {
  const home = mkdtempSync(join(tmpdir(), 'vitals-test-'));
  const settings = loadConfig({
    env: {},
    dotenvFile: false,
    overrides: { VITALS_HOME: home, LOG_LEVEL: 'silent', VITALS_DEMO: false, INFERENCE_WORKERS: 1, PREDICTION_LOG_FLUSH_MS: 20, ...overrides },
  });
  const vitals = await buildApp(settings, { logger: false });
  return {
    ...vitals,
    home,
    async dispose() {
      await vitals.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
