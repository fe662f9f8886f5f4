/**
 * Random forest classifier: CART trees (Gini impurity) grown on bootstrap
 * samples, trying max_features random features per split. Probabilities are
 * the mean of the trees' leaf class distributions, as in sklearn.
 *
 * Exported to ONNX as one ai.onnx.ml TreeEnsembleClassifier. Two details keep
 * the in-memory model and onnxruntime in exact agreement:
 * - onnxruntime compares float32 inputs with float32 thresholds, so training
 *   sees features rounded to float32, thresholds are float32 values strictly
 *   between two training values, and prediction compares in float32 too.
 * - onnxruntime sums leaf weights in float32, in an order that depends on its
 *   thread pool. Each leaf weight (class share / n_trees) is therefore rounded
 *   to a multiple of 2^-23: every partial sum is then exactly representable,
 *   so the sum is the same in any order and in float64. The cost is an error
 *   below n_trees * 2^-24 (6e-6 for 100 trees) in the probabilities.
 */
import { VitalsError } from '../../errors.js';
import { attr, encodeModel, node, ONNX_ML_DOMAIN, valueInfo } from '../../onnx/model.js';
import { mulberry32, randomInt, type Rng } from './random.js';

export interface RandomForestParams {
  n_estimators: number;
  /** Maximum tree depth (root = depth 0). */
  max_depth: number;
  min_samples_leaf: number;
  min_samples_split: number;
  /** Features tried per split; 0 means floor(sqrt(n_features)). */
  max_features: number;
}

export const DEFAULT_RANDOM_FOREST_PARAMS: RandomForestParams = {
  n_estimators: 100,
  max_depth: 8,
  min_samples_leaf: 1,
  min_samples_split: 2,
  max_features: 0,
};

/** One tree as flat arrays indexed by node id (pre-order; 0 is the root). */
export interface DecisionTree {
  /** Feature tested at each node; -1 for leaves. */
  feature: number[];
  /** float32 thresholds: go left when Math.fround(x[feature]) <= threshold. */
  threshold: number[];
  left: number[];
  right: number[];
  /**
   * Leaves: this tree's quantised contribution to each class probability
   * (leaf class share / n_trees, a multiple of 2^-23). Branches: [].
   */
  votes: number[][];
}

export interface RandomForestModel {
  nClasses: number;
  nFeatures: number;
  trees: DecisionTree[];
}

const VOTE_QUANTUM = 2 ** -23;
const quantiseVote = (share: number, nTrees: number) => Math.round(share / nTrees / VOTE_QUANTUM) * VOTE_QUANTUM;

// ---------------------------------------------------------------------------
// Tree growing

interface GrowContext {
  columns: Float32Array[]; // feature-major training data, float32
  y: Int32Array;
  nClasses: number;
  params: RandomForestParams;
  maxFeatures: number;
  nTrees: number;
  rng: Rng;
}

interface Split {
  feature: number;
  threshold: number;
  /** Samples going left, in the order of the chosen feature's sort. */
  leftSamples: number[];
  rightSamples: number[];
}

/** A float32 threshold t with lo <= t < hi, for float32 lo < hi. */
function thresholdBetween(lo: number, hi: number): number {
  const mid = Math.fround((lo + hi) / 2);
  return mid < hi ? mid : lo;
}

function classCounts(samples: readonly number[], ctx: GrowContext): number[] {
  const counts = new Array<number>(ctx.nClasses).fill(0);
  // `!`: samples index into y, and every label is a class id below nClasses.
  for (const s of samples) counts[ctx.y[s]!]!++;
  return counts;
}

