/**
 * Schemathesis (PyPI, pinned; scripts/services/schemathesis.sh) against a started Vitals: every
 * operation of /docs/json with a bounded number of examples and a time limit. Expected: no server
 * error (5xx other than a documented 503), no undocumented status code, no response that violates
 * its schema, and the other checks. `positive_data_acceptance` is left out: Vitals refuses some
 * schema-valid requests on purpose (names that do not exist, production moves without a reason,
 * commands over HTTP), and says so with a 4xx that is documented.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyCnn } from '../../src/onnx/index.js';
import { bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

describe('schemathesis against the OpenAPI document', () => {
  let t: TestApp;
  let base: string;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp({ MODEL_NAME: 'chest-xray', RATE_LIMIT_PER_MINUTE: 0, PIPELINE_WORKER: false });
    await bootstrapDemo(t.services.registry);
    const labels = ['NORMAL', 'PNEUMONIA'];
    const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 11 });
    await t.services.registry.register({
      name: 'chest-xray',
      version: '1.0.0',
      artifact: cnn.onnx,
      input_spec: { kind: 'image', width: 16, height: 16, channels: 3 },
      output_spec: { labels },
      aliases: ['production'],
    });
    key = (await t.services.apiKeys.create('schemathesis', 'admin', 'test')).key;
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => t?.dispose());

  it('finds no server error, undocumented status or schema violation', async () => {
    const st = spawnSync('bash', ['scripts/services/schemathesis.sh'], { encoding: 'utf8' }).stdout.trim();
    expect(st).toMatch(/bin\/st$/);
    // async: the server under test lives in this process and must keep answering
    const run = await runCommand(
      st,
      [
        'run',
        `${base}/docs/json`,
        '-H',
        `Authorization: Bearer ${key}`,
        '--checks',
        'all',
        '--exclude-checks',
        'positive_data_acceptance',
        '--max-examples',
        '10',
        '--max-failures',
        '100',
        '--request-timeout',
        '20',
        '--generation-deterministic',
        '--exclude-path',
        '/api/v1/keys', // fuzzing key creation works, and is tested elsewhere
        '--exclude-path',
        '/api/v1/keys/{name}',
      ],
      400_000,
    );
    const out = run.output;
    // the failures (each with a curl line to reproduce) and the summary
    console.log(out.slice(out.indexOf('FAILURES') > 0 ? out.indexOf('FAILURES') - 40 : out.indexOf('SUMMARY') > 0 ? out.indexOf('SUMMARY') - 40 : -3000));
    expect(run.status, 'schemathesis found the failures printed above').toBe(0);
  }, 450_000);
});

function runCommand(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, output });
    });
  });
}
