/**
 * dvc.yaml as DVC users write it: vars (inline and files), ${…} in every field, foreach over lists
 * and maps, matrix, errors naming an unresolvable ${}; metrics and plots are outputs that are checked.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePipelineSpec, runPipeline } from '../src/pipelines/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vitals-dvc-tpl-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('dvc.yaml templating', () => {
  it('interpolates vars, params.yaml and vars files in every field, typed when a whole value', () => {
    writeFileSync(join(dir, 'params.yaml'), 'train:\n  lr: 0.01\n  epochs: 3\n  layers: [64, 32]\n');
    writeFileSync(join(dir, 'paths.yaml'), 'data_dir: data\nunused: 1\n');
    const spec = parsePipelineSpec(
      `vars:
  - paths.yaml:data_dir
  - model_dir: models
    flag: true
stages:
  train:
    vars:
      - out: \${model_dir}/m.bin
    cmd: python train.py --lr \${train.lr} --epochs \${train.epochs} --first \${train.layers[0]} --flag \${flag} --literal \\\${HOME}
    deps:
      - \${data_dir}/train.csv
    outs:
      - \${out}
    metrics:
      - \${model_dir}/metrics.json:
          cache: false
    plots:
      - \${model_dir}/roc.csv
    wdir: .
`,
      dir,
    );
    const [s] = spec.stages;
    expect(s!.cmd).toBe('python train.py --lr 0.01 --epochs 3 --first 64 --flag true --literal ${HOME}');
    expect(s!.deps).toEqual(['data/train.csv']);
    expect(s!.outs).toEqual(['models/m.bin']);
    expect(s!.metrics).toEqual(['models/metrics.json']);
    expect(s!.plots).toEqual(['models/roc.csv']);
    expect(s!.uncached).toEqual(['models/metrics.json']);
    // as in DVC (checked in test/services/dvc-compat.test.ts), interpolated values are not params of the stage
    expect(s!.params).toEqual([]);
  });

  it('expands foreach over a list, a map and a ${var}, and a matrix', () => {
    writeFileSync(join(dir, 'params.yaml'), 'models:\n  lr: {C: 1}\n  rf: {C: 2}\nseeds: [1, 2]\n');
    const spec = parsePipelineSpec(
      `stages:
  prep:
    foreach: [a, b]
    do:
      cmd: prep \${item}
      outs:
        - out/\${item}.txt
  fit:
    foreach: \${models}
    do:
      cmd: fit --algo \${key} --C \${item.C}
  grid:
    matrix:
      algo: [lr, rf]
      seed: \${seeds}
    cmd: grid \${item.algo} \${item.seed}
`,
      dir,
    );
    expect(spec.stages.map((s) => [s.name, s.cmd])).toEqual([
      ['prep@a', 'prep a'],
      ['prep@b', 'prep b'],
      ['fit@lr', 'fit --algo lr --C 1'],
      ['fit@rf', 'fit --algo rf --C 2'],
      ['grid@lr-1', 'grid lr 1'],
      ['grid@lr-2', 'grid lr 2'],
      ['grid@rf-1', 'grid rf 1'],
      ['grid@rf-2', 'grid rf 2'],
    ]);
    expect(spec.stages[1]!.outs).toEqual(['out/b.txt']);
  });

  it('an unresolvable ${} is an error naming it and where it is, in cmd as in deps', () => {
    expect(() => parsePipelineSpec('stages:\n  a:\n    cmd: run ${nope.x}\n', dir)).toThrow(/stages\.a\.cmd: \$\{nope\.x\} cannot be resolved/);
    expect(() => parsePipelineSpec('stages:\n  a:\n    cmd: run\n    deps:\n      - ${data_dir}/x\n', dir)).toThrow(/stages\.a\.deps\[0\]: \$\{data_dir\} cannot be resolved/);
    expect(() => parsePipelineSpec('vars:\n  - missing.yaml\nstages:\n  a:\n    cmd: x\n', dir)).toThrow(/vars file "missing.yaml" does not exist/);
    expect(() => parsePipelineSpec('vars:\n  - l: [1]\nstages:\n  a:\n    cmd: run ${l}x\n', dir)).toThrow(/is a list and cannot be written inside a string/);
  });
});

describe('metrics and plots are checked outputs', () => {
  it('a deleted metrics or plots file reruns its stage; cache: false is still checked', async () => {
    mkdirSync(join(dir, 'eval'));
    writeFileSync(
      join(dir, 'dvc.yaml'),
      `stages:
  evaluate:
    cmd: node -e "const fs=require('fs');fs.writeFileSync('eval/test.json','{\\"acc\\":0.9}');fs.writeFileSync('eval/roc.csv','fpr,tpr\\n0,0\\n1,1\\n');fs.appendFileSync('runs.log','x\\n')"
    metrics:
      - eval/test.json:
          cache: false
    plots: [eval/roc.csv]
`,
    );
    const spec = parsePipelineSpec(readFileSync(join(dir, 'dvc.yaml'), 'utf8'), dir);
    expect((await runPipeline(spec)).stages[0]!.status).toBe('succeeded');
    expect((await runPipeline(spec)).stages[0]!.status).toBe('cached');
    unlinkSync(join(dir, 'eval/test.json'));
    const rerun = await runPipeline(spec);
    expect(rerun.stages[0]!.status).toBe('succeeded');
    expect(existsSync(join(dir, 'eval/test.json'))).toBe(true);
    expect(rerun.metrics['eval/test.json:acc']).toBe(0.9);
    writeFileSync(join(dir, 'eval/roc.csv'), 'tampered');
    expect((await runPipeline(spec)).stages[0]!.status).toBe('succeeded');
    expect(readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n')).toHaveLength(3);
  });
});