/** Best Gini split over up to maxFeatures random non-constant features, or null. */
function findSplit(samples: number[], counts: number[], ctx: GrowContext): Split | null {
  const { columns, y, params } = ctx;
  const n = samples.length;
  const minLeaf = params.min_samples_leaf;
  const F = columns.length;
  // Partial Fisher–Yates over feature ids. As in sklearn, constant features do
  // not count towards max_features, so we keep drawing until enough were tried.
  const features = Array.from({ length: F }, (_, f) => f);
  let tried = 0;
  let bestScore = -Infinity;
  let best: { feature: number; threshold: number; order: number[]; cut: number } | null = null;

  for (let drawn = 0; drawn < F && tried < ctx.maxFeatures; drawn++) {
    const j = drawn + randomInt(ctx.rng, F - drawn);
    const feature = features[j];
    const displaced = features[drawn];
    const col = feature === undefined ? undefined : columns[feature];
    if (feature === undefined || displaced === undefined || !col) {
      throw new Error(`findSplit: feature slot ${drawn} or ${j} out of range for ${F} features`);
    }
    features[drawn] = feature;
    features[j] = displaced;
    // `!` in the rest of this loop: samples index into col and y (both one
    // entry per training sample), i + 1 < n = order.length, and labels are
    // class ids below nClasses = left.length = right.length.
    const order = samples.slice().sort((a, b) => col[a]! - col[b]!);
    if (col[order[0]!] === col[order[n - 1]!]) continue; // constant here
    tried++;

    // Scan cut points; maximise sum_c(left_c^2)/nLeft + sum_c(right_c^2)/nRight,
    // which minimises the weighted Gini impurity of the children.
    const left = new Array<number>(ctx.nClasses).fill(0);
    const right = counts.slice();
    let sqLeft = 0;
    let sqRight = counts.reduce((s, c) => s + c * c, 0);
    for (let i = 0; i < n - 1; i++) {
      const c = y[order[i]!]!;
      sqLeft += 2 * left[c]! + 1;
      left[c]!++;
      sqRight -= 2 * right[c]! - 1;
      right[c]!--;
      const nLeft = i + 1;
      const lo = col[order[i]!]!;
      const hi = col[order[i + 1]!]!;
      if (lo === hi || nLeft < minLeaf || n - nLeft < minLeaf) continue;
      const score = sqLeft / nLeft + sqRight / (n - nLeft);
      if (score > bestScore) {
        bestScore = score;
        best = { feature, threshold: thresholdBetween(lo, hi), order, cut: nLeft };
      }
    }
  }
  if (!best) return null;
  // Like sklearn, a split that does not lower the impurity is still taken: it
  // can enable useful splits further down (think XOR).
  return {
    feature: best.feature,
    threshold: best.threshold,
    leftSamples: best.order.slice(0, best.cut),
    rightSamples: best.order.slice(best.cut),
  };
}

function growTree(bag: number[], ctx: GrowContext): DecisionTree {
  const tree: DecisionTree = { feature: [], threshold: [], left: [], right: [], votes: [] };

  const grow = (samples: number[], depth: number): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.votes.push([]);

    const counts = classCounts(samples, ctx);
    const pure = counts.some((c) => c === samples.length);
    const { max_depth, min_samples_split, min_samples_leaf } = ctx.params;
    const split = pure || depth >= max_depth || samples.length < min_samples_split || samples.length < 2 * min_samples_leaf ? null : findSplit(samples, counts, ctx);

    if (!split) {
      tree.votes[id] = counts.map((c) => quantiseVote(c / samples.length, ctx.nTrees));
      return id;
    }
    tree.feature[id] = split.feature;
    tree.threshold[id] = split.threshold;
    tree.left[id] = grow(split.leftSamples, depth + 1);
    tree.right[id] = grow(split.rightSamples, depth + 1);
    return id;
  };

  grow(bag, 0);
  return tree;
}

/** Called after each tree. */
export type TreeCallback = (done: number, total: number) => void;

export function fitRandomForest(X: number[][], y: readonly number[], nClasses: number, params: Partial<RandomForestParams> = {}, seed = 42, onTree?: TreeCallback): RandomForestModel {
  const p = { ...DEFAULT_RANDOM_FOREST_PARAMS, ...params };
  const n = X.length;
  const first = X[0];
  if (n === 0 || !first) throw new VitalsError('VALIDATION_FAILED', 'cannot fit a random forest on zero samples');
  for (const key of ['n_estimators', 'max_depth', 'min_samples_leaf', 'min_samples_split'] as const) {
    if (!Number.isInteger(p[key]) || p[key] < 1) throw new VitalsError('VALIDATION_FAILED', `${key} must be a positive integer, got ${p[key]}`);
  }
  const F = first.length;
  const ctx: GrowContext = {
    columns: Array.from({ length: F }, (_, f) => Float32Array.from(X, (row) => row[f] ?? NaN)),
    y: Int32Array.from(y),
    nClasses,
    params: p,
    maxFeatures: Math.min(F, p.max_features > 0 ? Math.floor(p.max_features) : Math.max(1, Math.floor(Math.sqrt(F)))),
    nTrees: p.n_estimators,
    rng: mulberry32(seed),
  };

  const trees: DecisionTree[] = [];
  for (let t = 0; t < p.n_estimators; t++) {
    const bag = Array.from({ length: n }, () => randomInt(ctx.rng, n)); // bootstrap sample
    trees.push(growTree(bag, ctx));
    onTree?.(t + 1, p.n_estimators);
  }
  return { nClasses, nFeatures: F, trees };
}

// ---------------------------------------------------------------------------
// Prediction and export

function leafOf(tree: DecisionTree, row: readonly number[]): number {
  let id = 0;
  for (;;) {
    const feature = tree.feature[id];
    if (feature === undefined) throw new Error(`random forest: tree has no node ${id}`);
    if (feature < 0) return id;
    // `!`: threshold/left/right are parallel to feature (pushed together), and
    // a short row reads as NaN exactly as before (Math.fround(undefined)).
    id = Math.fround(row[feature]!) <= tree.threshold[id]! ? tree.left[id]! : tree.right[id]!;
  }
}

