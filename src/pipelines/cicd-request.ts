/** What a CI/CD pipeline run is asked to do: the request body of `POST /api/v1/mlops/cicd/run-pipeline`. */
import { z } from 'zod';

export const cicdRequestSchema = z.object({
  model_name: z.string().min(1).describe('the registered model to retrain (its production version is the baseline)'),
  data: z
    .object({
      source: z.enum(['prediction_log', 'file', 'folder']).default('prediction_log'),
      path: z.string().optional().describe('CSV file, or a folder of CSV files with one header'),
      target: z.string().optional().describe("the label column (default: the production version's training target)"),
      limit: z.number().int().min(10).optional().describe('prediction_log: the newest N labelled predictions (default MONITORING_WINDOW_SIZE)'),
      since_trigger: z
        .boolean()
        .default(false)
        .describe(
          'prediction_log: only predictions made after the run was triggered, so a drift retrain learns the new distribution alone; the run waits (up to wait_s) until limit of them are labelled',
        ),
      wait_s: z.number().int().min(0).default(86_400).describe('since_trigger: how long to wait for limit labelled predictions before training on those there are'),
      holdout_fraction: z.number().min(0.05).max(0.5).default(0.25),
    })
    .prefault({}),
  validation: z
    .object({
      min_rows: z.number().int().min(2).default(50),
      max_missing_share: z.number().min(0).max(1).default(0.05),
      min_class_share: z.number().min(0).max(0.5).default(0.05),
      check_ranges: z.boolean().default(true),
      /** drift against the current reference: report it (expected when retraining for drift) or fail on it */
      drift: z.enum(['report', 'fail', 'off']).default('report'),
    })
    .prefault({}),
  training: z
    .object({
      algo: z.enum(['logreg', 'rf']).optional().describe("built-in trainer (default: the production version's)"),
      params: z.record(z.string(), z.number()).optional(),
      seed: z.number().int().default(42),
      cmd: z.string().optional().describe('external trainer: reads $VITALS_TRAIN_CSV, writes ONNX to $VITALS_MODEL_OUT'),
      experiment: z.string().optional().describe('tracking experiment (default: <model>-training)'),
    })
    .prefault({}),
  gates: z
    .object({
      metric: z.enum(['accuracy', 'f1', 'roc_auc']).default('accuracy'),
      /** absolute floors on the holdout, e.g. {accuracy: 0.8} */
      min: z.record(z.string(), z.number()).default({}),
      /** candidate − production on the same holdout, at least this (0: not worse) */
      min_improvement: z.number().default(0),
    })
    .prefault({}),
  testing: z
    .object({
      latency_budget_ms: z.number().positive().default(250),
      golden: z.array(z.object({ features: z.record(z.string(), z.number()), expected: z.string().optional() })).optional(),
    })
    .prefault({}),
  ab_test: z
    .object({
      enabled: z.boolean().default(false),
      mode: z.enum(['canary', 'ab']).default('canary'),
      traffic_split: z.number().min(0).max(1).optional(),
      metric: z.enum(['accuracy', 'error_rate', 'confidence', 'latency']).default('accuracy'),
      config: z.record(z.string(), z.unknown()).optional().describe('AbTestConfig overrides (min_samples, canary_stages, …)'),
    })
    .prefault({}),
  deploy: z
    .object({
      promote: z.boolean().default(true).describe('without an A/B test: move production to the new version'),
      archive_previous: z.boolean().default(true),
    })
    .prefault({}),
});

export type CicdRequest = z.output<typeof cicdRequestSchema>;
export type CicdRequestInput = z.input<typeof cicdRequestSchema>;

export const CICD_STAGES = ['data_collection', 'data_validation', 'training', 'model_validation', 'model_testing', 'ab_testing', 'deployment', 'monitoring_setup'] as const;
export type CicdStage = (typeof CICD_STAGES)[number];
