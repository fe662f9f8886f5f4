/**
 * CLI failures as a user sees them (compiled CLI, child processes): one line saying what to fix,
 * exit 2 for usage errors, no stack trace unless --debug; --json keeps stdout pure JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');
const data = join(root, 'data/breast_cancer/breast_cancer.csv');

function vitals(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    env: { ...process.env, VITALS_HOME: join(cwd, 'home'), LOG_LEVEL: 'silent', VITALS_DEMO: 'false' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stderr.trim().split('\n') };
}
const noStack = (err: string) => expect(err).not.toMatch(/^\s+at /m);

describe('CLI errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vitals-cli-errors-'));

  it('a missing file is one line naming it, no stack trace', () => {
    const r = vitals(dir, ['train', '--data', 'data.csv', '--target', 'diagnosis']);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual(['error: cannot read data.csv: no such file']);
    const spec = vitals(dir, ['register', '--name', 'm', '--file', 'model.onnx', '--spec', 'missing-spec.json']);
    expect(spec.lines).toEqual(['error: cannot read missing-spec.json: no such file']);
  }, 180_000);

  it('--debug adds the stack trace', () => {
    const r = vitals(dir, ['--debug', 'train', '--data', 'data.csv', '--target', 'diagnosis']);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe('error: cannot read data.csv: no such file');
    expect(r.err).toMatch(/^\s+at /m);
  }, 180_000);

  it('usage errors exit 2 with one line: a missing option, an unknown command, malformed JSON', () => {
    const missing = vitals(dir, ['train', '--data', data]);
    expect(missing.code).toBe(2);
    expect(missing.lines).toEqual(["error: required option '--target <column>' not specified"]);
    expect(vitals(dir, ['trian']).code).toBe(2);
    const json = vitals(dir, ['predict', '--model', 'bc', '--features', '{mean_radius: 17.99}']);
    expect(json.code).toBe(2);
    expect(json.lines).toHaveLength(1);
    expect(json.lines[0]).toMatch(/^error: --features is not valid JSON \(.*\); names and strings need double quotes/);
    writeFileSync(join(dir, 'spec.json'), '{"input_spec": ');
    writeFileSync(join(dir, 'model.onnx'), 'x');
    const spec = vitals(dir, ['register', '--name', 'm', '--file', 'model.onnx', '--spec', 'spec.json']);
    expect(spec.code).toBe(2);
    expect(spec.lines[0]).toMatch(/^error: spec\.json is not valid JSON/);
    noStack(spec.err);
  }, 180_000);

  it('an unreachable database or server is one line saying so', () => {
    const db = vitals(dir, ['--database-url', 'postgres://vitals@127.0.0.1:1/none', 'models', 'list']);
    expect(db.code).toBe(1);
    expect(db.lines).toEqual(['error: cannot open the database: cannot connect to 127.0.0.1:1: connection refused (is it running?)']);
    const server = vitals(dir, ['predict', '--url', 'http://127.0.0.1:1', '--model', 'bc', '--features', '{}']);
    expect(server.code).toBe(1);
    expect(server.lines).toHaveLength(1);
    expect(server.lines[0]).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:1/);
  }, 180_000);

  it('--json prints only JSON on stdout; progress goes to stderr', () => {
    const train = vitals(dir, ['train', '--data', data, '--target', 'diagnosis', '--algo', 'logreg', '--name', 'bc', '--json']);
    expect(train.code, train.err).toBe(0);
    expect(JSON.parse(train.out)).toMatchObject({ model: 'bc', version: '1.0.0', metrics: { accuracy: expect.any(Number) } });
    expect(train.err).toMatch(/training logreg: 100%/);

    writeFileSync(join(dir, 'dvc.yaml'), "stages:\n  hello:\n    cmd: node -e \"require('fs').writeFileSync('out.txt', 'hi')\"\n    outs: [out.txt]\n");
    const run = vitals(dir, ['pipeline', 'run', '--json']);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ status: 'succeeded', stages: [{ name: 'hello', status: 'succeeded' }] });
    expect(run.err).toMatch(/hello succeeded/);
  }, 180_000);
});
