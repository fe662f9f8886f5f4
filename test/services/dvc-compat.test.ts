/**
 * Vitals and the real `dvc` (PyPI, pinned in .venv-dvc by scripts/services/dvc.sh) on the same
 * templated project (vars, ${…} from params and vars, foreach, a folder dep and out, a `cache: false`
 * metrics file): the same stages run, the outputs are identical, the dvc.lock files agree, `dvc status`
 * has nothing to report after a Vitals run, Vitals finds everything cached after `dvc repro`, and a
 * params change reruns the same stages in both. A missing dvc FAILS this test; it is never skipped.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadPipelineSpec, runPipeline } from '../../src/pipelines/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DVC = join(ROOT, '.venv-dvc/bin/dvc');
if (!existsSync(DVC)) throw new Error('dvc is missing: run `bash scripts/services/dvc.sh`');

function dvc(cwd: string, args: string[]): Promise<string> {
  return new Promise((res, rej) =>
    execFile(DVC, args, { cwd, timeout: 120_000, env: { ...process.env, DVC_NO_ANALYTICS: '1', DVC_NO_UPDATE_CHECK: '1' } }, (err, stdout, stderr) =>
      err ? rej(new Error(`dvc ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`)) : res(stdout),
    ),
  );
}

const DVC_YAML = `vars:
  - data_dir: data
    report: eval/metrics.json
stages:
  prepare:
    foreach: [a, b]
    do:
      cmd: node prepare.js \${item} \${prepare.scale} \${data_dir}
      deps:
        - prepare.js
        - raw/\${item}.txt
      outs:
        - \${data_dir}/\${item}.txt
  train:
    cmd: node train.js \${train.lr}
    deps:
      - train.js
      - \${data_dir}
    params:
      - train.epochs
    outs:
      - model
    metrics:
      - \${report}:
          cache: false
`;

function makeProject(dir: string) {
  mkdirSync(join(dir, 'raw'), { recursive: true });
  writeFileSync(join(dir, 'raw/a.txt'), '1\n2\n3\n');
  writeFileSync(join(dir, 'raw/b.txt'), '10\n20\n');
  writeFileSync(join(dir, 'params.yaml'), 'prepare:\n  scale: 2\ntrain:\n  lr: 0.1\n  epochs: 3\n');
  writeFileSync(
    join(dir, 'prepare.js'),
    "const fs=require('fs');const [item,scale,out]=process.argv.slice(2);fs.mkdirSync(out,{recursive:true});\n" +
      "const v=fs.readFileSync(`raw/${item}.txt`,'utf8').trim().split('\\n').map(Number).map((x)=>x*Number(scale));\n" +
      "fs.writeFileSync(`${out}/${item}.txt`,v.join('\\n')+'\\n');fs.appendFileSync('runs.log',`prepare@${item}\\n`);\n",
  );
  writeFileSync(
    join(dir, 'train.js'),
    "const fs=require('fs');const lr=Number(process.argv[2]);const xs=['a','b'].flatMap((f)=>fs.readFileSync(`data/${f}.txt`,'utf8').trim().split('\\n').map(Number));\n" +
      "fs.mkdirSync('model/weights',{recursive:true});fs.writeFileSync('model/weights/w.txt',String(xs.reduce((a,b)=>a+b,0)*lr));fs.writeFileSync('model/info.json',JSON.stringify({n:xs.length}));\n" +
      "fs.mkdirSync('eval',{recursive:true});fs.writeFileSync('eval/metrics.json',JSON.stringify({acc:Math.min(1,0.5+lr)}));fs.appendFileSync('runs.log','train\\n');\n",
  );
  writeFileSync(join(dir, 'dvc.yaml'), DVC_YAML);
}

const lockOf = (dir: string) => parseYaml(readFileSync(join(dir, 'dvc.lock'), 'utf8'));
const outputs = (dir: string) => ['data/a.txt', 'data/b.txt', 'model/weights/w.txt', 'model/info.json', 'eval/metrics.json'].map((p) => readFileSync(join(dir, p), 'utf8'));
const ran = (dir: string) => (existsSync(join(dir, 'runs.log')) ? readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n') : []);

describe('dvc.yaml projects: Vitals and the real dvc agree', () => {
  const base = mkdtempSync(join(tmpdir(), 'vitals-dvc-compat-'));
  const ours = join(base, 'vitals');
  const theirs = join(base, 'dvc');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  beforeAll(async () => {
    for (const d of [ours, theirs]) {
      makeProject(d);
      await dvc(d, ['init', '--no-scm', '-q']);
    }
  }, 120_000);

  it('the same stages run with the same outputs, and the lock files agree', async () => {
    const outcome = await runPipeline(loadPipelineSpec(join(ours, 'dvc.yaml')));
    expect(outcome.error).toBeNull();
    expect(outcome.stages.map((s) => [s.name, s.status])).toEqual([
      ['prepare@a', 'succeeded'],
      ['prepare@b', 'succeeded'],
      ['train', 'succeeded'],
    ]);
    await dvc(theirs, ['repro', '-q']);
    expect(ran(ours).sort()).toEqual(ran(theirs).sort());
    expect(outputs(ours)).toEqual(outputs(theirs));
    expect(lockOf(ours)).toEqual(lockOf(theirs));
  }, 180_000);

  it('dvc status has nothing to report after a Vitals run; Vitals finds everything cached after dvc repro', async () => {
    expect(JSON.parse(await dvc(ours, ['status', '--json']))).toEqual({});
    const again = await runPipeline(loadPipelineSpec(join(theirs, 'dvc.yaml')));
    expect(again.stages.map((s) => s.status)).toEqual(['cached', 'cached', 'cached']);
  }, 120_000);

  it('a params change reruns the same stages in both', async () => {
    for (const d of [ours, theirs]) {
      writeFileSync(join(d, 'params.yaml'), 'prepare:\n  scale: 2\ntrain:\n  lr: 0.3\n  epochs: 3\n');
      writeFileSync(join(d, 'runs.log'), '');
    }
    const status = JSON.parse(await dvc(ours, ['status', '--json'])) as Record<string, unknown>;
    expect(Object.keys(status)).toEqual(['train']);
    const outcome = await runPipeline(loadPipelineSpec(join(ours, 'dvc.yaml')));
    expect(outcome.stages.map((s) => [s.name, s.status])).toEqual([
      ['prepare@a', 'cached'],
      ['prepare@b', 'cached'],
      ['train', 'succeeded'],
    ]);
    await dvc(theirs, ['repro', '-q']);
    expect(ran(ours)).toEqual(['train']);
    expect(ran(theirs)).toEqual(['train']);
    expect(outputs(ours)).toEqual(outputs(theirs));
    expect(lockOf(ours)).toEqual(lockOf(theirs));
    expect(JSON.parse(await dvc(ours, ['status', '--json']))).toEqual({});
    // a deleted cache:false metrics file: dvc status and Vitals both see the stage as changed
    rmSync(join(ours, 'eval/metrics.json'));
    expect(Object.keys(JSON.parse(await dvc(ours, ['status', '--json'])))).toEqual(['train']);
    const rerun = await runPipeline(loadPipelineSpec(join(ours, 'dvc.yaml')));
    expect(rerun.stages.find((s) => s.name === 'train')!.status).toBe('succeeded');
  }, 180_000);
});
