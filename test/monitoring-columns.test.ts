/**
 * Column types and value counting in drift reports, and the CLI (`vitals drift`, compiled, in a
 * child process, reading CSV) agreeing with the monitoring path (JSON rows as the API logs them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeDataDrift } from '../src/monitoring/drift-report.js';
import { mulberry32 } from '../src/stats/random.js';
import { buildReferenceProfile, inferColumnType } from '../src/stats/reference-profile.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');

/** Rows with every kind of column, as JSON values and as CSV cells. */
function dataset(seed: number, n: number, oddities: boolean) {
  const rng = mulberry32(seed);
  const json: Array<Record<string, unknown>> = [];
  const csv: string[] = ['age,code,flag,site,binary'];
  for (let i = 0; i < n; i++) {
    let age: number | string | null = Math.round((40 + 15 * (rng() - 0.5) * 2) * 10) / 10;
    if (oddities && i % 50 === 0) age = 'inf';
    if (oddities && i % 50 === 1) age = null;
    if (oddities && i % 50 === 2) age = 'n/a!';
    const code = Math.floor(rng() * 4); // integer-coded category 0..3
    const flag = rng() < 0.3;
    const site = ['A', 'B', 'C'][Math.floor(rng() * 3)]!;
    const binary = rng() < 0.5 ? 1 : 0;
    json.push({ age, code, flag, site, binary });
    csv.push([age === null ? '' : String(age), code, flag, site, binary].join(','));
  }
  return { json, csv: csv.join('\n') };
}

describe('column types', () => {
  it('infers numeric, categorical strings/booleans and low-cardinality integers (configurable)', () => {
    expect(inferColumnType([1.5, 2.25, 3])).toBe('numeric');
    expect(inferColumnType([0, 1, 1, 0])).toBe('categorical');
    expect(inferColumnType([true, false])).toBe('categorical');
    expect(inferColumnType(['a', 'b'])).toBe('categorical');
    expect(inferColumnType(Array.from({ length: 20 }, (_, i) => i))).toBe('numeric');
    expect(
      inferColumnType(
        Array.from({ length: 20 }, (_, i) => i),
        { maxIntegerCategories: 25 },
      ),
    ).toBe('categorical');
    // one "inf" token or one stray word does not turn a numeric column categorical
    expect(inferColumnType([...Array.from({ length: 30 }, (_, i) => i + 0.5), 'inf', 'oops'])).toBe('numeric');
  });

  it('counts missing, non-finite and non-numeric values instead of throwing or dropping them', () => {
    const ref = dataset(1, 600, false).json;
    ref[3]!.age = Infinity; // one Infinity in the reference: counted, not thrown
    const cur = dataset(2, 500, true).json;
    const profile = buildReferenceProfile(ref as never);
    expect(profile.features.age).toMatchObject({ type: 'numeric', non_finite: 1 });
    expect(profile.features.code!.type).toBe('categorical');
    const r = computeDataDrift(profile, cur, { threshold: 0.1 });
    expect(r.feature_drifts.age!.counts).toEqual({ rows: 500, used: 470, missing: 10, non_finite: 10, invalid: 10 });
    expect(r.feature_drifts.age!.type).toBe('numeric');
    expect(r.feature_drifts.code!.test).toBe('chi2');
    expect(r.feature_drifts.binary!.test).toBe('chi2');
    expect(r.feature_drifts.flag!.type).toBe('categorical');
    expect(r.drift_detected).toBe(false);
  });

  it('tests integer codes of an older numeric profile as categories', () => {
    const rng = mulberry32(5);
    const rows = Array.from({ length: 400 }, () => ({ grade: 1 + Math.floor(rng() * 3) }));
    const profile = buildReferenceProfile(rows, { numeric: ['grade'] });
    expect(profile.features.grade!.type).toBe('numeric');
    const r = computeDataDrift(profile, rows.slice(0, 200), { threshold: 0.1 });
    expect(r.feature_drifts.grade!.test).toBe('chi2');
    expect(computeDataDrift(profile, rows, { threshold: 0.1, columnTypes: { grade: 'numeric' } }).feature_drifts.grade!.test).toBe('ks');
  });

  it('vitals drift on CSV files equals the monitoring path on the same rows as JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-columns-'));
    const base = dataset(11, 800, false);
    const cur = dataset(12, 400, true);
    writeFileSync(join(dir, 'base.csv'), base.csv);
    writeFileSync(join(dir, 'cur.csv'), cur.csv);
    const run = spawnSync(process.execPath, [cli, 'drift', '--baseline-data', join(dir, 'base.csv'), '--new-data', join(dir, 'cur.csv'), '--json'], {
      cwd: root,
      env: { ...process.env, VITALS_HOME: dir, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const fromCli = JSON.parse(run.stdout);
    // CSV has no booleans: the JSON side sends the words, as a CSV-fed caller would
    const asApi = (rows: Array<Record<string, unknown>>) => rows.map((r) => ({ ...r, flag: String(r.flag) }));
    const api = computeDataDrift(buildReferenceProfile(asApi(base.json) as never, { maxSample: 100_000 }), asApi(cur.json), { threshold: 0.1 });
    expect(Object.keys(fromCli.feature_drifts).sort()).toEqual(Object.keys(api.feature_drifts).sort());
    for (const [name, f] of Object.entries(api.feature_drifts)) {
      const c = fromCli.feature_drifts[name];
      expect({ type: c.type, test: c.test, counts: c.counts }).toEqual({ type: f.type, test: f.test, counts: f.counts });
      expect(c.p_value).toBe(f.p_value);
      expect(c.p_value_adjusted).toBe(f.p_value_adjusted);
    }
    expect(fromCli.feature_drifts.age.counts).toMatchObject({ missing: 8, non_finite: 8, invalid: 8 });
  });
});
