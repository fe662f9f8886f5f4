/**
 * Concurrency on a real PostgreSQL server, 20 requests at once each: the same version registered
 * twice gives one 201 and 409s; concurrent alias moves leave a history in which every `from` is the
 * version that really was there; at most one active release test per model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

describe('concurrent changes on PostgreSQL', () => {
  let t: TestApp;
  let demo: { production: string; challenger: string };
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url });
    await truncateAll(t.services.database);
    demo = (await bootstrapDemo(t.services.registry))!;
  });
  afterAll(async () => {
    await truncateAll(t.services.database);
    await t.dispose();
  });

  it('registering one version 20 times at once: one 201, nineteen 409s', async () => {
    const prod = (await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions/production` })).json();
    const artifact = Buffer.from(await t.services.registry.loadArtifact(prod)).toString('base64');
    const body = { version: '7.0.0', artifact_base64: artifact, input_spec: prod.input_spec, output_spec: prod.output_spec };
    const codes = (await Promise.all(Array.from({ length: 20 }, () => t.app.inject({ method: 'POST', url: '/api/v1/models/racing-model/versions', payload: body })))).map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    expect((await t.services.registry.listVersions('racing-model')).map((v) => v.version)).toEqual(['7.0.0']);
    // 20 auto-bumped registrations of one model at once: 20 distinct versions, no clash
    const bumped = (await Promise.all(Array.from({ length: 20 }, () => t.app.inject({ method: 'POST', url: '/api/v1/models/racing-model/versions', payload: { ...body, version: undefined } })))).map(
      (r) => r.statusCode,
    );
    expect(bumped.every((c) => c === 201)).toBe(true);
    expect(new Set((await t.services.registry.listVersions('racing-model')).map((v) => v.version)).size).toBe(21);
  });

  it('20 alias moves at once: every recorded `from` is the version that was really there', async () => {
    const targets = [demo.production, demo.challenger];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/versions/${targets[i % 2]}/promote`, payload: { reason: `move ${i}` } })),
    );
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    const events = (await t.services.registry.history(DEMO_MODEL)).filter((e) => e.alias === 'production');
    const moves = events.slice(-20);
    for (let i = 1; i < moves.length; i++) expect(moves[i]!.from_version).toBe(moves[i - 1]!.to_version);
    const now = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production;
    expect(moves.at(-1)!.to_version).toBe(now);
  });

  it('20 release tests started at once: one active, the rest 409', async () => {
    // the alias race above leaves either demo version in production: the treatment is the other one
    const production = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production;
    const treatment = production === demo.challenger ? demo.production : demo.challenger;
    const codes = (
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.app.inject({ method: 'POST', url: '/api/v1/mlops/ab-testing/create', payload: { test_name: `race ${i}`, model: DEMO_MODEL, treatment_model_id: treatment } }),
        ),
      )
    ).map((r) => r.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    expect(await t.services.abTests.list({ status: 'active', model: DEMO_MODEL })).toHaveLength(1);
  });
});
