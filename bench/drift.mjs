// Drift check benchmark: 50 numeric features, 10,000 reference rows, 1,000 current rows.
// 1. in process: Vitals' computeDataDrift (KS exact/asymptotic as scipy chooses, plus Wasserstein and
//    PSI per feature) against a scipy.stats.ks_2samp loop over the same data;
// 2. end to end, as a CI job runs it (issue 13): `vitals drift` on two CSV files against Evidently's
//    DataDriftPreset on the same files (a whole python process each run: import, read_csv, report),
//    interleaved, median of --runs; the ratio Evidently ÷ vitals (target ≥ 10×) and the per-feature
//    decisions compared where both apply the same rule:
//      - KS: Evidently's "ks" stat test (drift when p ≤ 0.05) vs Vitals' raw KS p-value ≤ 0.05;
//      - Wasserstein: Evidently's "wasserstein" (W / std(reference) ≥ 0.1, its default for > 1000
//        reference rows) vs Vitals' effect size (the same quantity) ≥ 0.1;
//    and Vitals' own decision (Holm-adjusted KS p < 0.05 AND effect ≥ 0.1) next to Evidently's KS one;
// 3. where `vitals drift`'s time goes: node's start, the CLI's start (`vitals --help`), CSV reading,
//    the reference profile and the statistics (in this process, after a warm-up).
//
//   npm run build && node bench/drift.mjs [--runs 5] [--no-evidently]
//
// scipy comes from the virtualenv made by scripts/stats-fixtures/make-fixtures.sh (.venv/stats);
// Evidently from scripts/bench/evidently-venv.sh (.venv-evidently; run here unless --no-evidently).
// Without them the reference is skipped with a printed line. Exit 1 when the CLI and computeDataDrift
// disagree, or when Evidently and Vitals disagree on a feature under the same rule.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { computeDataDrift } from '../dist/monitoring/drift-report.js';
import { buildReferenceProfile } from '../dist/stats/reference-profile.js';
import { mulberry32 } from '../dist/stats/random.js';
import { REPO_ROOT, RESULTS_DIR, machineBusyMs, machineInfo, printTable, round } from './lib/common.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-evidently': { type: 'boolean', default: false } } });
const FEATURES = 50;
const REF_ROWS = 10_000;
const CUR_ROWS = 1_000;
const REPEATS = 5;
const RUNS = Math.max(1, Number(args.runs));
const ALPHA = 0.05;
const THRESHOLD = 0.1;

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

// ── End to end, as a CI job runs it: the same numbers as CSV files ──────────────────────────────
const csvDir = join(tmpdir(), `vitals-drift-cli-${process.pid}`);
mkdirSync(csvDir, { recursive: true });
const refCsv = join(csvDir, 'reference.csv');
const curCsv = join(csvDir, 'current.csv');
const toCsv = (rows) => `${names.join(',')}\n${rows.map((r) => names.map((n) => r[n]).join(',')).join('\n')}\n`;
writeFileSync(refCsv, toCsv(reference));
writeFileSync(curCsv, toCsv(current));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timeRun = (cmd, argv) => {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - t0, r };
};
const CLI = join(REPO_ROOT, 'dist/cli/main.js');
const cliArgs = [CLI, 'drift', '--baseline-data', refCsv, '--new-data', curCsv, '--threshold', String(THRESHOLD), '--alpha', String(ALPHA), '--json'];

