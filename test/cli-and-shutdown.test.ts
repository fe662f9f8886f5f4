/**
 * The `vitals` command as a user runs it (compiled, in child processes): train with progress,
 * list, predict, clear errors; and `serve` draining the prediction log on SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/index.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');
const data = join(root, 'data/breast_cancer/breast_cancer.csv');

function vitals(home: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vitals CLI', () => {
  it('trains with progress, lists, predicts and explains mistakes', () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-cli-'));
    const train = vitals(home, ['train', '--data', data, '--target', 'diagnosis', '--algo', 'rf', '--name', 'bc', '--promote']);
    expect(train.code).toBe(0);
    expect(train.out).toMatch(/registered bc 1\.0\.0 .* → production/);
    expect(train.out).toMatch(/roc_auc\s+0\.9\d+/);
    expect(train.err).toMatch(/training rf: 100%/); // progress lines when not on a terminal

    const list = vitals(home, ['models', 'list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/bc\s+classification\s+tabular\s+1\.0\.0/);

    const features = { ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, 1])) };
    const bad = vitals(home, ['predict', '--model', 'bc', '--features', JSON.stringify(features)]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/features\.mean_radius: is required/);

    const row = { mean_radius: 17.99, mean_texture: 10.38 };
    const partial = vitals(home, ['predict', '--model', 'bc', '--features', JSON.stringify(row)]);
    expect(partial.err).toMatch(/worst_fractal_dimension: is required/);

    const rollback = vitals(home, ['models', 'rollback', 'bc', '--reason', 'test']);
    expect(rollback.code).toBe(1);
    expect(rollback.err).toMatch(/no earlier production version/);

    const badConfig = vitals(home, ['models', 'list'], { DEVICE: 'tpu' });
    expect(badConfig.code).toBe(78);
    expect(badConfig.err).toMatch(/DEVICE="tpu"/);
  });
});

describe('vitals drift', () => {
  it('prints a per-feature table and exits 1 only when the data drifted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-drift-'));
    const [header, ...lines] = readFileSync(data, 'utf8').trim().split('\n');
    const cols = header!.split(',');
    const radius = cols.indexOf('mean_radius');
    const shifted = lines.map((l) => {
      const v = l.split(',');
      v[radius] = String(Number(v[radius]) * 1.5);
      return v.join(',');
    });
    writeFileSync(join(dir, 'same.csv'), [header, ...lines.slice(0, 300)].join('\n'));
    writeFileSync(join(dir, 'shifted.csv'), [header, ...shifted].join('\n'));
    const same = vitals(dir, ['drift', '--baseline-data', data, '--new-data', join(dir, 'same.csv')]);
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/0 of 31 features drifted/);
    const drifted = vitals(dir, ['drift', '--baseline-data', data, '--new-data', join(dir, 'shifted.csv')]);
    expect(drifted.code).toBe(1);
    expect(drifted.out).toMatch(/mean_radius\s+numeric\s+ks(\s+\S+){7}\s+DRIFT/);
    expect(drifted.out).toMatch(/1 of 31 features drifted/);
  });
});

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running on (http:\/\/localhost:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

describe('vitals serve', () => {
  it('bootstraps the demo, serves, and loses no accepted prediction on SIGTERM', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-serve-'));
    // Async ack and a long flush interval: every row is still in the writer's memory when SIGTERM arrives.
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd: root,
      env: { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent', PREDICTION_LOG_ACK: 'async', PREDICTION_LOG_FLUSH_MS: '600000', PREDICTION_LOG_BATCH_SIZE: '100000' },
    });
    const url = await waitForUrl(child);
    const features = Object.fromEntries(
      [
        'mean_radius',
        'mean_texture',
        'mean_perimeter',
        'mean_area',
        'mean_smoothness',
        'mean_compactness',
        'mean_concavity',
        'mean_concave_points',
        'mean_symmetry',
        'mean_fractal_dimension',
        'radius_error',
        'texture_error',
        'perimeter_error',
        'area_error',
        'smoothness_error',
        'compactness_error',
        'concavity_error',
        'concave_points_error',
        'symmetry_error',
        'fractal_dimension_error',
        'worst_radius',
        'worst_texture',
        'worst_perimeter',
        'worst_area',
        'worst_smoothness',
        'worst_compactness',
        'worst_concavity',
        'worst_concave_points',
        'worst_symmetry',
        'worst_fractal_dimension',
      ].map((f, i) => [f, 0.1 + i]),
    );
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${url}/api/v1/ml-models/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'breast-cancer', features: { ...features, mean_radius: 5 + i } }),
      });
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { prediction_id: string }).prediction_id);
    }
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const database = await openDatabase(undefined, home);
    try {
      const rows = await database.db.selectFrom('prediction_logs').select('id').execute();
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    } finally {
      await database.close();
    }
  });
});
