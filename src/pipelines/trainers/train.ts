/**
 * One entry point for the built-in tabular trainers: split, fit, evaluate on
 * the held-out split, export to ONNX.
 */
import { VitalsError } from '../../errors.js';
import { classificationMetrics, multiclassMetrics } from '../../stats/classification-metrics.js';
import { stratifiedSplit, type TabularDataset } from './dataset.js';
import { DEFAULT_LOGISTIC_REGRESSION_PARAMS, fitLogisticRegression, logisticRegressionPredictProba, logisticRegressionToOnnx } from './logistic-regression.js';
import { DEFAULT_RANDOM_FOREST_PARAMS, fitRandomForest, randomForestPredict, randomForestPredictProba, randomForestToOnnx } from './random-forest.js';

export type TabularAlgo = 'logreg' | 'rf';

export interface TrainTabularOptions {
  algo: TabularAlgo;
  /** Seeds the split and any sampling (default 42). */
  seed?: number;
  /** Share of rows held out for metrics (default 0.2). */
  testFraction?: number;
  /**
   * Hyper-parameters, sklearn-style names. logreg: C, max_iter, tol.
   * rf: n_estimators, max_depth, min_samples_leaf, min_samples_split, max_features.
   */
  params?: Record<string, number>;
  /** Progress: per L-BFGS iteration (logreg) or per tree (rf). */
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface TabularMetrics {
  accuracy: number;
  /** Binary: of the positive class labels[1]. Multi-class: macro averages. */
  precision: number;
  recall: number;
  f1: number;
  /** null when undefined (the test split holds a single class). */
  roc_auc: number | null;
  n_train: number;
  n_test: number;
}

export interface TrainedTabularModel {
  algo: TabularAlgo;
  /** ONNX model: input `input` float [N, F]; outputs `label` int64 [N], `probabilities` float [N, C]. */
  onnx: Uint8Array;
  featureNames: string[];
  /** Class names; class index i (the ONNX `label`) means labels[i]. */
  labels: string[];
  /** Evaluated on the held-out test split. */
  metrics: TabularMetrics;
  /** All hyper-parameters used, defaults filled in. */
  params: Record<string, number>;
  seed: number;
  /** Feature rows of the training split (e.g. as a drift-monitoring baseline). */
  trainRows: number[][];
  /** Class probabilities, one row per sample, matching the ONNX `probabilities` output. */
  predictProba(X: number[][]): number[][];
  /** Class indices, matching the ONNX `label` output. */
  predict(X: number[][]): number[];
}

const DEFAULT_PARAMS: Record<TabularAlgo, Record<string, number>> = {
  logreg: { ...DEFAULT_LOGISTIC_REGRESSION_PARAMS },
  rf: { ...DEFAULT_RANDOM_FOREST_PARAMS },
};

function resolveParams(algo: TabularAlgo, given: Record<string, number> = {}): Record<string, number> {
  const defaults = DEFAULT_PARAMS[algo];
  for (const [key, value] of Object.entries(given)) {
    if (!(key in defaults)) {
      throw new VitalsError('VALIDATION_FAILED', `unknown ${algo} parameter "${key}"; known: ${Object.keys(defaults).join(', ')}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new VitalsError('VALIDATION_FAILED', `${algo} parameter "${key}" must be a finite number, got ${value}`);
    }
  }
  return { ...defaults, ...given };
}

const argmax = (p: number[]) => p.indexOf(Math.max(...p));

/** values[i] for each split index i; the split comes from values' own length, so a miss is a bug. */
function pick<T>(values: readonly T[], indices: readonly number[], what: string): T[] {
  return indices.map((i) => {
    const value = values[i];
    if (value === undefined) throw new Error(`split index ${i} out of range for ${what} (${values.length} entries)`);
    return value;
  });
}

export function trainTabularClassifier(data: TabularDataset, opts: TrainTabularOptions): TrainedTabularModel {
  const { algo, seed = 42, testFraction = 0.2, onProgress } = opts;
  if (algo !== 'logreg' && algo !== 'rf') throw new VitalsError('VALIDATION_FAILED', `unknown algo "${algo}" (expected logreg or rf)`);
  const params = resolveParams(algo, opts.params);
  const nClasses = data.labels.length;
  if (nClasses < 2) throw new VitalsError('VALIDATION_FAILED', `need at least 2 classes in the target, found ${nClasses}`);

  const split = stratifiedSplit(data.X.length, data.y, testFraction, seed);
  const trainRows = pick(data.X, split.train, 'X');
  const yTrain = pick(data.y, split.train, 'y');
  const testRows = pick(data.X, split.test, 'X');
  const yTest = pick(data.y, split.test, 'y');
  const meta = { featureNames: data.featureNames, labels: data.labels, metadata: { algo } };

  let onnx: Uint8Array;
  let predictProba: (X: number[][]) => number[][];
  let predict: (X: number[][]) => number[];
  if (algo === 'logreg') {
    const model = fitLogisticRegression(trainRows, yTrain, nClasses, params, (iter, max, loss) => onProgress?.(iter, max, `iteration ${iter}: loss ${loss.toFixed(6)}`));
    // resolveParams fills in every default, so the fallback never applies.
    const maxIter = params.max_iter ?? DEFAULT_LOGISTIC_REGRESSION_PARAMS.max_iter;
    onProgress?.(maxIter, maxIter, model.converged ? `converged after ${model.iterations} iterations` : `stopped after ${model.iterations} iterations`);
    onnx = logisticRegressionToOnnx(model, meta);
    predictProba = (X) => logisticRegressionPredictProba(model, X);
    predict = (X) => predictProba(X).map(argmax);
  } else {
    // A different stream from the split's, derived from the same seed.
    const model = fitRandomForest(trainRows, yTrain, nClasses, params, (seed ^ 0x5bd1e995) >>> 0, (done, total) => onProgress?.(done, total, `tree ${done}/${total}`));
    onnx = randomForestToOnnx(model, meta);
    predictProba = (X) => randomForestPredictProba(model, X);
    predict = (X) => randomForestPredict(model, X);
  }

  const testProba = predictProba(testRows);
  const testPred = predict(testRows);
  const m =
    nClasses === 2
      ? classificationMetrics(
          yTest,
          testPred,
          testProba.map((p) => {
            const positive = p[1];
            if (positive === undefined) throw new Error('binary classifier returned fewer than 2 probabilities');
            return positive;
          }),
          1,
        )
      : multiclassMetrics(yTest, testPred, nClasses, testProba);

  return {
    algo,
    onnx,
    featureNames: data.featureNames,
    labels: data.labels,
    metrics: {
      accuracy: m.accuracy,
      precision: m.precision,
      recall: m.recall,
      f1: m.f1,
      roc_auc: m.roc_auc ?? null,
      n_train: trainRows.length,
      n_test: testRows.length,
    },
    params,
    seed,
    trainRows,
    predictProba,
    predict,
  };
}
