/**
 * Quality of the CheXpert-style report labeler (src/multimodal/chexpert-labeler.ts) on sentences the
 * project wrote and labelled (test/fixtures/reports/chexpert-sentences.json, licence in LICENSE.md
 * beside it): per observation, precision and recall of a label (positive, negative or uncertain)
 * being the expected one, and per label kind across observations. Printed, and held to floors
 * just under what the labeler reaches.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OBSERVATIONS, type Observation, type ObservationLabel, labelReport } from '../src/multimodal/index.js';

interface Labelled {
  text: string;
  split: 'dev' | 'heldout';
  labels: Partial<Record<Observation, ObservationLabel>>;
}
const set = JSON.parse(readFileSync(new URL('./fixtures/reports/chexpert-sentences.json', import.meta.url), 'utf8')) as { sentences: Labelled[] };

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  n: number;
}
const zero = (): Counts => ({ tp: 0, fp: 0, fn: 0, n: 0 });
const precision = (c: Counts) => (c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp));
const recall = (c: Counts) => (c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn));

function evaluate(split: Labelled['split']) {
  const sentences = set.sentences.filter((s) => s.split === split);
  const perObservation = Object.fromEntries(OBSERVATIONS.map((o) => [o, zero()])) as Record<Observation, Counts>;
  const perLabel = { positive: zero(), negative: zero(), uncertain: zero() } as Record<ObservationLabel, Counts>;
  const all = zero();
  const errors: string[] = [];
  let exact = 0;
  for (const s of sentences) {
    const got = labelReport(s.text).observations;
    let right = true;
    for (const o of OBSERVATIONS) {
      const want = s.labels[o] ?? null;
      const have = got[o];
      const c = perObservation[o];
      if (want) c.n++;
      if (have !== null && have === want) c.tp++;
      if (have !== null && have !== want) c.fp++;
      if (want !== null && have !== want) c.fn++;
      for (const kind of ['positive', 'negative', 'uncertain'] as const) {
        const k = perLabel[kind];
        if (want === kind) k.n++;
        if (have === kind && want === kind) k.tp++;
        else if (have === kind) k.fp++;
        else if (want === kind) k.fn++;
      }
      if (have !== want) {
        right = false;
        errors.push(`${o}: ${have ?? 'absent'}, labelled ${want ?? 'absent'}, in "${s.text}"`);
      }
    }
    if (right) exact++;
  }
  for (const c of Object.values(perObservation)) {
    all.tp += c.tp;
    all.fp += c.fp;
    all.fn += c.fn;
    all.n += c.n;
  }
  return { sentences: sentences.length, perObservation, perLabel, all, exact, errors };
}

const f3 = (x: number) => x.toFixed(3);
function print(name: string, r: ReturnType<typeof evaluate>) {
  const row = (label: string, c: Counts) => `  ${label.padEnd(28)} ${String(c.n).padStart(4)}  ${f3(precision(c))}  ${f3(recall(c))}`;
  console.log(
    [
      `${name}: ${r.sentences} labelled sentences, ${r.exact} labelled exactly right (all 14 observations)`,
      `  ${'observation'.padEnd(28)} ${'n'.padStart(4)}  P      R`,
      ...OBSERVATIONS.map((o) => row(o, r.perObservation[o])),
      row('all observations', r.all),
      ...(['positive', 'negative', 'uncertain'] as const).map((k) => row(`label ${k}`, r.perLabel[k])),
      `  errors (${r.errors.length}):`,
      ...r.errors.map((e) => `    - ${e}`),
    ].join('\n'),
  );
}

describe('CheXpert-style labeler on the project-written sentences', () => {
  it('dev split (written with the phrase lists)', () => {
    const r = evaluate('dev');
    print('dev', r);
    expect(r.sentences).toBeGreaterThanOrEqual(150);
    expect(precision(r.all)).toBeGreaterThanOrEqual(DEV_FLOOR.all);
    expect(recall(r.all)).toBeGreaterThanOrEqual(DEV_FLOOR.all);
    for (const o of OBSERVATIONS) {
      expect(precision(r.perObservation[o]), `${o} precision`).toBeGreaterThanOrEqual(DEV_FLOOR.observation);
      expect(recall(r.perObservation[o]), `${o} recall`).toBeGreaterThanOrEqual(DEV_FLOOR.observation);
    }
  });

  it('held-out split (written after the phrase lists, scored once)', () => {
    const r = evaluate('heldout');
    print('held-out', r);
    expect(r.sentences).toBeGreaterThanOrEqual(80);
    expect(precision(r.all)).toBeGreaterThanOrEqual(HELDOUT_FLOOR.precision);
    expect(recall(r.all)).toBeGreaterThanOrEqual(HELDOUT_FLOOR.recall);
    for (const kind of ['positive', 'negative', 'uncertain'] as const) {
      expect(precision(r.perLabel[kind]), `${kind} precision`).toBeGreaterThanOrEqual(HELDOUT_FLOOR.label[kind]);
      expect(recall(r.perLabel[kind]), `${kind} recall`).toBeGreaterThanOrEqual(HELDOUT_FLOOR.label[kind]);
    }
    for (const o of OBSERVATIONS) {
      expect(precision(r.perObservation[o]), `${o} precision`).toBeGreaterThanOrEqual(HELDOUT_FLOOR.observation);
      expect(recall(r.perObservation[o]), `${o} recall`).toBeGreaterThanOrEqual(HELDOUT_FLOOR.observation);
    }
  });
});

/**
 * Floors just under the scores reached. Dev (189 sentences, in-sample): every observation 1.000.
 * Held-out (91 sentences, scored once with the labeler as committed): all observations P 0.986,
 * R 0.966; positive 0.978/0.978, negative 1.000/0.974, uncertain 1.000/0.867; the lowest
 * observation Lung Lesion 0.800/0.800 (5 labels).
 */
const DEV_FLOOR = { all: 0.99, observation: 0.95 };
const HELDOUT_FLOOR = { precision: 0.98, recall: 0.96, label: { positive: 0.97, negative: 0.97, uncertain: 0.85 }, observation: 0.8 };
