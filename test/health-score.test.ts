import { describe, expect, it } from 'vitest';
import { healthBand, healthScore } from '../src/monitoring/health-score.js';

describe('health score', () => {
  it('is 1 with nothing wrong and falls into the documented bands', () => {
    expect(healthScore({ driftShare: 0, accuracyDecay: 0, decayThreshold: 0.05, errorRate: 0, p95LatencyMs: 100 }).score).toBe(1);
    expect(healthScore({ driftShare: null, accuracyDecay: null, decayThreshold: 0.05, errorRate: null, p95LatencyMs: null }).band).toBe('good');
    // 10 points of decay with threshold 0.05 is the full quality penalty (0.35).
    const decayed = healthScore({ driftShare: 0, accuracyDecay: 0.1, decayThreshold: 0.05, errorRate: 0, p95LatencyMs: 100 });
    expect(decayed.score).toBeCloseTo(0.65, 10);
    expect(decayed.band).toBe('warning');
    const bad = healthScore({ driftShare: 0.5, accuracyDecay: 0.1, decayThreshold: 0.05, errorRate: 0.1, p95LatencyMs: 3000 });
    expect(bad.score).toBeCloseTo(0, 10);
    expect(bad.band).toBe('critical');
    expect([healthBand(0.81), healthBand(0.8), healthBand(0.6), healthBand(0.59)]).toEqual(['good', 'warning', 'warning', 'critical']);
  });
});
