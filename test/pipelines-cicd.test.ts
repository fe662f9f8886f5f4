/** The CI/CD pipeline's stages on their own: an external trainer command with tracking hooks, direct deployment, a data-validation stop, params/metrics diff. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv, toTabularDataset, trainTabularClassifier } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

let t: TestApp;
let dir: string;
const http = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const res = await t.app.inject({ method, url, payload: payload as object });
  return { status: res.statusCode, body: res.json() as any };
};
const waitRun = async (id: string) => {
  for (let i = 0; i < 600; i++) {
    const r = (await http('GET', `/api/v1/pipelines/runs/${id}`)).body;
    if (['succeeded', 'failed', 'rejected', 'waiting'].includes(r.status)) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('run did not finish');
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vitals-cicd-'));
  copyFileSync(DEMO_DATA, join(dir, 'breast_cancer.csv'));
  t = await startTestApp({ PIPELINE_POLL_MS: 50, DATA_DIR: dir });
  const queued = await http('POST', '/api/v1/train', { model_name: 'bc', target: 'diagnosis', algo: 'logreg', data_path: 'breast_cancer.csv', version: '1.0.0', aliases: ['production'] });
  expect(queued.status).toBe(202);
  expect((await waitRun(queued.body.run_id)).status).toBe('succeeded');
});
afterAll(async () => {
  await t?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('CI/CD pipeline', () => {
  it('runs an external training command, ingests its tracking lines, deploys without an A/B test and archives the old version', async () => {
    // "Python" trainer stand-in: a node script that writes an ONNX model (trained beforehand) and logs epochs.
    const model = trainTabularClassifier(toTabularDataset(parseCsv(readFileSync(DEMO_DATA, 'utf8')), 'diagnosis'), { algo: 'rf', seed: 1, params: { n_estimators: 30 } });
    writeFileSync(join(dir, 'rf.onnx'), model.onnx);
    const script = join(dir, 'train.cjs');
    writeFileSync(
      script,
      `const fs = require('fs');
       const rows = fs.readFileSync(process.env.VITALS_TRAIN_CSV, 'utf8').trim().split('\\n').length - 1;
       console.log('training on ' + rows + ' rows, target ' + process.env.VITALS_TARGET);
       const log = (e) => fs.appendFileSync(process.env.VITALS_TRACKING_FILE, JSON.stringify(e) + '\\n');
       log({ event: 'log_model_config', config: { n_estimators: 30, framework: 'sklearn' } });
       for (let epoch = 0; epoch < 3; epoch++) log({ event: 'log_training_step', epoch, loss: 1 / (epoch + 1), learning_rate: 0.1 });
       fs.copyFileSync(${JSON.stringify(join(dir, 'rf.onnx'))}, process.env.VITALS_MODEL_OUT);
       fs.writeFileSync(process.env.VITALS_METRICS_OUT, JSON.stringify({ train: { accuracy: 0.99 } }));`,
    );
    const request = { model_name: 'bc', data: { source: 'file' as const, path: DEMO_DATA }, training: { cmd: `node ${script}` }, gates: { min: { accuracy: 0.85 }, min_improvement: -0.05 } };
    // A command never comes from the network: over HTTP it is refused, naming the field ...
    const refused = await http('POST', '/api/v1/mlops/cicd/run-pipeline', request);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/training\.cmd/);
    // ... the operator's own tools (the CLI, retraining policies in files) may run one.
    const queued = await t.services.pipelines.submitCicd(request, { trigger: 'cli', actor: 'operator' });
    const run = await waitRun(queued!.id);
    expect(run.status, JSON.stringify(run.stages.map((s: any) => [s.name, s.status, s.error]))).toBe('succeeded');
    expect(run.result).toMatchObject({ decision: 'deployed', new_version: '1.1.0', archived_version: '1.0.0' });
    const training = run.stages[2];
    expect(training.logs.join('\n')).toMatch(/training on \d+ rows, target diagnosis/);
    expect(run.stages[5].status).toBe('skipped'); // no A/B test asked for
    const trackingRun = (await http('GET', `/api/v1/tracking/runs/${training.artifacts.tracking.run_id}`)).body;
    expect(trackingRun).toMatchObject({ status: 'completed', config: { n_estimators: 30, framework: 'sklearn' }, metrics: { loss: 1 / 3, learning_rate: 0.1, 'train.accuracy': 0.99 } });
    expect((await http('GET', `/api/v1/tracking/runs/${trackingRun.id}/history/loss`)).body.points).toHaveLength(3);
    expect((await http('GET', '/api/v1/models/bc')).body.aliases.production).toBe('1.1.0');

    // A second run with other params: `pipeline diff` shows what changed.
    const res2 = await http('POST', '/api/v1/mlops/cicd/run-pipeline', {
      model_name: 'bc',
      data: { source: 'file', path: 'breast_cancer.csv' },
      training: { algo: 'logreg' },
      gates: { min_improvement: -1 },
      deploy: { promote: false },
    });
    const run2 = await waitRun(res2.body.id);
    expect(run2.status).toBe('succeeded');
    expect(run2.result.decision).toBe('staged');
    const diff = (await http('GET', `/api/v1/pipelines/diff?a=${run.id}&b=${run2.id}`)).body;
    expect(diff.params.map((p: any) => p.param)).toEqual(expect.arrayContaining(['training.cmd', 'training.algo', 'deploy.promote']));
    expect(diff.metrics.some((m: any) => m.metric === 'model_validation.candidate.accuracy')).toBe(true);
  });

  it('stops at data validation with a readable report', async () => {
    const bad = join(dir, 'bad.csv');
    const lines = readFileSync(DEMO_DATA, 'utf8').trim().split('\n');
    const header = lines[0]!.split(',');
    const drop = header.indexOf('mean_texture');
    writeFileSync(
      bad,
      lines
        .map((l) =>
          l
            .split(',')
            .filter((_, i) => i !== drop)
            .join(','),
        )
        .join('\n'),
    );
    const res = await http('POST', '/api/v1/mlops/cicd/run-pipeline', { model_name: 'bc', data: { source: 'file', path: 'bad.csv' } });
    expect(res.status).toBe(202);
    const run = await waitRun(res.body.id);
    expect(run.status).toBe('failed');
    expect(run.result.decision).toBe('failed_at_data_validation');
    expect(run.error).toMatch(/data validation failed: schema \(missing columns: mean_texture\)/);
    expect(run.stages[1].logs).toContain('FAIL schema: missing columns: mean_texture');
    expect(run.stages.slice(2).every((s: any) => s.status === 'skipped')).toBe(true);
  });

  it('data.since_trigger learns only from predictions made after the trigger, waiting until enough are labelled', async () => {
    const trained = await http('POST', '/api/v1/train', { model_name: 'bc-since', target: 'diagnosis', algo: 'logreg', data_path: 'breast_cancer.csv', version: '1.0.0', aliases: ['production'] });
    expect((await waitRun(trained.body.run_id)).status).toBe('succeeded');
    const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
    const target = csv.columns.indexOf('diagnosis');
    const send = async (rows: string[][]) => {
      const labels = [];
      for (const r of rows) {
        const features = Object.fromEntries(csv.columns.flatMap((c, i) => (i === target ? [] : [[c, Number(r[i])]])));
        const p = await http('POST', '/api/v1/ml-models/predict', { model: 'bc-since', features });
        expect(p.status).toBe(200);
        labels.push({ prediction_id: p.body.prediction_id, ground_truth: r[target] });
      }
      expect((await http('POST', '/api/v1/mlops/monitoring/ground-truth', { labels })).status).toBe(200);
      return labels.map((l) => l.prediction_id);
    };
    const before = await send(csv.rows.slice(0, 80)); // labelled, but older than the incident

    const trig = await http('POST', '/api/v1/mlops/retraining/trigger', {
      model_id: 'bc-since',
      pipeline: { data: { source: 'prediction_log', limit: 60, since_trigger: true }, deploy: { promote: false } },
    });
    expect(trig.status).toBe(202);
    const waiting = await waitRun(trig.body.run_id);
    expect(waiting).toMatchObject({ status: 'waiting', result: { waiting_for: 'data for data collection' } });
    expect(Date.parse(waiting.result.retry_at)).toBeGreaterThan(Date.parse(waiting.created_at));
    expect(waiting.stages[0].logs.join('\n')).toMatch(/waiting for labelled predictions made since the run was triggered .*: 0 of 60/);
    const jobs = await t.services.pipelines.queue.list({ status: 'queued' });
    expect(jobs.filter((j) => j.run_id === waiting.id)).toHaveLength(1); // one job, snoozed: no worker is held

    await send(csv.rows.slice(100, 190));
    let run = waiting;
    for (let i = 0; i < 200 && !['succeeded', 'failed', 'rejected'].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = (await http('GET', `/api/v1/pipelines/runs/${waiting.id}`)).body;
    }
    // collected and trained on the new rows (whether the candidate then beats production is not this test's point)
    expect(run.stages.slice(0, 3).map((st: any) => st.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(run.result.retry_at).toBeUndefined();
    const source = run.stages[0].artifacts.source;
    expect(run.stages[0].metrics.rows).toBe(60);
    expect(source.since).toBe(waiting.created_at);
    expect(Date.parse(source.oldest)).toBeGreaterThanOrEqual(Date.parse(waiting.created_at));
    expect(before).toHaveLength(80);
  });
});
