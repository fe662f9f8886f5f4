/**
 * The README is tested (issue 14): every shell block of README.md runs with bash, verbatim and in
 * order, against a Vitals that the README's own `npm start` blocks start (on a free port, VITALS_HOME
 * in a temp folder). The blocks are read from README.md, so when it changes this test follows it.
 *
 * What the test adds, and nothing else: `set -euo pipefail`; `curl` is `curl --fail-with-body --show-error` (an HTTP
 * error fails the block; a block marked `<!-- expect-status: N -->` must answer N instead);
 * `localhost:8000` becomes the free port; a `<!-- server -->` block runs in the background until the
 * next one (the test waits for /health); `<!-- not-run: why -->` blocks are skipped, and there may be
 * only a few. The commands run in a folder that links the checkout's package.json, node_modules,
 * dist, scripts, data and examples, so what they write (backups/, audit.pdf) lands in a temp folder.
 * Afterwards (issue 12's acceptance): `vitals audit export --format csv` lists each step of the
 * walk-through with the principal that made it, and `vitals audit verify` exits 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ShellBlock, shellBlocks } from './helpers/readme-blocks.js';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = shellBlocks(readme);

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });

/** The bash script that runs the walk-through; `@@block N@@` / `@@done N@@` frame each block's output. */
function walkThrough(runnable: ShellBlock[], port: number, work: string): string {
  const lines = [
    'exec 2>&1', // one stream, in order: a failing block's messages stay with it
    'set -euo pipefail',
    'curl() { command curl --fail-with-body --show-error "$@"; }',
    'SERVER_PID=',
    'stop_server() { if [[ -n $SERVER_PID ]]; then kill -TERM -- "-$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; fi; }',
    'trap stop_server EXIT',
    'start_server() {',
    '  stop_server',
    '  setsid bash "$1" > "$2" 2>&1 &',
    '  SERVER_PID=$!',
    `  echo "$SERVER_PID" >> ${JSON.stringify(join(work, 'server.pids'))}`,
    '  for _ in $(seq 3000); do',
    `    if command curl -s -o /dev/null "http://127.0.0.1:${port}/health"; then return 0; fi`,
    '    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "the server block exited before answering /health:"; cat "$2"; return 1; fi',
    '    sleep 0.1',
    '  done',
    '  echo "no /health answer within 300 s:"; cat "$2"; return 1',
    '}',
  ];
  runnable.forEach((b, i) => {
    const code = b.code.replaceAll('localhost:8000', `localhost:${port}`);
    lines.push(`echo "@@block ${i}@@"`);
    if (b.marker?.kind === 'server') {
      const file = join(work, `server-${i}.sh`);
      writeFileSync(file, code);
      lines.push(`start_server ${JSON.stringify(file)} ${JSON.stringify(join(work, `server-${i}.log`))}`);
    } else if (b.marker?.kind === 'expect-status') {
      lines.push(`curl() { command curl -w '\\nHTTP %{http_code}\\n' "$@"; }`, code, 'curl() { command curl --fail-with-body --show-error "$@"; }');
    } else lines.push(code);
    lines.push(`echo "@@done ${i}@@"`);
  });
  return `${lines.join('\n')}\n`;
}

/** RFC 4180 rows (quoted fields with doubled quotes, commas and newlines) as objects keyed by the header. */
function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      records.push(row);
      row = [];
    } else field += c;
  }
  const [header = [], ...body] = records;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

