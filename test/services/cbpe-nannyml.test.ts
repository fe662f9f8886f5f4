/**
 * CBPE (src/stats/cbpe.ts) against NannyML's CBPE (PyPI nannyml 0.13.1, pinned in .venv/nannyml by
 * scripts/services/nannyml.sh) on the same generated data: estimated accuracy and ROC AUC per chunk
 * of unlabelled data within 0.02, for overconfident (miscalibrated) and for calibrated scores, under
 * covariate shift (the setting CBPE is for). The true values are printed beside both estimates.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateCbpe, fitCbpe } from '../../src/stats/cbpe.js';
import { rocAuc } from '../../src/stats/classification-metrics.js';
import { mulberry32 } from '../../src/stats/random.js';

const PY = process.env.VITALS_NANNYML_PYTHON ?? fileURLToPath(new URL('../../.venv/nannyml/bin/python', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/services/nannyml/cbpe.py', import.meta.url));
const CHUNK = 1000;
const SHIFTS = [0, 0.3, 0.6, -0.5, 1.0, -1.0];

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function generate(seed: number, score: (x: number) => number) {
  const rng = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const rows = (n: number, shift: number) =>
    Array.from({ length: n }, () => {
      const x = gauss() + shift;
      const s = Math.round(score(x) * 1e6) / 1e6; // both sides read the same digits
      return { score: s, pred: s >= 0.5 ? 1 : 0, y: rng() < sigmoid(2 * x) ? 1 : 0 };
    });
  return { reference: rows(5000, 0), analysis: SHIFTS.flatMap((m) => rows(CHUNK, m)) };
}

const toCsv = (rows: Array<{ score: number; pred: number; y: number }>) => ['score,pred,y', ...rows.map((r) => `${r.score},${r.pred},${r.y}`)].join('\n');

describe('CBPE vs NannyML', () => {
  it.each([
    ['overconfident scores', 181, (x: number) => sigmoid(3.5 * x + 0.4)],
    ['calibrated scores', 182, (x: number) => sigmoid(2 * x)],
  ] as const)(
    '%s: accuracy and ROC AUC per chunk within 0.02',
    (name, seed, score) => {
      if (!existsSync(PY)) throw new Error(`no NannyML at ${PY}: run "bash scripts/services/nannyml.sh" first`);
      const { reference, analysis } = generate(seed, score);
      const dir = mkdtempSync(join(tmpdir(), 'vitals-cbpe-'));
      writeFileSync(join(dir, 'reference.csv'), toCsv(reference));
      writeFileSync(join(dir, 'analysis.csv'), toCsv(analysis));
      const nanny = JSON.parse(
        execFileSync(PY, [SCRIPT, join(dir, 'reference.csv'), join(dir, 'analysis.csv'), String(CHUNK)], {
          encoding: 'utf8',
          timeout: 300_000,
          env: { ...process.env, NML_DISABLE_USAGE_LOGGING: '1' },
        }),
      ) as {
        nannyml: string;
        chunks: Array<{ start: number; end: number; accuracy: number; roc_auc: number; accuracy_lower: number; accuracy_upper: number }>;
      };
      expect(nanny.nannyml).toBe('0.13.1');
      expect(nanny.chunks).toHaveLength(SHIFTS.length);

      const model = fitCbpe(
        reference.map((r) => r.score),
        reference.map((r) => r.pred),
        reference.map((r) => r.y),
      );
      const table = nanny.chunks.map((c) => {
        const chunk = analysis.slice(c.start, c.end + 1);
        const ours = estimateCbpe(
          model,
          chunk.map((r) => r.score),
          chunk.map((r) => r.pred),
        );
        const trueAccuracy = chunk.filter((r) => r.pred === r.y).length / chunk.length;
        const trueAuc =
          rocAuc(
            chunk.map((r) => r.y === 1),
            chunk.map((r) => r.score),
          ) ?? NaN;
        expect(Math.abs(ours.accuracy - c.accuracy), `accuracy, chunk ${c.start}`).toBeLessThanOrEqual(0.02);
        expect(Math.abs(ours.roc_auc! - c.roc_auc), `roc_auc, chunk ${c.start}`).toBeLessThanOrEqual(0.02);
        // the band is NannyML's ±3 sampling errors
        expect(Math.abs(ours.accuracy_band[1] - ours.accuracy - (c.accuracy_upper - c.accuracy))).toBeLessThan(1e-3);
        return {
          chunk: c.start,
          ours: +ours.accuracy.toFixed(4),
          nannyml: +c.accuracy.toFixed(4),
          true_accuracy: +trueAccuracy.toFixed(4),
          ours_auc: +ours.roc_auc!.toFixed(4),
          nannyml_auc: +c.roc_auc.toFixed(4),
          true_auc: +trueAuc.toFixed(4),
        };
      });
      console.log(`CBPE vs NannyML, ${name}:`);
      console.table(table);
    },
    600_000,
  );
});
