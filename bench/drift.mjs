// Drift check benchmark: 50 numeric features, 10,000 reference rows, 1,000 current rows.
// Vitals' computeDataDrift (KS exact/asymptotic as scipy chooses, plus Wasserstein and PSI per
// feature) against a scipy.stats.ks_2samp loop over the same data, in the same run.
//
//   npm run build && node bench/drift.mjs
//
// scipy comes from the virtualenv made by scripts/stats-fixtures/make-fixtures.sh (.venv/stats);
// without it the reference is skipped with a printed line.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDataDrift } from '../dist/monitoring/drift-report.js';
import { buildReferenceProfile } from '../dist/stats/reference-profile.js';
import { mulberry32 } from '../dist/stats/random.js';
import { REPO_ROOT, RESULTS_DIR, round } from './lib/common.mjs';

const FEATURES = 50;
const REF_ROWS = 10_000;
const CUR_ROWS = 1_000;
const REPEATS = 5;

const rng = mulberry32(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
const names = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
// Values rounded to 4 decimals so both sides read identical numbers from the JSON file.
const r4 = (x) => Math.round(x * 1e4) / 1e4;
const reference = Array.from({ length: REF_ROWS }, () => Object.fromEntries(names.map((n) => [n, r4(gauss())])));
const current = Array.from({ length: CUR_ROWS }, () => Object.fromEntries(names.map((n, i) => [n, r4(gauss() + (i % 10 === 0 ? 0.3 : 0))])));

const profile = buildReferenceProfile(reference, { features: names, maxSample: REF_ROWS });
const times = [];
let result;
for (let i = 0; i < REPEATS; i++) {
  const t0 = performance.now();
  result = computeDataDrift(profile, current, { threshold: 0.1 });
  times.push(performance.now() - t0);
}
const vitalsMs = Math.min(...times);
console.log(`Vitals computeDataDrift: ${round(vitalsMs)} ms (best of ${REPEATS}); drifted: ${result.drifted_features.length} of ${FEATURES} (expected 5: every 10th feature shifted by 0.3 sd)`);

const python = join(REPO_ROOT, '.venv/stats/bin/python');
let scipyMs = null;
let maxRelError = null;
if (!existsSync(python)) {
  console.log('scipy reference skipped: run `bash scripts/stats-fixtures/make-fixtures.sh` to create .venv/stats');
} else {
  const dir = join(tmpdir(), `vitals-drift-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data.json');
  writeFileSync(data, JSON.stringify({ names, reference: names.map((n) => profile.sample[n]), current: names.map((n) => current.map((r) => r[n])) }));
  const script = `
import json, sys, time
from scipy.stats import ks_2samp
d = json.load(open(sys.argv[1]))
best = None
for _ in range(${REPEATS}):
    t0 = time.perf_counter()
    out = [ks_2samp(a, b) for a, b in zip(d['reference'], d['current'])]
    dt = (time.perf_counter() - t0) * 1000
    best = dt if best is None else min(best, dt)
print(json.dumps({'ms': best, 'p': [r.pvalue for r in out], 'stat': [r.statistic for r in out]}))
`;
  const out = JSON.parse(execFileSync(python, ['-c', script, data], { encoding: 'utf8' }));
  scipyMs = out.ms;
  maxRelError = Math.max(...names.map((n, i) => Math.abs(result.feature_drifts[n].p_value - out.p[i]) / Math.max(out.p[i], 1e-300)));
  console.log(`scipy ks_2samp loop:      ${round(scipyMs)} ms (best of ${REPEATS}); max relative p-value difference ${maxRelError.toExponential(2)}`);
  console.log(`ratio scipy / Vitals:     ${round(scipyMs / vitalsMs)}x (Vitals also computes Wasserstein and PSI per feature)`);
}

// End to end as a CI job runs it: `vitals drift` on the same numbers as CSV files (process start, CSV
// read, profile, tests, table), median of REPEATS runs, against the start of a bare `node -e 0`.
const csvDir = join(tmpdir(), `vitals-drift-cli-${process.pid}`);
mkdirSync(csvDir, { recursive: true });
const toCsv = (rows) => `${names.join(',')}\n${rows.map((r) => names.map((n) => r[n]).join(',')).join('\n')}\n`;
writeFileSync(join(csvDir, 'reference.csv'), toCsv(reference));
writeFileSync(join(csvDir, 'current.csv'), toCsv(current));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timeRun = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - t0, r };
};
const cliRuns = [];
const nodeRuns = [];
let cliOut;
for (let i = 0; i < REPEATS; i++) {
  const { ms, r } = timeRun([join(REPO_ROOT, 'dist/cli/main.js'), 'drift', '--baseline-data', join(csvDir, 'reference.csv'), '--new-data', join(csvDir, 'current.csv'), '--json']);
  if (r.status !== 0 && r.status !== 1) throw new Error(`vitals drift failed (${r.status}): ${r.stderr}`);
  cliOut = JSON.parse(r.stdout);
  cliRuns.push(ms);
  nodeRuns.push(timeRun(['-e', '0']).ms);
}
const sameDecisions = JSON.stringify([...cliOut.drifted_features].sort()) === JSON.stringify([...result.drifted_features].sort());
console.log(
  `vitals drift end to end:  ${round(median(cliRuns))} ms (median of ${REPEATS}; node -e 0: ${round(median(nodeRuns))} ms); drifted ${cliOut.drifted_features.length}, ${sameDecisions ? 'the same features as computeDataDrift' : 'NOT the same features as computeDataDrift'}`,
);
rmSync(csvDir, { recursive: true, force: true });
if (!sameDecisions) process.exitCode = 1;
console.log('Evidently: not measured (its dependency tree is large; not installed in this run).');
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(
  join(RESULTS_DIR, 'drift.json'),
  JSON.stringify(
    {
      features: FEATURES,
      reference_rows: REF_ROWS,
      current_rows: CUR_ROWS,
      vitals_ms: vitalsMs,
      cli_end_to_end_ms: median(cliRuns),
      node_start_ms: median(nodeRuns),
      scipy_ms: scipyMs,
      max_rel_pvalue_error: maxRelError,
      date: new Date().toISOString(),
    },
    null,
    2,
  ),
);
