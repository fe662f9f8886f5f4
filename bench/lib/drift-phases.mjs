// Child process of bench/drift.mjs: the phases of `vitals drift` timed in a fresh process, cold as
// the CLI runs them (same modules, same calls as src/cli/main.ts's drift command).
//   node bench/lib/drift-phases.mjs REFERENCE.csv CURRENT.csv THRESHOLD ALPHA  → one JSON line (ms)
const [ref, cur, threshold, alpha] = process.argv.slice(2);
const t0 = performance.now();
const [{ readColumns }, { computeDataDriftOfColumns }, { buildReferenceProfileOfColumns }] = await Promise.all([
  import('../../dist/monitoring/drift-data.js'),
  import('../../dist/monitoring/drift-report.js'),
  import('../../dist/stats/reference-profile.js'),
]);
const t1 = performance.now();
const [b, c] = await Promise.all([readColumns(ref), readColumns(cur)]);
const t2 = performance.now();
const features = b.names.filter((n) => c.names.includes(n));
const profile = buildReferenceProfileOfColumns(b.column, b.length, { features, maxSample: 100_000, categorical: [], maxIntegerCategories: 10 });
const t3 = performance.now();
const result = computeDataDriftOfColumns(profile, c.column, { threshold: Number(threshold), alpha: Number(alpha), correction: 'holm', maxIntegerCategories: 10 });
const t4 = performance.now();
const text = JSON.stringify(result, null, 2);
const t5 = performance.now();
console.log(JSON.stringify({ import: t1 - t0, read_csv: t2 - t1, profile: t3 - t2, statistics: t4 - t3, json: t5 - t4, bytes: text.length }));
