/**
 * Registry behaviour that must hold on every database backend: run by test/registry.test.ts on
 * SQLite and by test/services/registry-postgres.test.ts on a real PostgreSQL server.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTinyCnn } from '../../src/onnx/index.js';
import { ArtifactStore, ModelRegistry } from '../../src/registry/index.js';
import { PredictionLog } from '../../src/monitoring/prediction-log.js';
import { type Database, truncateAll } from '../../src/store/index.js';
import { VitalsError } from '../../src/errors.js';

const imageSpec = { kind: 'image', width: 8, height: 8, channels: 1, mean: [0.5], std: [0.25] };
const outputSpec = { labels: ['NORMAL', 'PNEUMONIA'] };
const artifact = (seed: number) => buildTinyCnn({ width: 8, height: 8, channels: 1, labels: ['NORMAL', 'PNEUMONIA'], seed }).onnx;

export function registryContract(name: string, open: () => Promise<Database>) {
  describe(`model registry on ${name}`, () => {
    let database: Database;
    let registry: ModelRegistry;
    let store: ArtifactStore;

    beforeAll(async () => {
      database = await open();
    });
    afterAll(async () => {
      await database.close();
    });
    beforeEach(async () => {
      await truncateAll(database);
      store = new ArtifactStore(mkdtempSync(join(tmpdir(), 'vitals-artifacts-')));
      registry = new ModelRegistry(database, store);
    });

    const register = (version?: string, seed = 1, extra: Record<string, unknown> = {}) =>
      registry.register({ name: 'chest-xray', version, artifact: artifact(seed), input_spec: imageSpec, output_spec: outputSpec, metrics: { accuracy: 0.9 }, actor: 'alice', ...extra });

    it('registers versions, bumps automatically and refuses duplicates', async () => {
      const v1 = await register('1.0.0');
      expect(v1.version).toBe('1.0.0');
      expect(v1.input_spec).toMatchObject({ kind: 'image', width: 8, layout: 'NCHW' });
      const v2 = await register(undefined, 2);
      expect(v2.version).toBe('1.1.0');
      const v3 = await register(undefined, 3, { bump: 'major' });
      expect(v3.version).toBe('2.0.0');
      await expect(register('1.1.0', 4)).rejects.toMatchObject({ code: 'VERSION_EXISTS', statusCode: 409 });
      const list = await registry.listVersions('chest-xray');
      expect(list.map((v) => v.version)).toEqual(['2.0.0', '1.1.0', '1.0.0']);
      expect((await registry.listModels()).map((m) => m.name)).toEqual(['chest-xray']);
    });

    it('names every invalid registration field', async () => {
      const err = await registry.register({ name: 'bad name!', version: 'one', artifact: new Uint8Array(), input_spec: { kind: 'image' }, output_spec: { labels: [] } }).catch((e) => e as VitalsError);
      expect(err).toBeInstanceOf(VitalsError);
      const fields = (err as VitalsError).details!.fields!.map((f) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['name', 'version', 'artifact', 'input_spec.width', 'output_spec.labels']));
    });

    it('stores identical artifacts once and detects tampering', async () => {
      const a = await register('1.0.0', 7);
      const b = await registry.register({ name: 'other', artifact: artifact(7), input_spec: imageSpec, output_spec: outputSpec });
      expect(a.artifact.sha256).toBe(b.artifact.sha256);
      expect(Buffer.from(await registry.loadArtifact(a)).equals(Buffer.from(artifact(7)))).toBe(true);
      writeFileSync(store.pathOf(a.artifact.sha256), Buffer.from('tampered'));
      await expect(registry.loadArtifact(a)).rejects.toMatchObject({ code: 'INTEGRITY_ERROR' });
    });

    it('promotes, resolves aliases, rolls back by history and archives', async () => {
      const v1 = await register('1.0.0', 1);
      const v2 = await register('1.1.0', 2);
      const v3 = await register('1.2.0', 3);
      await expect(registry.resolve('chest-xray')).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
      await registry.promote(v1.id, { actor: 'alice', reason: 'first' });
      await registry.promote(v2.id, { actor: 'bob', reason: 'better recall' });
      await registry.promote(v3.id, { alias: 'challenger' });
      expect((await registry.resolve('chest-xray')).version).toBe('1.1.0');
      expect((await registry.resolve('chest-xray@challenger')).version).toBe('1.2.0');
      expect((await registry.resolve('chest-xray@1.0.0')).id).toBe(v1.id);
      expect((await registry.resolve('chest-xray:1.0.0')).id).toBe(v1.id);
      expect((await registry.resolve(v3.id)).version).toBe('1.2.0');
      expect((await registry.getModel('chest-xray')).aliases).toEqual({ production: '1.1.0', challenger: '1.2.0' });

      const back = await registry.rollback('chest-xray', { actor: 'carol', reason: 'recall dropped' });
      expect(back.version).toBe('1.0.0');
      expect(back.aliases).toContain('production');
      await expect(registry.rollback('chest-xray', { reason: 'again' })).resolves.toMatchObject({ version: '1.1.0' });
      await expect(registry.rollback('chest-xray', { toVersion: '1.2.0', reason: 'named' })).resolves.toMatchObject({ version: '1.2.0' });

      await expect(registry.archive(v3.id)).rejects.toMatchObject({ code: 'CONFLICT' });
      await registry.promote(v2.id, { reason: 'restore' });
      const archived = await registry.archive(v1.id, { reason: 'superseded' });
      expect(archived.status).toBe('archived');
      await expect(registry.promote(v1.id)).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(registry.rollback('chest-xray', { toVersion: '1.0.0', reason: 'x' })).rejects.toMatchObject({ code: 'CONFLICT' });

      const history = await registry.history('chest-xray');
      expect(history.map((e) => e.action)).toEqual([
        'registered',
        'registered',
        'registered',
        'promoted',
        'promoted',
        'alias_set',
        'rolled_back',
        'rolled_back',
        'rolled_back',
        'promoted',
        'archived',
      ]);
      expect(history[4]).toMatchObject({ action: 'promoted', alias: 'production', from_version: '1.0.0', to_version: '1.1.0', actor: 'bob', reason: 'better recall' });
      expect(history[6]).toMatchObject({ action: 'rolled_back', from_version: '1.1.0', to_version: '1.0.0', actor: 'carol', reason: 'recall dropped' });
      expect(new Date(history[6]!.created_at).getTime()).toBeGreaterThan(0);
    });

    it('writes the prediction log in batches, attaches ground truth and drains on close', async () => {
      const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 1000 });
      const ids = Array.from({ length: 250 }, (_, i) =>
        log.record({ model_id: 'm1', model_name: 'm', source: 'api', input: { x: i }, prediction: 'A', probabilities: { A: 0.7, B: 0.3 }, confidence: 0.7, latency_ms: 1.5 }),
      );
      expect(log.pending).toBe(250);
      const updated = await log.attachGroundTruth(ids[10]!, 'B');
      expect(updated).toMatchObject({ id: ids[10], ground_truth: 'B', prediction: 'A', input: { x: 10 }, probabilities: { A: 0.7, B: 0.3 } });
      await expect(log.attachGroundTruth('no-such-id', 'B')).rejects.toMatchObject({ statusCode: 404 });
      log.record({ model_id: 'm1', model_name: 'm', source: 'api', input: {}, prediction: 'A' });
      await log.close();
      expect(log.pending).toBe(0);
      const count = await database.db
        .selectFrom('prediction_logs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(251);
      expect(() => log.record({ model_id: 'm1', model_name: 'm', source: 'api', input: {} })).toThrow(/shutting down/);
    });
  });
}