describe('README.md', () => {
  const work = mkdtempSync(join(tmpdir(), 'vitals-readme-'));
  afterAll(() => {
    // a server left behind by a failed run (the script's trap stops it otherwise)
    for (const pid of (() => {
      try {
        return readFileSync(join(work, 'server.pids'), 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    })()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('reads shell blocks and their markers; a not-run marker needs a reason', () => {
    const md = ['# t', '<!-- server -->', '```sh', 'npm start', '```', 'text', '```ts', 'skip()', '```', '<!-- expect-status: 422 -->', '', '```bash', 'curl x', '```', '```sh', 'a', '```'].join('\n');
    expect(shellBlocks(md)).toEqual([
      { line: 3, code: 'npm start\n', marker: { kind: 'server' } },
      { line: 12, code: 'curl x\n', marker: { kind: 'expect-status', status: 422 } },
      { line: 15, code: 'a\n', marker: undefined },
    ]);
    expect(() => shellBlocks('<!-- not-run -->\n```sh\nx\n```')).toThrow(/needs a reason/);
  });

  it('marks only a few blocks not-run, each with a reason, and starts Vitals before its first request', () => {
    const notRun = blocks.filter((b) => b.marker?.kind === 'not-run');
    expect(notRun.length).toBeLessThanOrEqual(5);
    const runnable = blocks.filter((b) => b.marker?.kind !== 'not-run');
    expect(runnable.length).toBeGreaterThan(10);
    expect(runnable[0]?.marker?.kind).toBe('server');
  });

  it('runs every shell block of the walk-through and the CLI section, in order; the audit trail records each step', async () => {
    const port = await freePort();
    const home = join(work, 'home');
    const cwd = join(work, 'checkout');
    rmSync(cwd, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', cwd]);
    for (const name of ['package.json', 'node_modules', 'dist', 'scripts', 'data', 'examples', 'bin', '.npmrc']) symlinkSync(join(root, name), join(cwd, name));
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-if-stale.mjs')], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);

    const runnable = blocks.filter((b) => b.marker?.kind !== 'not-run');
    const script = join(work, 'walk-through.sh');
    writeFileSync(script, walkThrough(runnable, port, work));
    // only what a newcomer's shell has: no Vitals settings leak in from the test's environment
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? work,
      LANG: 'C.UTF-8',
      TMPDIR: tmpdir(),
      VITALS_HOME: home,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      INFERENCE_WORKERS: '1',
    };
    const run = spawnSync('bash', [script], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });
    const output = `${run.stdout}${run.stderr}`;
    if (process.env.README_TEST_OUTPUT) writeFileSync(process.env.README_TEST_OUTPUT, output);
    const section = (i: number) => {
      const from = output.indexOf(`@@block ${i}@@`);
      const to = output.indexOf(`@@done ${i}@@`);
      return from < 0 ? '' : output.slice(from + `@@block ${i}@@`.length, to < 0 ? undefined : to).trim();
    };
    if (run.status !== 0) {
      const started = runnable.reduce((last, _, i) => (output.includes(`@@block ${i}@@`) ? i : last), -1);
      const b = runnable[started];
      throw new Error(
        b
          ? `README block at line ${b.line} failed (exit ${run.status}):\n${b.code}\n--- its output ---\n${section(started).slice(-6000)}`
          : `the walk-through did not start (exit ${run.status}):\n${output.slice(-4000)}`,
      );
    }
    runnable.forEach((b, i) => {
      expect(output, `README block at line ${b.line} did not finish`).toContain(`@@done ${i}@@`);
      if (b.marker?.kind === 'expect-status') expect(section(i), `README block at line ${b.line}`).toContain(`HTTP ${b.marker.status}`);
    });

    // Issue 12's acceptance, on the walk-through's own state.
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(cwd, 'dist/cli/main.js'), ...args], { cwd, env, encoding: 'utf8' });
    const verify = cli('audit', 'verify');
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/audit trail intact/);
    const exported = cli('audit', 'export', '--format', 'csv');
    expect(exported.status, exported.stderr).toBe(0);
    const rows = parseCsv(exported.stdout);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    const has = (principal: string, role: string, action: string, target: RegExp, reason?: string) =>
      expect(
        rows.some((r) => r.principal === principal && r.role === role && r.action === action && target.test(r.target ?? '') && (reason === undefined || r.reason === reason)),
        `audit export: no ${action} of ${target} by ${principal}${reason ? ` (${reason})` : ''}\n${exported.stdout}`,
      ).toBe(true);
    // the first start's demo
    has('demo', 'system', 'model.registered', /^model:breast-cancer@1\.0\.0$/);
    has('demo', 'system', 'model.registered', /^model:chest-xray@1\.0\.0$/);
    // the curl walk-through: the local admin (no keys configured, loopback)
    const admin = (action: string, target: RegExp, reason?: string) => has('local-admin', 'admin', action, target, reason);
    admin('pipeline.run_started', /^pipeline_run:/);
    admin('model.registered', /^model:my-model@1\.0\.0$/);
    admin('ground_truth.set', /^prediction:/);
    admin('model.promoted', /^model:breast-cancer@1\.1\.0$/, 'won the A/B test');
    admin('model.rolled_back', /^model:breast-cancer@1\.0\.0$/, 'recall dropped in week 2');
    admin('message.published', /^topic:patient_data$/);
    // the CLI section: the `cli` actor
    const cliDid = (action: string, target: RegExp, reason?: string) => has('cli', 'system', action, target, reason);
    cliDid('model.registered', /^model:bc@1\.0\.0$/);
    cliDid('model.promoted', /^model:bc@1\.0\.0$/);
    cliDid('model.registered', /^model:bc@1\.1\.0$/);
    cliDid('model.promoted', /^model:bc@1\.1\.0$/, 'higher recall on the hold-out set');
    cliDid('model.rolled_back', /^model:bc@1\.0\.0$/, 'precision fell');
    cliDid('model.archived', /^model:bc@1\.1\.0$/, 'replaced');
    cliDid('model.registered', /^model:my-model@1\.1\.0$/);
    // nobody else changed anything; the queued training run registers on behalf of whoever asked for it
    expect(new Set(rows.map((r) => r.principal))).toEqual(new Set(['demo', 'local-admin', 'cli']));
    for (const r of rows.filter((r) => r.target?.startsWith('model:bc-forest@'))) expect(r.principal).toBe('local-admin');
  }, 900_000);
});
