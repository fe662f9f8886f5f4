/**
 * The health score in [0, 1], one number a person can read at a glance:
 *
 *   health = 1 − (0.35·D + 0.35·Q + 0.15·E + 0.15·L)
 *
 *   D (drift)   = min(1, share of drifted features / 0.5)
 *   Q (quality) = min(1, max(0, accuracy decay) / (2 · MODEL_DECAY_THRESHOLD)); 0 while labels are too few
 *   E (errors)  = min(1, error rate / 0.05)
 *   L (latency) = clamp((p95 − 0.5 s) / (2 s − 0.5 s), 0, 1)
 *
 * Bands: good > 0.8, warning 0.6–0.8, critical < 0.6. A component without data adds no penalty.
 */
export type HealthBand = 'good' | 'warning' | 'critical';

export interface HealthInputs {
  driftShare: number | null;
  accuracyDecay: number | null;
  decayThreshold: number;
  errorRate: number | null;
  p95LatencyMs: number | null;
}

export interface HealthScore {
  score: number;
  band: HealthBand;
  components: { drift: number; quality: number; errors: number; latency: number };
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function healthScore(i: HealthInputs): HealthScore {
  const components = {
    drift: i.driftShare === null ? 0 : clamp01(i.driftShare / 0.5),
    quality: i.accuracyDecay === null ? 0 : clamp01(i.accuracyDecay / (2 * i.decayThreshold)),
    errors: i.errorRate === null ? 0 : clamp01(i.errorRate / 0.05),
    latency: i.p95LatencyMs === null ? 0 : clamp01((i.p95LatencyMs - 500) / 1500),
  };
  const score = 1 - (0.35 * components.drift + 0.35 * components.quality + 0.15 * components.errors + 0.15 * components.latency);
  return { score, band: healthBand(score), components };
}

export function healthBand(score: number): HealthBand {
  return score > 0.8 ? 'good' : score >= 0.6 ? 'warning' : 'critical';
}
