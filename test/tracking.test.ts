import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/store/index.js';
import { ExperimentTracking } from '../src/tracking/index.js';

let home: string;
let database: Database;
let tracking: ExperimentTracking;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vitals-tracking-'));
  database = await openDatabase(undefined, home);
  tracking = new ExperimentTracking(database);
});
afterAll(async () => {
  await database.close();
  rmSync(home, { recursive: true, force: true });
});

describe('experiment tracking', () => {
  it('logs config, per-epoch loss and learning rate, metrics, and finishes', async () => {
    const run = await tracking.startRun('detr_object_detection', { name: 'r1' });
    await tracking.logConfig(run.id, { model_name: 'facebook/detr-resnet-50', num_classes: 92, hidden_dim: 256 });
    for (let epoch = 0; epoch < 5; epoch++) await tracking.logTrainingStep(run.id, epoch, 1 / (epoch + 1), 0.001 * 0.9 ** epoch);
    await tracking.logMetrics(run.id, { 'mAP@0.5': 0.61, precision: 0.7 });
    const done = await tracking.finish(run.id, 'completed');
    expect(done).toMatchObject({ status: 'completed', experiment: 'detr_object_detection', config: { num_classes: 92 }, metrics: { loss: 0.2, 'mAP@0.5': 0.61 } });
    expect((await tracking.history(run.id, 'loss')).map((p) => p.step)).toEqual([0, 1, 2, 3, 4]);
    expect((await tracking.history(run.id, 'learning_rate'))[4]!.value).toBeCloseTo(0.001 * 0.9 ** 4);
    await expect(tracking.logMetrics(run.id, { x: 1 })).rejects.toThrow(/finished/);
  });

  it('compares runs and finds the best one', async () => {
    const a = await tracking.startRun('cmp', { config: { lr: 0.1, layers: 2 } });
    const b = await tracking.startRun('cmp', { config: { lr: 0.01, layers: 2 } });
    const c = await tracking.startRun('cmp', { config: { lr: 0.5, layers: 2 } });
    await tracking.logMetrics(a.id, { accuracy: 0.8, loss: 0.5 });
    await tracking.logMetrics(b.id, { accuracy: 0.9, loss: 0.3 });
    await tracking.logMetrics(c.id, { accuracy: 0.99 });
    await tracking.finish(a.id);
    await tracking.finish(b.id);
    await tracking.finish(c.id, 'failed'); // a failed run is never "best"
    const cmp = await tracking.compare([a.id, b.id]);
    expect(cmp.metrics.accuracy).toEqual({ [a.id]: 0.8, [b.id]: 0.9 });
    expect(cmp.config_differences).toEqual({ lr: { [a.id]: 0.1, [b.id]: 0.01 } });
    expect((await tracking.bestRun('cmp', 'accuracy'))!.id).toBe(b.id);
    expect((await tracking.bestRun('cmp', 'loss', 'min'))!.id).toBe(b.id);
    expect(await tracking.bestRun('cmp', 'nope')).toBeNull();
    expect((await tracking.listExperiments()).find((e) => e.name === 'cmp')!.runs).toBe(3);
  });
});