let evidentlyPython = null;
if (args['no-evidently']) console.log('\nEvidently skipped (--no-evidently)');
else {
  const made = spawnSync('bash', [join(REPO_ROOT, 'scripts/bench/evidently-venv.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (made.status === 0) evidentlyPython = made.stdout.trim().split('\n').at(-1);
  else console.log(`\nEvidently skipped: scripts/bench/evidently-venv.sh failed (${made.status})`);
}
const DRIVER = join(REPO_ROOT, 'bench/lib/evidently_drift.py');
const evidently = (method, threshold) => {
  const { ms, r } = timeRun(evidentlyPython, [DRIVER, refCsv, curCsv, method, String(threshold)]);
  if (r.status !== 0) throw new Error(`Evidently (${method}) failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { ms, out: JSON.parse(r.stdout) };
};

console.log(`\nend to end, ${RUNS} interleaved runs each (the machine: ${machineInfo().cpus} cores, shared)…`);
const runs = { cli: [], node: [], help: [], evidently: [] };
let cliOut;
let evKs;
const busy0 = machineBusyMs();
const wall0 = performance.now();
for (let i = 0; i < RUNS; i++) {
  const cli = timeRun(process.execPath, cliArgs);
  if (cli.r.status !== 0 && cli.r.status !== 1) throw new Error(`vitals drift failed (${cli.r.status}): ${cli.r.stderr}`);
  cliOut = JSON.parse(cli.r.stdout);
  runs.cli.push(cli.ms);
  runs.node.push(timeRun(process.execPath, ['-e', '0']).ms);
  runs.help.push(timeRun(process.execPath, [CLI, '--help']).ms);
  if (evidentlyPython) {
    evKs = evidently('ks', ALPHA);
    runs.evidently.push({ ms: evKs.ms, ...evKs.out.ms });
  }
}
const machineLoad = round((machineBusyMs() - busy0) / (performance.now() - wall0), 2);
const sameDecisions = JSON.stringify([...cliOut.drifted_features].sort()) === JSON.stringify([...result.drifted_features].sort());
const cliMs = median(runs.cli);
console.log(
  `vitals drift end to end:  ${round(cliMs)} ms (median of ${RUNS}: ${runs.cli.map((x) => Math.round(x)).join(' ')}); drifted ${cliOut.drifted_features.length}, ${sameDecisions ? 'the same features as computeDataDrift' : 'NOT the same features as computeDataDrift'}`,
);
if (!sameDecisions) process.exitCode = 1;

// Where `vitals drift`'s time goes: its phases timed in fresh processes (cold, as the CLI runs them).
const PHASES = join(REPO_ROOT, 'bench/lib/drift-phases.mjs');
const phaseRuns = Array.from({ length: RUNS }, () => {
  const r = spawnSync(process.execPath, [PHASES, refCsv, curCsv, String(THRESHOLD), String(ALPHA)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`drift-phases failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
});
const phase = (k) => median(phaseRuns.map((x) => x[k]));
const breakdown = {
  node_start: median(runs.node),
  cli_start: median(runs.help) - median(runs.node),
  drift_imports: phase('import'),
  read_csv: phase('read_csv'),
  profile: phase('profile'),
  statistics: phase('statistics'),
};
breakdown.rest = cliMs - Object.values(breakdown).reduce((a, b) => a + b, 0);
console.log('\nwhere `vitals drift` spends its time (median ms; node and CLI start from `node -e 0` and `vitals --help`, the phases timed in fresh processes):');
const label = (k) => k.replace('_', ' ');
printTable([Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [label(k), round(v, 0)]))], Object.keys(breakdown).map(label), 0);
console.log('  (profile: the reference summary and sample; statistics: KS, Wasserstein and PSI of 50 features and the Holm adjustment; rest: JSON output, exit, noise)');

const out = {
  benchmark: 'drift',
  date: new Date().toISOString(),
  machine: { ...machineInfo(), cores_busy_during_end_to_end: machineLoad },
  features: FEATURES,
  reference_rows: REF_ROWS,
  current_rows: CUR_ROWS,
  vitals_ms: vitalsMs,
  scipy_ms: scipyMs,
  max_rel_pvalue_error: maxRelError,
  cli_end_to_end_ms: cliMs,
  cli_runs_ms: runs.cli,
  node_start_ms: median(runs.node),
  cli_breakdown_ms: breakdown,
};

if (evidentlyPython) {
  const evMs = median(runs.evidently.map((x) => x.ms));
  const phase = (k) => round(median(runs.evidently.map((x) => x[k])), 0);
  const ratio = evMs / cliMs;
  console.log(`\nEvidently DataDriftPreset (ks) end to end: ${round(evMs)} ms (median of ${RUNS}: ${runs.evidently.map((x) => Math.round(x.ms)).join(' ')})`);
  console.log(`  its phases (median ms): import ${phase('import')}, read_csv ${phase('read_csv')}, report ${phase('report_run')}, results ${phase('results')}`);
  console.log(`ratio Evidently ÷ vitals drift, end to end: ${round(ratio, 1)}×   (target ≥ 10×; the machine averaged ${machineLoad} cores busy over the runs, theirs included)`);

  // Decisions, feature by feature, where both sides apply the same rule.
  const evW = evidently('wasserstein', THRESHOLD);
  const f = cliOut.feature_drifts;
  const compare = (label, ev, vitalsDecides, detail) => {
    const disagree = names.filter((n) => ev.out.features[n].drifted !== vitalsDecides(f[n]));
    console.log(`  ${label}: ${names.length - disagree.length} of ${names.length} features agree${disagree.length ? `; disagree: ${disagree.map((n) => `${n} (${detail(n)})`).join(', ')}` : ''}`);
    return {
      agree: names.length - disagree.length,
      disagree: disagree.map((n) => ({
        feature: n,
        evidently: ev.out.features[n],
        vitals: { p_value: f[n].p_value, p_value_adjusted: f[n].p_value_adjusted, effect: f[n].effect, drifted: f[n].drifted },
      })),
    };
  };
  const pDetail = (n) =>
    `Evidently p ${evKs.out.features[n].value.toExponential(3)}, Vitals p ${f[n].p_value.toExponential(3)}, adjusted ${f[n].p_value_adjusted.toExponential(3)}, effect ${f[n].effect.toFixed(3)}`;
  console.log('\nper-feature decisions:');
  const ks = compare(`KS test (p ≤ ${ALPHA}), the same test`, evKs, (x) => x.p_value <= ALPHA, pDetail);
  const w = compare(
    `Wasserstein (W/sd ≥ ${THRESHOLD}), the same measure`,
    evW,
    (x) => x.effect >= THRESHOLD,
    (n) => `Evidently ${evW.out.features[n].value.toFixed(4)}, Vitals ${f[n].effect.toFixed(4)}`,
  );
  const own = compare("Vitals' rule (Holm-adjusted p < 0.05 AND effect ≥ 0.1) vs Evidently KS", evKs, (x) => x.drifted, pDetail);
  const maxKsRel = Math.max(...names.map((n) => Math.abs(f[n].p_value - evKs.out.features[n].value) / Math.max(evKs.out.features[n].value, 1e-300)));
  const maxWAbs = Math.max(...names.map((n) => Math.abs(f[n].effect - evW.out.features[n].value)));
  console.log(`  max relative KS p-value difference ${maxKsRel.toExponential(2)}; max Wasserstein/sd difference ${maxWAbs.toExponential(2)}`);
  console.log(`  drifted: Vitals ${cliOut.drifted_features.length}, Evidently KS ${evKs.out.drifted.length}, Evidently Wasserstein ${evW.out.drifted.length} (5 features were shifted by 0.3 sd)`);
  if (ks.disagree.length || w.disagree.length) process.exitCode = 1;
  Object.assign(out, {
    evidently: { version: '0.7.23', preset: 'DataDriftPreset', method: 'ks', threshold: ALPHA, end_to_end_ms: evMs, runs: runs.evidently, wasserstein_run_ms: evW.ms },
    ratio_evidently_over_vitals: round(ratio, 2),
    decisions: { ks_same_test: ks, wasserstein_same_measure: w, vitals_rule_vs_evidently_ks: own, max_rel_ks_pvalue_difference: maxKsRel, max_wasserstein_difference: maxWAbs },
  });
}
rmSync(csvDir, { recursive: true, force: true });
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'drift.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nresults: ${join(RESULTS_DIR, 'drift.json')}`);
