/**
 * Pure statistics for Vitals (no I/O): drift tests and distances for model monitoring, A/B test
 * statistics, classification metrics and reference profiles. p-values are computed to match
 * SciPy / statsmodels (see test/fixtures/stats and scripts/stats-fixtures).
 */
export { chi2Sf, normalSf, normalTwoSidedPValue, normalPpf } from './special.js';
export { tTwoSidedPValue, tPpf } from './student-t.js';
export * from './kolmogorov.js';
export * from './ks-two-sample.js';
export * from './chi-square.js';
export * from './distances.js';
export * from './proportions.js';
export * from './welch.js';
export * from './sequential.js';
export * from './reference-profile.js';
export * from './classification-metrics.js';
export * from './multiple-testing.js';
export { regularizedGammaP, regularizedGammaQ } from './incomplete-gamma.js';
export * from './cbpe.js';
