/**
 * Logistic regression (binary, or multinomial for 3+ classes) on standardised
 * features with an L2 penalty, fitted by L-BFGS (deterministic, no sampling).
 *
 * The objective is sklearn's LogisticRegression(C=...) on StandardScaler
 * output: sum of cross-entropy + ||W||^2 / (2C), bias not penalised. We
 * minimise it divided by n, which has the same minimiser.
 */
import { VitalsError } from '../../errors.js';
import { attr, encodeModel, node, tensor, valueInfo } from '../../onnx/model.js';

export interface LogisticRegressionParams {
  /** Inverse L2 strength, as in sklearn (default 1). */
  C: number;
  /** L-BFGS iterations (default 200). */
  max_iter: number;
  /** Stop when the largest gradient component (per sample) is below this (default 1e-6). */
  tol: number;
}

export const DEFAULT_LOGISTIC_REGRESSION_PARAMS: LogisticRegressionParams = { C: 1, max_iter: 200, tol: 1e-6 };

export interface LogisticRegressionModel {
  nClasses: number;
  /** Standardisation: z = (x - mean) / scale. */
  mean: number[];
  scale: number[];
  /**
   * weights[k][f] for k < K, where K = 1 for binary (the logit of class 1)
   * and K = nClasses for multinomial.
   */
  weights: number[][];
  bias: number[];
  iterations: number;
  converged: boolean;
}

/** Called once per L-BFGS iteration. */
export type IterationCallback = (iteration: number, maxIterations: number, loss: number) => void;

// ---------------------------------------------------------------------------
// Fitting

