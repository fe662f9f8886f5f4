// Error rates of the monitoring decisions (issue 18), measured on generated data with fixed seeds:
// the model-level drift alarm (Holm across 50 features) with no drift, its detection rate with 10
// of 50 features shifted by 0.2 sd or scaled ×1.3, and — as the reference measured in the same run —
// the old rule (any feature at raw p < 0.05 with effect >= 0.1) on the same windows.
//
//   npm run build && node bench/monitoring-decisions.mjs [windows=1000]
//
// Exits 1 when an error rate is significantly above its target (one-sided binomial test at 0.01),
// so the script is a smoke test too. Results go to bench/results/monitoring-decisions.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeDataDrift } from '../dist/monitoring/drift-report.js';
import { mulberry32 } from '../dist/stats/random.js';
import { buildReferenceProfile } from '../dist/stats/reference-profile.js';
import { RESULTS_DIR } from './lib/common.mjs';

const WINDOWS = Number(process.argv[2] ?? 1000);
const FEATURES = 50;
const ROWS = 1000;
const names = Array.from({ length: FEATURES }, (_, j) => `f${j}`);

function normalSource(seed) {
  const rng = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}
const table = (normal, t = (_j, z) => z) => Array.from({ length: ROWS }, () => Object.fromEntries(names.map((n, j) => [n, t(j, normal())])));

function scenario(name, seed, transform) {
  const normal = normalSource(seed);
  let alarms = 0;
  let oldAlarms = 0;
  let wrongWindows = 0;
  const started = Date.now();
  for (let w = 0; w < WINDOWS; w++) {
    const profile = buildReferenceProfile(table(normal), { maxSample: ROWS, seed: w });
    const r = computeDataDrift(profile, table(normal, transform), { threshold: 0.1 });
    if (r.drift_detected) alarms++;
    if (Object.values(r.feature_drifts).some((f) => f.p_value < 0.05 && f.effect >= 0.1)) oldAlarms++;
    if (r.drifted_features.some((f) => !transform || Number(f.slice(1)) >= 10)) wrongWindows++;
  }
  const out = {
    scenario: name,
    windows: WINDOWS,
    alarm_rate: alarms / WINDOWS,
    old_rule_alarm_rate: oldAlarms / WINDOWS,
    windows_with_a_wrong_feature: wrongWindows / WINDOWS,
    seconds: (Date.now() - started) / 1000,
  };
  console.log(JSON.stringify(out));
  return out;
}

/** P(X >= k) for X ~ Binomial(n, p). */
function binomUpper(k, n, p) {
  let term = (1 - p) ** n;
  let cdf = 0;
  for (let i = 0; i < k; i++) {
    cdf += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.max(0, 1 - cdf);
}

const results = [scenario('no drift', 1801), scenario('10 of 50 shifted 0.2 sd', 1802, (j, z) => (j < 10 ? z + 0.2 : z)), scenario('10 of 50 scaled x1.3', 1803, (j, z) => (j < 10 ? 1.3 * z : z))];
const problems = [];
const pNull = binomUpper(Math.round(results[0].alarm_rate * WINDOWS), WINDOWS, 0.05);
if (pNull < 0.01) problems.push(`no-drift alarm rate ${results[0].alarm_rate} is significantly above 0.05 (p = ${pNull})`);
for (const r of results.slice(1)) if (r.alarm_rate < 0.95) problems.push(`${r.scenario}: detection ${r.alarm_rate} < 0.95`);
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'monitoring-decisions.json'), JSON.stringify({ results, problems }, null, 2));
for (const p of problems) console.error(`FAIL ${p}`);
process.exitCode = problems.length ? 1 : 0;
