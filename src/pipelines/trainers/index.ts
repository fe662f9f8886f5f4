export { parseCsv, toTabularDataset, stratifiedSplit } from './dataset.js';
export type { ParsedCsv, TabularDataset } from './dataset.js';
export { mulberry32, randomInt, uniform, shuffleInPlace } from './random.js';
export type { Rng } from './random.js';
export {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  fitLogisticRegression,
  logisticRegressionPredictProba,
  logisticRegressionToOnnx,
} from './logistic-regression.js';
export type { LogisticRegressionModel, LogisticRegressionParams, IterationCallback } from './logistic-regression.js';
export {
  DEFAULT_RANDOM_FOREST_PARAMS,
  fitRandomForest,
  randomForestPredict,
  randomForestPredictProba,
  randomForestToOnnx,
} from './random-forest.js';
export type { DecisionTree, RandomForestModel, RandomForestParams, TreeCallback } from './random-forest.js';
export { trainTabularClassifier } from './train.js';
export type { TabularAlgo, TabularMetrics, TrainTabularOptions, TrainedTabularModel } from './train.js';