function standardiser(X: number[][]): { mean: number[]; scale: number[] } {
  const n = X.length;
  const first = X[0];
  if (!first) throw new Error('standardiser: no samples');
  const F = first.length;
  const mean = new Array<number>(F).fill(0);
  const scale = new Array<number>(F).fill(0);
  // `!` below: f < F and every row, mean and scale have F entries.
  for (const row of X) for (let f = 0; f < F; f++) mean[f]! += row[f]! / n;
  for (const row of X) for (let f = 0; f < F; f++) scale[f]! += (row[f]! - mean[f]!) ** 2 / n;
  // Population std like sklearn's StandardScaler; constant features keep scale 1.
  return { mean, scale: scale.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/**
 * Mean penalised cross-entropy and its gradient. theta holds K rows of
 * [w_0 .. w_{F-1}, b].
 */
function lossAndGradient(theta: Float64Array, Z: Float64Array[], y: readonly number[], K: number, C: number): { loss: number; grad: Float64Array } {
  const n = Z.length;
  const first = Z[0];
  if (!first) throw new Error('lossAndGradient: no samples');
  const F = first.length;
  const stride = F + 1;
  const grad = new Float64Array(theta.length);
  const logits = new Float64Array(K);
  let loss = 0;
  // `!` below: theta and grad hold K * stride entries, logits K, every z F,
  // and k < K, f <= F by the loop bounds; y has one in-range label per sample.
  for (let i = 0; i < n; i++) {
    const z = Z[i];
    const target = y[i];
    if (!z || target === undefined) throw new Error(`lossAndGradient: sample ${i} has no row or label`);
    for (let k = 0; k < K; k++) {
      let s = theta[k * stride + F]!;
      for (let f = 0; f < F; f++) s += theta[k * stride + f]! * z[f]!;
      logits[k] = s;
    }
    if (K === 1) {
      // Binary: p = sigmoid(s); loss = softplus(s) - y*s, computed stably.
      const s = logits[0]!;
      loss += Math.max(s, 0) + Math.log1p(Math.exp(-Math.abs(s))) - target * s;
      const residual = 1 / (1 + Math.exp(-s)) - target;
      for (let f = 0; f < F; f++) grad[f]! += residual * z[f]!;
      grad[F]! += residual;
    } else {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logits[k]!);
      let sumExp = 0;
      for (let k = 0; k < K; k++) sumExp += Math.exp(logits[k]! - max);
      loss += max + Math.log(sumExp) - logits[target]!;
      for (let k = 0; k < K; k++) {
        const residual = Math.exp(logits[k]! - max) / sumExp - (target === k ? 1 : 0);
        for (let f = 0; f < F; f++) grad[k * stride + f]! += residual * z[f]!;
        grad[k * stride + F]! += residual;
      }
    }
  }
  const lambda = 1 / C;
  for (let k = 0; k < K; k++) {
    for (let f = 0; f < F; f++) {
      const w = theta[k * stride + f]!;
      loss += (lambda / 2) * w * w;
      grad[k * stride + f]! += lambda * w;
    }
  }
  for (let j = 0; j < grad.length; j++) grad[j]! /= n;
  return { loss: loss / n, grad };
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  // `!`: callers pass equal-length vectors and i < a.length.
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search. Enough for a
 * smooth, strictly convex objective like penalised logistic loss.
 */
function lbfgs(
  objective: (x: Float64Array) => { loss: number; grad: Float64Array },
  x0: Float64Array,
  maxIter: number,
  tol: number,
  onIteration?: IterationCallback,
): { x: Float64Array; iterations: number; converged: boolean } {
  const memory = 10;
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  let x = x0;
  let { loss, grad } = objective(x);
  const maxAbs = (v: Float64Array) => v.reduce((m, g) => Math.max(m, Math.abs(g)), 0);

  for (let iter = 1; iter <= maxIter; iter++) {
    if (maxAbs(grad) < tol) return { x, iterations: iter - 1, converged: true };

    // Two-loop recursion: direction = -H * grad.
    const q = Float64Array.from(grad);
    const alphas: number[] = [];
    // `!` in the loops below: i < q.length, and every history vector, grad,
    // direction and x have the same length as q.
    for (let j = sHistory.length - 1; j >= 0; j--) {
      const sj = sHistory[j];
      const yj = yHistory[j];
      if (!sj || !yj) throw new Error(`lbfgs: history entry ${j} missing`);
      const a = dot(sj, q) / dot(yj, sj);
      alphas[j] = a;
      for (let i = 0; i < q.length; i++) q[i]! -= a * yj[i]!;
    }
    const sLast = sHistory[sHistory.length - 1];
    const yLast = yHistory[yHistory.length - 1];
    if (sLast && yLast) {
      const gamma = dot(sLast, yLast) / dot(yLast, yLast);
      for (let i = 0; i < q.length; i++) q[i]! *= gamma;
    } else {
      const norm = Math.sqrt(dot(grad, grad));
      for (let i = 0; i < q.length; i++) q[i]! /= Math.max(norm, 1);
    }
    for (let j = 0; j < sHistory.length; j++) {
      const sj = sHistory[j];
      const yj = yHistory[j];
      const aj = alphas[j];
      if (!sj || !yj || aj === undefined) throw new Error(`lbfgs: history entry ${j} missing`);
      const b = dot(yj, q) / dot(yj, sj);
      for (let i = 0; i < q.length; i++) q[i]! += sj[i]! * (aj - b);
    }
    const direction = q.map((v) => -v);
    let slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart with steepest descent.
      sHistory.length = 0;
      yHistory.length = 0;
      for (let i = 0; i < direction.length; i++) direction[i] = -grad[i]!;
      slope = -dot(grad, grad);
    }

    let step = 1;
    let next: Float64Array;
    let evaluated: { loss: number; grad: Float64Array };
    for (;;) {
      next = x.map((v, i) => v + step * direction[i]!);
      evaluated = objective(next);
      if (evaluated.loss <= loss + 1e-4 * step * slope || step < 1e-12) break;
      step /= 2;
    }

    const s = next.map((v, i) => v - x[i]!);
    const yDiff = evaluated.grad.map((g, i) => g - grad[i]!);
    if (dot(s, yDiff) > 1e-12) {
      sHistory.push(s);
      yHistory.push(yDiff);
      if (sHistory.length > memory) {
        sHistory.shift();
        yHistory.shift();
      }
    }
    const previousLoss = loss;
    x = next;
    ({ loss, grad } = evaluated);
    onIteration?.(iter, maxIter, loss);
    // No measurable progress left in float64: as converged as it will get.
    if (previousLoss - loss <= 1e-14 * Math.max(1, Math.abs(loss))) {
      return { x, iterations: iter, converged: true };
    }
  }
  return { x, iterations: maxIter, converged: maxAbs(grad) < tol };
}

export function fitLogisticRegression(X: number[][], y: readonly number[], nClasses: number, params: Partial<LogisticRegressionParams> = {}, onIteration?: IterationCallback): LogisticRegressionModel {
  const p = { ...DEFAULT_LOGISTIC_REGRESSION_PARAMS, ...params };
  if (X.length === 0) throw new VitalsError('VALIDATION_FAILED', 'cannot fit logistic regression on zero samples');
  if (nClasses < 2) throw new VitalsError('VALIDATION_FAILED', 'logistic regression needs at least 2 classes');
  if (!(p.C > 0)) throw new VitalsError('VALIDATION_FAILED', `C must be > 0, got ${p.C}`);
  if (!Number.isInteger(p.max_iter) || p.max_iter < 1) {
    throw new VitalsError('VALIDATION_FAILED', `max_iter must be a positive integer, got ${p.max_iter}`);
  }
  if (!(p.tol > 0)) throw new VitalsError('VALIDATION_FAILED', `tol must be > 0, got ${p.tol}`);
  const F = X[0]?.length ?? 0;
  const { mean, scale } = standardiser(X);
  // `!`: mean and scale have one entry per feature column f.
  const Z = X.map((row) => Float64Array.from(row, (v, f) => (v - mean[f]!) / scale[f]!));
  const K = nClasses === 2 ? 1 : nClasses;

  const result = lbfgs((theta) => lossAndGradient(theta, Z, y, K, p.C), new Float64Array(K * (F + 1)), p.max_iter, p.tol, onIteration);
  const weights = Array.from({ length: K }, (_, k) => Array.from(result.x.subarray(k * (F + 1), k * (F + 1) + F)));
  // `!`: result.x holds K * (F + 1) entries.
  const bias = Array.from({ length: K }, (_, k) => result.x[k * (F + 1) + F]!);
  return { nClasses, mean, scale, weights, bias, iterations: result.iterations, converged: result.converged };
}

// ---------------------------------------------------------------------------
// Prediction and export

/** Class probabilities, one row per sample (two columns [1-p, p] for binary). */
export function logisticRegressionPredictProba(model: LogisticRegressionModel, X: number[][]): number[][] {
  const { mean, scale, weights, bias } = model;
  return X.map((row) => {
    // `!`: row, mean and scale have one entry per feature f; bias one per weight row k.
    const logits = weights.map((w, k) => w.reduce((s, wf, f) => s + (wf * (row[f]! - mean[f]!)) / scale[f]!, bias[k]!));
    const [only, ...rest] = logits;
    if (only !== undefined && rest.length === 0) {
      const p = 1 / (1 + Math.exp(-only));
      return [1 - p, p];
    }
    const max = Math.max(...logits);
    const exps = logits.map((z) => Math.exp(z - max));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  });
}

/**
 * ONNX graph with plain opset-17 ops:
 *   input [N,F] -> Sub(mean) -> Div(scale) -> MatMul(W) -> Add(b) -> logits
 *   binary:      Sigmoid -> p ; probabilities = Concat(1 - p, p)
 *   multinomial: Softmax(axis 1) -> probabilities
 *   label = ArgMax(probabilities, axis 1)  (int64 class index, first max wins)
 */
export function logisticRegressionToOnnx(model: LogisticRegressionModel, meta: { featureNames: string[]; labels: string[]; metadata?: Record<string, string> }): Uint8Array {
  const F = model.mean.length;
  const K = model.weights.length;
  const C = model.nClasses;
  // MatMul wants W as [F, K]: transpose weights[k][f].
  // `!`: i % K < K rows, each with F columns, and Math.floor(i / K) < F.
  const W = Array.from({ length: F * K }, (_, i) => model.weights[i % K]![Math.floor(i / K)]!);
  const head =
    K === 1
      ? [node('Sigmoid', ['logits'], ['p_positive']), node('Sub', ['one', 'p_positive'], ['p_negative']), node('Concat', ['p_negative', 'p_positive'], ['probabilities'], { axis: attr.int(1) })]
      : [node('Softmax', ['logits'], ['probabilities'], { axis: attr.int(1) })];

  return encodeModel({
    opsetImports: [{ domain: '', version: 17 }],
    docString: `Logistic regression (${K === 1 ? 'binary' : 'multinomial'}) trained by Vitals.`,
    metadata: {
      feature_names: JSON.stringify(meta.featureNames),
      labels: JSON.stringify(meta.labels),
      ...meta.metadata,
    },
    graph: {
      name: 'logistic_regression',
      inputs: [valueInfo('input', 'float', ['N', F])],
      outputs: [valueInfo('label', 'int64', ['N']), valueInfo('probabilities', 'float', ['N', C])],
      initializers: [
        tensor.float('mean', [F], model.mean),
        tensor.float('scale', [F], model.scale),
        tensor.float('weights', [F, K], W),
        tensor.float('bias', [K], model.bias),
        ...(K === 1 ? [tensor.float('one', [1], [1])] : []),
      ],
      nodes: [
        node('Sub', ['input', 'mean'], ['centered']),
        node('Div', ['centered', 'scale'], ['standardized']),
        node('MatMul', ['standardized', 'weights'], ['scores']),
        node('Add', ['scores', 'bias'], ['logits']),
        ...head,
        node('ArgMax', ['probabilities'], ['label'], { axis: attr.int(1), keepdims: attr.int(0) }),
      ],
    },
  });
}
