/**
 * Vitals and the real `dvc` (PyPI, pinned in .venv-dvc by scripts/services/dvc.sh) on the same
 * templated project (vars inline and from a file, ${…} from params and vars, foreach over a list and
 * a dict, matrix, a folder dep and out, a `cache: false` metrics file, a plots file): the same stages
 * run, the outputs are identical, the dvc.lock files agree, DVC's cache holds the same objects,
 * `dvc status` has nothing to report after a Vitals run, Vitals finds everything cached after
 * `dvc repro`, and a params change reruns the same stages in both. Both refuse an unresolvable ${}.
 * On a git repository, `vitals params diff` / `vitals metrics diff --json` print what dvc prints
 * between revisions (HEAD~1, a tag, the work tree). A missing dvc FAILS this test; it is never skipped.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  - config.yaml
  - data_dir: data
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
    plots:
      - eval/curve.csv
  evaluate:
    foreach:
      small: {n: 1}
      big: {n: 2}
    do:
      cmd: node evaluate.js \${key} \${item.n}
      deps:
        - evaluate.js
        - model
      outs:
        - eval/\${key}.txt
  grid:
    matrix:
      algo: [lr, rf]
      seed: [1, 2]
    cmd: node grid.js \${item.algo} \${item.seed}
    outs:
      - grid/\${item.algo}-\${item.seed}.txt
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
      "fs.mkdirSync('eval',{recursive:true});fs.writeFileSync('eval/metrics.json',JSON.stringify({acc:Math.min(1,0.5+lr)}));fs.writeFileSync('eval/curve.csv','x,y\\n0,'+lr+'\\n');fs.appendFileSync('runs.log','train\\n');\n",
  );
  writeFileSync(
    join(dir, 'evaluate.js'),
    "const fs=require('fs');const [name,n]=process.argv.slice(2);const w=Number(fs.readFileSync('model/weights/w.txt','utf8'));\n" +
      "fs.writeFileSync(`eval/${name}.txt`,String(w*Number(n))+'\\n');fs.appendFileSync('runs.log',`evaluate@${name}\\n`);\n",
  );
  writeFileSync(
    join(dir, 'grid.js'),
    "const fs=require('fs');const [a,s]=process.argv.slice(2);fs.mkdirSync('grid',{recursive:true});fs.writeFileSync(`grid/${a}-${s}.txt`,`${a}:${s}\\n`);fs.appendFileSync('runs.log',`grid@${a}-${s}\\n`);\n",
  );
  writeFileSync(join(dir, 'config.yaml'), 'report: eval/metrics.json\nunused: 1\n');
  writeFileSync(join(dir, 'dvc.yaml'), DVC_YAML);
}

const lockOf = (dir: string) => parseYaml(readFileSync(join(dir, 'dvc.lock'), 'utf8'));
const OUTPUTS = ['data/a.txt', 'data/b.txt', 'model/weights/w.txt', 'model/info.json', 'eval/metrics.json', 'eval/curve.csv', 'eval/small.txt', 'eval/big.txt', 'grid/lr-1.txt', 'grid/rf-2.txt'];
const outputs = (dir: string) => OUTPUTS.map((p) => readFileSync(join(dir, p), 'utf8'));
/** the objects of DVC's cache (.dvc/cache/files/md5/ab/cdef…) */
const cacheObjects = (dir: string) => {
  const root = join(dir, '.dvc/cache/files/md5');
  return existsSync(root)
    ? readdirSync(root)
        .flatMap((d) => readdirSync(join(root, d)).map((f) => `${d}${f}`))
        .sort()
    : [];
};
const md5Of = (text: string) => createHash('md5').update(text).digest('hex');
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
      ['evaluate@small', 'succeeded'],
      ['evaluate@big', 'succeeded'],
      ['grid@lr-1', 'succeeded'],
      ['grid@lr-2', 'succeeded'],
      ['grid@rf-1', 'succeeded'],
      ['grid@rf-2', 'succeeded'],
    ]);
    await dvc(theirs, ['repro', '-q']);
    expect(ran(ours).sort()).toEqual(ran(theirs).sort());
    expect(ran(ours)).toHaveLength(9);
    expect(outputs(ours)).toEqual(outputs(theirs));
    expect(lockOf(ours)).toEqual(lockOf(theirs));
    // the same objects in DVC's cache: outs, the plots file, the model folder's files and listing; the
    // `cache: false` metrics file stays out of it (dvc keeps one copy only for its run-cache, .dvc/runs,
    // which Vitals does not keep)
    const metricsMd5 = md5Of(readFileSync(join(ours, 'eval/metrics.json'), 'utf8'));
    expect(cacheObjects(ours)).toEqual(cacheObjects(theirs).filter((o) => o !== metricsMd5));
    expect(cacheObjects(theirs)).toContain(metricsMd5);
    expect(cacheObjects(ours)).not.toContain(metricsMd5);
    expect(cacheObjects(ours)).toContain(md5Of(readFileSync(join(ours, 'eval/curve.csv'), 'utf8')));
  }, 180_000);

  it('dvc status has nothing to report after a Vitals run; Vitals finds everything cached after dvc repro', async () => {
    expect(JSON.parse(await dvc(ours, ['status', '--json']))).toEqual({});
    const again = await runPipeline(loadPipelineSpec(join(theirs, 'dvc.yaml')));
    expect(again.stages.map((s) => s.status)).toEqual(Array(9).fill('cached'));
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
      ['evaluate@small', 'succeeded'], // the model changed
      ['evaluate@big', 'succeeded'],
      ['grid@lr-1', 'cached'],
      ['grid@lr-2', 'cached'],
      ['grid@rf-1', 'cached'],
      ['grid@rf-2', 'cached'],
    ]);
    await dvc(theirs, ['repro', '-q']);
    expect(ran(ours)).toEqual(['train', 'evaluate@small', 'evaluate@big']);
    expect(ran(theirs).sort()).toEqual(['evaluate@big', 'evaluate@small', 'train']);
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

