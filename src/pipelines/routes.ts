/**
 * Requests that start pipeline work never run it: they check the request, queue a job and answer
 * 202 with the run's id and where to poll it. Over HTTP a pipeline is named (PIPELINES_DIR), a data
 * file lies inside DATA_DIR, and no field is a command.
 */
import { z } from 'zod';
import { VitalsError, validationFailed } from '../errors.js';
import type { DataDir } from '../files/data-dir.js';
import { view } from '../server/route-kit.js';
import type { PipelineRun } from './pipeline-run-store.js';

export const runView = view({
  id: z.string(),
  pipeline: z.string(),
  model_name: z.string().nullable(),
  trigger: z.string(),
  status: z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'rejected']),
  stages: z.array(view({ name: z.string(), status: z.string() })),
  result: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
}).describe('PipelineRun');

/** 202: the queued run, with its id again as run_id and the URL to poll. */
export const acceptedRunView = runView.extend({ run_id: z.string(), status_url: z.string().describe('GET it to follow the run') }).describe('AcceptedRun');

export const accepted = (run: PipelineRun) => ({ ...run, run_id: run.id, status_url: `/api/v1/pipelines/runs/${run.id}` });

/**
 * A CI/CD request from the network: no command (`training.cmd` lives in operator files), and a data
 * path only inside DATA_DIR (replaced by its real path).
 */
export async function checkNetworkCicdRequest<T extends { training?: { cmd?: string }; data?: { path?: string } }>(body: T, dataDir: Pick<DataDir, 'resolve'>, prefix = ''): Promise<T> {
  if (body.training?.cmd !== undefined) {
    throw validationFailed([{ field: `${prefix}training.cmd`, message: 'commands are not accepted over the API; define the trainer as a stage of a pipeline in PIPELINES_DIR and start it by name' }]);
  }
  if (body.data?.path !== undefined) {
    const real = await dataDir.resolve(body.data.path, `${prefix}data.path`);
    return { ...body, data: { ...body.data, path: real } };
  }
  return body;
}

export function requireCsv(csv: string | undefined): string {
  if (csv === undefined || csv.trim() === '') throw new VitalsError('VALIDATION_FAILED', 'csv: send the CSV text in csv, or name a file inside DATA_DIR in data_path');
  return csv;
}
