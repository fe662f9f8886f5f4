/**
 * The demo app on the shared PostgreSQL test database (npm run test:services starts it): emptied
 * before and after, the demo model bootstrapped; the demo's feature rows; a decayed labelled window.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from './app.js';

export function postgresTestUrl(): string {
  const url = process.env.DATABASE_URL_TEST;
  if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');
  return url;
}

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
/** Row i of the demo data (cycling) as a features object. */
export const demoRow = (i: number) => Object.fromEntries(features.map((f) => [f, Number(csv.rows[i % csv.rows.length]![csv.columns.indexOf(f)])]));

export async function startPostgresDemoApp(overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const t = await startTestApp({ DATABASE_URL: postgresTestUrl(), CACHE_SIZE: 0, MONITORING_CHECK_EVERY_N: 0, ...overrides });
  await truncateAll(t.services.database);
  await bootstrapDemo(t.services.registry);
  return t;
}

export async function stopPostgresDemoApp(t: TestApp | undefined): Promise<void> {
  if (!t) return;
  await truncateAll(t.services.database);
  await t.dispose();
}

/** 150 external predictions of the demo model, all "benign", 60 % of them labelled wrong: a decayed window. */
export async function recordDecayedWindow(t: TestApp): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/record`,
      payload: { features: demoRow(i), prediction: 'benign', probability: 0.2, ground_truth: i % 5 < 2 ? 'benign' : 'malignant' },
    });
    expect(res.statusCode).toBe(201);
  }
}
