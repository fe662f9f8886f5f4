import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { parseCsvColumns } from '../src/pipelines/trainers/dataset.js';
import { parseCsv, stratifiedSplit, toTabularDataset, trainTabularClassifier, type TabularAlgo, type TabularDataset, type TrainedTabularModel } from '../src/pipelines/trainers/index.js';

const csv = readFileSync(new URL('../data/breast_cancer/breast_cancer.csv', import.meta.url), 'utf8');
const data = toTabularDataset(csv, 'diagnosis');

const sessions = new WeakMap<TrainedTabularModel, Promise<ort.InferenceSession>>();

async function runOnnx(model: TrainedTabularModel, X: number[][]) {
  if (!sessions.has(model)) sessions.set(model, ort.InferenceSession.create(model.onnx));
  const session = await sessions.get(model)!;
  expect(session.inputNames).toEqual(['input']);
  expect(session.outputNames).toEqual(['label', 'probabilities']);
  const F = model.featureNames.length;
  const input = new ort.Tensor('float32', Float32Array.from(X.flat()), [X.length, F]);
  const out = await session.run({ input });
  expect(out.label.type).toBe('int64');
  expect(out.label.dims).toEqual([X.length]);
  expect(out.probabilities.dims).toEqual([X.length, model.labels.length]);
  const probs = out.probabilities.data as Float32Array;
  const C = model.labels.length;
  return {
    labels: Array.from(out.label.data as BigInt64Array, Number),
    probabilities: X.map((_, i) => Array.from(probs.subarray(i * C, (i + 1) * C))),
  };
}

describe('breast cancer data set', () => {
  it('loads 569 rows x 30 numeric features with sorted labels', () => {
    expect(data.X).toHaveLength(569);
    expect(data.featureNames).toHaveLength(30);
    expect(data.featureNames[0]).toBe('mean_radius');
    expect(data.featureNames[29]).toBe('worst_fractal_dimension');
    expect(data.labels).toEqual(['benign', 'malignant']);
    expect(data.y.filter((c) => c === 1)).toHaveLength(212);
  });
});

describe.each<TabularAlgo>(['logreg', 'rf'])('trainTabularClassifier(%s)', (algo) => {
  const progress: [number, number, string][] = [];
  const model = trainTabularClassifier(data, { algo, seed: 7, onProgress: (d, t, m) => progress.push([d, t, m]) });

  it('reports progress to the end (training time is measured in bench/, not asserted here)', () => {
    expect(progress.length).toBeGreaterThan(5);
    const [done, total] = progress[progress.length - 1];
    expect(done).toBe(total);
  });

  it('reaches accuracy > 0.9 and ROC AUC > 0.95 on the held-out split', () => {
    const m = model.metrics;
    expect(m.n_train + m.n_test).toBe(569);
    expect(m.n_test).toBe(113); // stratified: round(357 * 0.2) + round(212 * 0.2) = 71 + 42
    expect(m.accuracy).toBeGreaterThan(0.9);
    expect(m.roc_auc).toBeGreaterThan(0.95);
    expect(m.precision).toBeGreaterThan(0.85);
    expect(m.recall).toBeGreaterThan(0.85);
    expect(model.trainRows).toHaveLength(m.n_train);
  });

  it('ONNX output equals the in-memory model on every row', async () => {
    const onnx = await runOnnx(model, data.X);
    expect(onnx.labels).toEqual(model.predict(data.X));
    const expected = model.predictProba(data.X);
    let maxDiff = 0;
    onnx.probabilities.forEach((row, i) => row.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(p - expected[i][c])))));
    expect(maxDiff).toBeLessThan(1e-5);
    // Labels are the most probable class.
    onnx.labels.forEach((label, i) => expect(expected[i][label]).toBeGreaterThanOrEqual(0.5));
  });

  it('agrees on single-row batches too (onnxruntime parallelises differently for N = 1)', async () => {
    for (const row of data.X.slice(0, 25)) {
      const onnx = await runOnnx(model, [row]);
      expect(onnx.labels).toEqual(model.predict([row]));
      onnx.probabilities[0].forEach((p, c) => expect(p).toBeCloseTo(model.predictProba([row])[0][c], 5));
    }
  });

  it('is deterministic for a given seed', () => {
    const again = trainTabularClassifier(data, { algo, seed: 7 });
    expect(again.onnx).toEqual(model.onnx);
    expect(again.metrics).toEqual(model.metrics);
  });
});