describe('a ${} that resolves to nothing', () => {
  it('is refused by both, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-dvc-unresolved-'));
    try {
      writeFileSync(join(dir, 'params.yaml'), 'lr: 0.1\n');
      writeFileSync(join(dir, 'dvc.yaml'), 'stages:\n  train:\n    cmd: node train.js ${lr} ${epochs}\n');
      await dvc(dir, ['init', '--no-scm', '-q']);
      expect(() => loadPipelineSpec(join(dir, 'dvc.yaml'))).toThrow(/stages\.train\.cmd: \$\{epochs\} cannot be resolved/);
      await expect(dvc(dir, ['repro'])).rejects.toThrow(/epochs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('params diff and metrics diff between git revisions: `vitals` prints what `dvc` prints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vitals-dvc-revs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (args: string[]) =>
    new Promise<string>((res, rej) => execFile('git', args, { cwd: dir }, (err, stdout, stderr) => (err ? rej(new Error(`git ${args.join(' ')}: ${stderr}`)) : res(stdout))));
  /** the compiled CLI, as a user runs it; stdout must be JSON and nothing else */
  const vitals = (args: string[]) =>
    new Promise<unknown>((res, rej) =>
      execFile(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args, '--json'], { cwd: dir, env: { ...process.env, LOG_LEVEL: 'silent' } }, (err, stdout, stderr) =>
        err ? rej(new Error(`vitals ${args.join(' ')}: ${stderr}`)) : res(JSON.parse(stdout)),
      ),
    );
  const params = (lr: number, epochs: number, extra: string) => `prepare:\n  scale: 2\ntrain:\n  lr: ${lr}\n  epochs: ${epochs}\n${extra}`;
  const run = async () => expect((await runPipeline(loadPipelineSpec(join(dir, 'dvc.yaml')))).error).toBeNull();

  beforeAll(async () => {
    await git(['init', '-q']);
    await git(['config', 'user.email', 'ci@example.org']);
    await git(['config', 'user.name', 'ci']);
    await dvc(dir, ['init', '-q']);
    writeFileSync(
      join(dir, 'train.js'),
      "const fs=require('fs');const lr=Number(process.argv[2]);fs.mkdirSync('eval',{recursive:true});\n" +
        "fs.writeFileSync('eval/metrics.json',JSON.stringify(lr>0.2?{acc:0.5+lr,nested:{f1:0.4},label:'b',ok:true,gone:1}:{acc:0.5+lr,nested:{f1:0.4},label:'a',ok:false}));\n" +
        "fs.writeFileSync('eval/loss.json',JSON.stringify({loss:lr}));\n",
    );
    // eval/loss.json is a cached output, kept out of git as dvc does it: an old revision's value comes from DVC's cache
    writeFileSync(join(dir, '.gitignore'), '/eval/loss.json\n');
    writeFileSync(
      join(dir, 'dvc.yaml'),
      'stages:\n  train:\n    cmd: node train.js ${train.lr}\n    deps: [train.js]\n    params:\n      - train.epochs\n      - opt.yaml:\n          - opt\n    metrics:\n      - eval/metrics.json:\n          cache: false\n      - eval/loss.json\n',
    );
    writeFileSync(join(dir, 'params.yaml'), params(0.1, 3, 'unused: 7\n'));
    writeFileSync(join(dir, 'opt.yaml'), 'opt:\n  name: adam\n  betas: [0.9, 0.99]\n  flag: true\n');
    await run();
    await git(['add', '-A']);
    await git(['commit', '-qm', 'one']);
    await git(['tag', 'v1']);
    writeFileSync(join(dir, 'params.yaml'), params(0.3, 4, 'extra: 1\n'));
    writeFileSync(join(dir, 'opt.yaml'), 'opt:\n  name: sgd\n  betas: [0.9, 0.999]\n  flag: false\n');
    await run();
    await git(['add', '-A']);
    await git(['commit', '-qm', 'two']);
    writeFileSync(join(dir, 'params.yaml'), params(0.3, 5, 'extra: 2\n')); // the work tree differs from HEAD
  }, 180_000);

  for (const revs of [[], ['HEAD~1'], ['v1', 'HEAD'], ['v1'], ['HEAD~1', '--all'], ['--all']]) {
    it(`params diff ${revs.join(' ') || '(HEAD against the work tree)'}; metrics diff too`, async () => {
      for (const kind of ['params', 'metrics']) {
        const ours = await vitals([kind, 'diff', ...revs]);
        const theirs = JSON.parse(await dvc(dir, [kind, 'diff', ...revs, '--json']));
        expect(ours, `${kind} diff ${revs.join(' ')}`).toEqual(theirs);
      }
    });
  }

  it('the diffs are not empty: the cached metric is read at its revision, lists and booleans as dvc shows them', async () => {
    expect(await vitals(['metrics', 'diff', 'v1', 'HEAD'])).toMatchObject({
      'eval/loss.json': { loss: { old: 0.1, new: 0.3, diff: expect.closeTo(0.2, 9) } },
      'eval/metrics.json': { acc: { old: 0.6, new: 0.8 }, ok: { old: false, new: true, diff: 1 }, label: { old: 'a', new: 'b' }, gone: { old: null, new: 1 } },
    });
    expect(await vitals(['params', 'diff', 'v1', 'HEAD'])).toMatchObject({
      'opt.yaml': { 'opt.betas': { old: '[0.9, 0.99]', new: '[0.9, 0.999]' }, 'opt.flag': { old: true, new: false, diff: -1 } },
      'params.yaml': { unused: { old: 7, new: null }, extra: { old: null, new: 1 } },
    });
    await expect(vitals(['params', 'diff', 'no-such-tag'])).rejects.toThrow(/"no-such-tag" is not a commit/);
  });
});