/** Class probabilities, one row per sample; identical to the ONNX model's output. */
export function randomForestPredictProba(model: RandomForestModel, X: number[][]): number[][] {
  return X.map((row) => {
    const sums = new Array<number>(model.nClasses).fill(0);
    for (const tree of model.trees) {
      const leaf = leafOf(tree, row);
      const votes = tree.votes[leaf];
      if (!votes) throw new Error(`random forest: leaf ${leaf} has no votes`);
      // `!`: leaves hold one vote per class, and c < nClasses = sums.length.
      for (let c = 0; c < sums.length; c++) sums[c]! += votes[c]!;
    }
    // Binary: onnxruntime reports [1 - p, p] from the positive class's sum.
    const positive = sums[1];
    return model.nClasses === 2 && positive !== undefined ? [1 - positive, positive] : sums;
  });
}

/** Class index per sample, with onnxruntime's tie rules (binary: p > 0.5; else first max). */
export function randomForestPredict(model: RandomForestModel, X: number[][]): number[] {
  return randomForestPredictProba(model, X).map((p) => {
    const positive = p[1];
    return p.length === 2 && positive !== undefined ? (positive > 0.5 ? 1 : 0) : p.indexOf(Math.max(...p));
  });
}

/**
 * ONNX graph: input [N,F] float -> TreeEnsembleClassifier (ai.onnx.ml v3)
 * -> label int64 [N], probabilities float [N, C].
 *
 * Binary forests carry only the positive class's votes, under class id 0:
 * that is the layout onnxruntime treats as "binary" (it then outputs
 * [1 - p, p] and label p > 0.5). With votes for both classes it would pick
 * the label by "positive score > 0", which is always true for a forest.
 */
export function randomForestToOnnx(model: RandomForestModel, meta: { featureNames: string[]; labels: string[]; metadata?: Record<string, string> }): Uint8Array {
  const binary = model.nClasses === 2;
  const nodes = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
  };
  const votes = { treeIds: [] as number[], nodeIds: [] as number[], classIds: [] as number[], weights: [] as number[] };

  model.trees.forEach((tree, t) => {
    for (const [id, feature] of tree.feature.entries()) {
      const threshold = tree.threshold[id];
      const trueId = tree.left[id];
      const falseId = tree.right[id];
      const leafVotes = tree.votes[id];
      if (threshold === undefined || trueId === undefined || falseId === undefined || leafVotes === undefined) {
        throw new Error(`random forest tree ${t}: node ${id} is incomplete`);
      }
      const leaf = feature < 0;
      nodes.treeIds.push(t);
      nodes.nodeIds.push(id);
      nodes.featureIds.push(leaf ? 0 : feature);
      nodes.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      nodes.values.push(leaf ? 0 : threshold);
      nodes.trueIds.push(leaf ? 0 : trueId);
      nodes.falseIds.push(leaf ? 0 : falseId);
      if (!leaf) continue;
      const classes = binary ? [1] : leafVotes.map((_, c) => c);
      for (const c of classes) {
        const weight = leafVotes[c];
        if (weight === undefined) throw new Error(`random forest tree ${t}: leaf ${id} has no vote for class ${c}`);
        votes.treeIds.push(t);
        votes.nodeIds.push(id);
        votes.classIds.push(binary ? 0 : c);
        votes.weights.push(weight);
      }
    }
  });

  return encodeModel({
    opsetImports: [
      { domain: '', version: 17 },
      { domain: ONNX_ML_DOMAIN, version: 3 },
    ],
    docString: `Random forest (${model.trees.length} trees) trained by Vitals.`,
    metadata: {
      feature_names: JSON.stringify(meta.featureNames),
      labels: JSON.stringify(meta.labels),
      ...meta.metadata,
    },
    graph: {
      name: 'random_forest',
      inputs: [valueInfo('input', 'float', ['N', model.nFeatures])],
      outputs: [valueInfo('label', 'int64', ['N']), valueInfo('probabilities', 'float', ['N', model.nClasses])],
      nodes: [
        node(
          'TreeEnsembleClassifier',
          ['input'],
          ['label', 'probabilities'],
          {
            classlabels_int64s: attr.ints(Array.from({ length: model.nClasses }, (_, c) => c)),
            nodes_treeids: attr.ints(nodes.treeIds),
            nodes_nodeids: attr.ints(nodes.nodeIds),
            nodes_featureids: attr.ints(nodes.featureIds),
            nodes_modes: attr.strings(nodes.modes),
            nodes_values: attr.floats(nodes.values),
            nodes_truenodeids: attr.ints(nodes.trueIds),
            nodes_falsenodeids: attr.ints(nodes.falseIds),
            class_treeids: attr.ints(votes.treeIds),
            class_nodeids: attr.ints(votes.nodeIds),
            class_ids: attr.ints(votes.classIds),
            class_weights: attr.floats(votes.weights),
            post_transform: attr.string('NONE'),
          },
          { domain: ONNX_ML_DOMAIN, name: 'forest' },
        ),
      ],
    },
  });
}
