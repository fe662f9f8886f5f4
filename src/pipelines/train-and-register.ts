/**
 * Trains a built-in tabular classifier on a CSV and registers the result with its metrics, specs,
 * reference profile and lineage. Shared by the API, the CLI and the demo bootstrap.
 */
import { createHash } from 'node:crypto';
import type { AuditContext } from '../audit/index.js';
import type { Alias, ModelRegistry, ModelVersion } from '../registry/index.js';
import { buildOutputProfile, buildReferenceProfile } from '../stats/reference-profile.js';
import { parseCsv, toTabularDataset, trainTabularClassifier } from './trainers/index.js';

export type Algorithm = 'logreg' | 'rf';

export interface TrainRequest {
  csv: string;
  target: string;
  algo: Algorithm;
  modelName: string;
  version?: string;
  aliases?: Alias[];
  seed?: number;
  testFraction?: number;
  params?: Record<string, number>;
  description?: string;
  /** the CSV's path (lineage); absent when the CSV came in the request */
  dataSource?: string;
  /** the pipeline run that trains it (`POST /api/v1/train`), for the version's lineage */
  runId?: string;
  actor?: string;
  /** the request that asked for it, for the registry's audit rows */
  audit?: AuditContext;
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface TrainResult {
  version: ModelVersion;
  metrics: Record<string, number>;
}

export async function trainAndRegister(registry: ModelRegistry, req: TrainRequest): Promise<TrainResult> {
  const data = toTabularDataset(parseCsv(req.csv), req.target);
  const trained = trainTabularClassifier(data, { algo: req.algo, seed: req.seed ?? 42, testFraction: req.testFraction ?? 0.2, params: req.params, onProgress: req.onProgress });
  const rows = trained.trainRows.map((r) => Object.fromEntries(trained.featureNames.map((f, i) => [f, r[i]])));
  const metrics = { ...trained.metrics } as Record<string, number>;
  const version = await registry.register({
    name: req.modelName,
    version: req.version,
    artifact: trained.onnx,
    task: 'classification',
    modality: 'tabular',
    description: req.description,
    input_spec: { kind: 'tabular', features: trained.featureNames.map((name) => ({ name, type: 'number' })) },
    output_spec: { labels: trained.labels, probabilities: 'probabilities' },
    metrics,
    params: { algorithm: req.algo, ...trained.params },
    metadata: { target: req.target, trainer: `vitals/${req.algo}`, training_date: new Date().toISOString(), ...(req.runId ? { pipeline_run_id: req.runId } : {}) },
    reference_profile: {
      ...buildReferenceProfile(rows, { features: trained.featureNames }),
      outputs: buildOutputProfile(trained.predictProba(trained.trainRows), trained.labels),
    },
    lineage: {
      pipeline_run_id: req.runId ?? null,
      data_sha256: createHash('sha256').update(req.csv).digest('hex'),
      data_source: req.dataSource ? 'file' : 'inline',
      data_path: req.dataSource ?? null,
      rows: data.X.length,
      train_rows: trained.trainRows.length,
      holdout_rows: data.X.length - trained.trainRows.length,
      seed: req.seed ?? 42,
    },
    aliases: req.aliases,
    actor: req.actor ?? 'trainer',
    audit: req.audit,
  });
  return { version, metrics };
}
