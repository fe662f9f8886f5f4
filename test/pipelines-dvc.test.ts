import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffMetrics, diffParams, loadPipelineSpec, orderStages, parseCron, parsePipelineSpec, runPipeline } from '../src/pipelines/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vitals-dvc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// Stages are `node -e` commands so no Python is needed; prepare reads raw data, train writes a model and metrics.
const DVC_YAML = `
stages:
  train:
    cmd: node -e "const fs=require('fs');const p=require('./params.json');const d=fs.readFileSync('data/prepared.txt','utf8');fs.writeFileSync('model.txt','lr='+p.train.lr+' n='+d.length);fs.writeFileSync('metrics.json',JSON.stringify({accuracy:0.5+p.train.lr,loss:{final:1-p.train.lr}}));fs.appendFileSync('runs.log','train\\n')"
    deps: [data/prepared.txt]
    params:
      - params.json:
          - train.lr
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
  prepare:
    cmd: node -e "const fs=require('fs');fs.mkdirSync('data',{recursive:true});fs.writeFileSync('data/prepared.txt',fs.readFileSync('raw.txt','utf8').toUpperCase());fs.appendFileSync('runs.log','prepare\\n')"
    deps: [raw.txt]
    params: [prepare.seed]
    outs: [data/prepared.txt]
`;

function setup(lr = 0.1) {
  writeFileSync(join(dir, 'dvc.yaml'), DVC_YAML);
  writeFileSync(join(dir, 'raw.txt'), 'hello');
  writeFileSync(join(dir, 'params.yaml'), 'prepare:\n  seed: 1\n');
  writeFileSync(join(dir, 'params.json'), JSON.stringify({ train: { lr, epochs: 3 } }));
}
const runsLog = () => readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');

describe('dvc.yaml pipelines', () => {
  it('orders stages by deps/outs, runs commands, writes the lock file and reads metrics', async () => {
    setup();
    const spec = loadPipelineSpec(join(dir, 'dvc.yaml'));
    expect(orderStages(spec.stages).map((s) => s.name)).toEqual(['prepare', 'train']);
    const out = await runPipeline(spec);
    expect(out.status).toBe('succeeded');
    expect(out.stages.map((s) => [s.name, s.status])).toEqual([
      ['prepare', 'succeeded'],
      ['train', 'succeeded'],
    ]);
    expect(readFileSync(join(dir, 'model.txt'), 'utf8')).toBe('lr=0.1 n=5');
    expect(out.metrics['metrics.json:accuracy']).toBeCloseTo(0.6);
    expect(out.metrics['metrics.json:loss.final']).toBeCloseTo(0.9);
    expect(out.params).toEqual({ 'params.yaml:prepare.seed': 1, 'params.json:train.lr': 0.1 });
    const lock = readFileSync(join(dir, 'dvc.lock'), 'utf8');
    expect(lock).toContain('prepare:');
    expect(lock).toMatch(/md5: [0-9a-f]{32}/);
    expect(out.stages[1]!.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('skips unchanged stages (cache) and reruns only what a changed param or dep touches', async () => {
    setup();
    const spec = loadPipelineSpec(join(dir, 'dvc.yaml'));
    await runPipeline(spec);
    const again = await runPipeline(spec);
    expect(again.stages.map((s) => s.status)).toEqual(['cached', 'cached']);
    expect(again.metrics['metrics.json:accuracy']).toBeCloseTo(0.6); // metrics still read from the cached stage
    expect(runsLog()).toEqual(['prepare', 'train']);

    writeFileSync(join(dir, 'params.json'), JSON.stringify({ train: { lr: 0.2, epochs: 9 } })); // epochs is not a tracked param
    const changedParam = await runPipeline(spec);
    expect(changedParam.stages.map((s) => s.status)).toEqual(['cached', 'succeeded']);

    writeFileSync(join(dir, 'raw.txt'), 'hello world');
    const changedDep = await runPipeline(spec);
    expect(changedDep.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);

    rmSync(join(dir, 'model.txt')); // a missing out is not a cache hit
    expect((await runPipeline(spec)).stages.map((s) => s.status)).toEqual(['cached', 'succeeded']);
    expect((await runPipeline(spec, { force: true })).stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect((await runPipeline(spec, { targets: ['prepare'] })).stages.map((s) => s.name)).toEqual(['prepare']);
  });

  it('stops at a failing stage and says why', async () => {
    writeFileSync(
      join(dir, 'dvc.yaml'),
      'stages:\n  a:\n    cmd: node -e "console.error(\'bad input\'); process.exit(3)"\n  b:\n    cmd: node -e "1"\n    deps: [x]\n  c:\n    cmd: node -e "1"\n    outs: [never.txt]\n',
    );
    const out = await runPipeline(loadPipelineSpec(join(dir, 'dvc.yaml')));
    expect(out.status).toBe('failed');
    expect(out.stages[0]).toMatchObject({ status: 'failed' });
    expect(out.stages[0]!.error).toContain('exit code 3');
    expect(out.stages[0]!.logs.join('\n')).toContain('bad input');
    expect(out.stages[1]).toMatchObject({ status: 'skipped' });

    writeFileSync(join(dir, 'dvc.yaml'), 'stages:\n  c:\n    cmd: node -e "1"\n    outs: [never.txt]\n');
    const noOut = await runPipeline(loadPipelineSpec(join(dir, 'dvc.yaml')));
    expect(noOut.error).toContain('did not produce never.txt');
  });

  it('rejects invalid definitions with readable messages', () => {
    expect(() => parsePipelineSpec('stages:\n  a:\n    deps: [x]\n', dir)).toThrow(/needs a cmd/);
    expect(() => parsePipelineSpec('nothing: 1\n', dir)).toThrow(/stages/);
    const cyc = parsePipelineSpec('stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n', dir);
    expect(() => orderStages(cyc.stages)).toThrow(/cycle/);
  });

  it('diffs params and metrics between runs', () => {
    expect(diffParams({ 'p:lr': 0.1, 'p:n': 3 }, { 'p:lr': 0.2, 'p:n': 3, 'p:new': 'x' })).toEqual([
      { param: 'p:lr', old: 0.1, new: 0.2 },
      { param: 'p:new', old: null, new: 'x' },
    ]);
    expect(diffMetrics({ acc: 0.8, loss: 0.3 }, { acc: 0.9, loss: 0.3 })).toEqual([{ metric: 'acc', old: 0.8, new: 0.9, change: expect.closeTo(0.1, 9) }]);
    expect(diffMetrics({ acc: 0.8 }, { acc: 0.8 }, { all: true })).toHaveLength(1);
  });

  it('evaluates cron schedules', () => {
    const daily = parseCron('30 2 * * *');
    expect(daily.previous(new Date('2024-05-10T03:00:00Z'))!.toISOString()).toBe('2024-05-10T02:30:00.000Z');
    expect(daily.previous(new Date('2024-05-10T02:00:00Z'))!.toISOString()).toBe('2024-05-09T02:30:00.000Z');
    expect(parseCron('0 0 1 * *').previous(new Date('2024-05-10T00:00:00Z'))!.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseCron('0 */6 * * 1').previous(new Date('2024-05-10T00:00:00Z'))!.toISOString()).toBe('2024-05-06T18:00:00.000Z');
    expect(() => parseCron('61 * * * *')).toThrow(/minute/);
  });
});