describe('trainTabularClassifier options', () => {
  it('supports three classes (multinomial logreg, multi-class forest)', async () => {
    // Three well-separated 2-D blobs.
    const rows: string[] = ['x,y,cls'];
    for (let i = 0; i < 90; i++) {
      const c = i % 3;
      const jitter = ((i * 37) % 11) / 11 - 0.5;
      rows.push(`${c * 3 + jitter},${(c === 1 ? 3 : 0) + jitter * 0.7},${['a', 'b', 'c'][c]}`);
    }
    const blobs = toTabularDataset(rows.join('\n'), 'cls');
    for (const algo of ['logreg', 'rf'] as const) {
      const model = trainTabularClassifier(blobs, { algo, params: algo === 'rf' ? { n_estimators: 20 } : {} });
      expect(model.metrics.accuracy).toBe(1);
      const onnx = await runOnnx(model, blobs.X);
      expect(onnx.labels).toEqual(model.predict(blobs.X));
      expect(onnx.labels).toEqual(blobs.y);
      const expected = model.predictProba(blobs.X);
      onnx.probabilities.forEach((row, i) => row.forEach((p, c) => expect(p).toBeCloseTo(expected[i][c], 5)));
    }
  });

  it('rejects unknown parameters', () => {
    expect(() => trainTabularClassifier(data, { algo: 'rf', params: { trees: 10 } })).toThrow(/unknown rf parameter "trees"/);
  });
});

describe('dataset helpers', () => {
  it('parses quoted fields, CRLF and blank lines', () => {
    const parsed = parseCsv('a,"b, quoted",c\r\n1,"say ""hi""",3\r\n\r\n"4","multi\nline",6\n');
    expect(parsed.columns).toEqual(['a', 'b, quoted', 'c']);
    expect(parsed.rows).toEqual([
      ['1', 'say "hi"', '3'],
      ['4', 'multi\nline', '6'],
    ]);
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/line 2: expected 2 fields/);
  });

  it('reads the same CSV column by column, with or without quotes (fast path), with the same errors', () => {
    const texts = ['\ufeffa, b ,c\r\n1,2,3\r\n\r\n  \n4,,6\r7,8,9', 'a,"b, quoted",c\r\n1,"say ""hi""",3\r\n\r\n"4","multi\nline",6\n', 'x\n1\n2\n', 'only,header\n'];
    for (const text of texts) {
      const { columns, rows } = parseCsv(text);
      const byColumns = parseCsvColumns(text, (v) => `<${v}>`);
      expect(byColumns.columns).toEqual(columns);
      expect(byColumns.values).toEqual(columns.map((_, j) => rows.map((r) => `<${r[j]}>`)));
    }
    expect(parseCsvColumns('a,b\n1,2\n', Number).values).toEqual([[1], [2]]);
    for (const bad of ['a,b\n1,2\n\n3\n', 'a,"b"\n1,2\n\n3\n']) {
      expect(() => parseCsv(bad)).toThrow(/CSV line 4: expected 2 fields/);
      expect(() => parseCsvColumns(bad, String)).toThrow(/CSV line 4: expected 2 fields/);
    }
    expect(() => parseCsvColumns('\n\n', String)).toThrow(/no header row/);
  });

  it('names the column and row of a non-numeric feature', () => {
    expect(() => toTabularDataset('f1,f2,y\n1,2,a\n3,oops,b\n', 'y')).toThrow(/column "f2", data row 2: "oops" is not a number/);
    expect(() => toTabularDataset('f1,y\n1,a\n', 'label')).toThrow(/target column "label" not found/);
  });

  it('sorts numeric labels numerically', () => {
    const d: TabularDataset = toTabularDataset('f,y\n1,10\n2,2\n3,10\n', 'y');
    expect(d.labels).toEqual(['2', '10']);
    expect(d.y).toEqual([1, 0, 1]);
  });

  it('splits stratified and reproducibly', () => {
    const y = Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0));
    const a = stratifiedSplit(100, y, 0.2, 1);
    expect(a.test).toHaveLength(20);
    expect(a.test.filter((i) => y[i] === 1)).toHaveLength(6);
    expect([...a.train, ...a.test].sort((p, q) => p - q)).toEqual(y.map((_, i) => i));
    expect(stratifiedSplit(100, y, 0.2, 1)).toEqual(a);
    expect(stratifiedSplit(100, y, 0.2, 2)).not.toEqual(a);
  });
});
