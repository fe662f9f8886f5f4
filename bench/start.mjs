#!/usr/bin/env node
// How long `npm start` takes to answer /health (issue 14: a second start within 3 s):
//   npm run build && node bench/start.mjs [--runs 5] [--root <checkout>]
// A first start on an empty VITALS_HOME (demo training and registration included), then --runs second
// starts on the same home, each timed from spawning `npm start` to the first answer of GET /health.
// Reference measured in the same run: a floor server (`node` + node:http answering /health) started the
// same way, so the ratio says how far above a bare Node start Vitals is on this machine at this load.
// Also printed, to show where a second start goes: npm's own overhead, the build check, importing the
// composition root (dist/server/app.js) in a fresh process. --root measures another checkout (built,
// with node_modules), e.g. the commit before a change, for before/after numbers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, machineInfo, printTable, round, writeResult } from './lib/common.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, root: { type: 'string', default: REPO_ROOT } } });
const runs = Number(values.runs);
const root = resolve(values.root);

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });

/** Spawns `command` (in its own process group), returns ms until GET /health answers, then stops it. */
async function timeToHealth(command, args, env) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`${command} ${args.join(' ')} exited before answering /health:\n${stderr.slice(-2000)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status < 500,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    process.kill(-child.pid, 'SIGTERM');
    await new Promise((r) => (exited ? r() : child.on('exit', r)));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (cmd, args) => {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return performance.now() - t0;
};

const floorScript = "require('node:http').createServer((q,s)=>s.end('{\"status\":\"healthy\"}')).listen(Number(process.env.PORT),'127.0.0.1')";
const home = mkdtempSync(join(tmpdir(), 'vitals-bench-start-'));
const env = { VITALS_HOME: home, LOG_LEVEL: 'warn' };
try {
  spawnSync('node', ['scripts/build-if-stale.mjs'], { cwd: root, stdio: 'inherit' });
  console.log(`root ${root}; ${runs} second starts\n`);
  const first = await timeToHealth('npm', ['start'], env);
  const second = [];
  const floor = [];
  for (let i = 0; i < runs; i++) {
    // interleaved, so load on a shared machine falls on both alike
    second.push(await timeToHealth('npm', ['start'], env));
    floor.push(await timeToHealth('node', ['-e', floorScript], {}));
  }
  const direct = [];
  const importApp = [];
  const npmNothing = [];
  const buildCheck = [];
  for (let i = 0; i < runs; i++) {
    direct.push(await timeToHealth('node', ['dist/cli/main.js', 'serve'], env));
    importApp.push(timed('node', ['--input-type=module', '-e', "await import('./dist/server/app.js')"]));
    npmNothing.push(timed('npm', ['run', '--silent', 'env']));
    buildCheck.push(timed('node', ['scripts/build-if-stale.mjs']));
  }
  const rows = [
    { what: 'first `npm start` (empty home: demo training + registration)', ms: round(first, 0) },
    { what: 'second `npm start`, median', ms: round(median(second), 0) },
    { what: 'second `npm start`, min … max', ms: `${round(Math.min(...second), 0)} … ${round(Math.max(...second), 0)}` },
    { what: '  `node dist/cli/main.js serve` (no npm, no build check), median', ms: round(median(direct), 0) },
    { what: '  importing dist/server/app.js in a fresh node, median', ms: round(median(importApp), 0) },
    { what: '  npm itself (`npm run env`), median', ms: round(median(npmNothing), 0) },
    { what: '  the build check (scripts/build-if-stale.mjs), median', ms: round(median(buildCheck), 0) },
    { what: 'reference: floor server (node + node:http) to /health, median', ms: round(median(floor), 0) },
  ];
  printTable(rows, ['what', 'ms']);
  const ratio = median(second) / median(floor);
  console.log(`\nsecond start ÷ floor: ${round(ratio, 1)}×  (issue 14 asks for a second start within 3000 ms: ${median(second) <= 3000 ? 'yes' : 'NO'})`);
  const file = writeResult('start.json', {
    machine: machineInfo(),
    root,
    runs,
    first_ms: first,
    second_ms: second,
    floor_ms: floor,
    direct_ms: direct,
    import_app_ms: importApp,
    npm_ms: npmNothing,
    build_check_ms: buildCheck,
    ratio,
  });
  console.log(`results: ${file}`);
  if (median(second) > 3000) process.exitCode = 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
