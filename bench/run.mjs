#!/usr/bin/env node
// Runs every Vitals benchmark in sequence, each in its own process:
//   npm run build && node bench/run.mjs [--with-postgres]
// --with-postgres: when neither DATABASE_URL_BENCH nor DATABASE_URL_TEST is set, start the throwaway
// PostgreSQL of scripts/services/postgres.sh for the prediction-log benchmark (and stop it afterwards
// if this run started it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, REPO_ROOT } from './lib/common.mjs';

const withPostgres = process.argv.includes('--with-postgres');
const env = { ...process.env };
let startedPostgres = false;

if (!existsSync(join(REPO_ROOT, 'dist', 'server', 'app.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}

const script = join(REPO_ROOT, 'scripts', 'services', 'postgres.sh');
if (withPostgres && !env.DATABASE_URL_BENCH && !env.DATABASE_URL_TEST) {
  if (!existsSync(script)) console.warn(`--with-postgres: ${script} not found; PostgreSQL will be skipped`);
  else {
    const wasRunning = spawnSync('bash', [script, 'status'], { stdio: 'ignore' }).status === 0;
    const r = spawnSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const url =
      r.status === 0
        ? r.stdout
            .trim()
            .split('\n')
            .at(-1)
            .match(/^DATABASE_URL=(.+)$/)?.[1]
        : undefined;
    if (url) {
      env.DATABASE_URL_BENCH = url;
      startedPostgres = !wasRunning;
    } else console.warn(`--with-postgres: ${script} start failed (exit ${r.status}); PostgreSQL will be skipped`);
  }
}

const failed = [];
try {
  for (const name of ['serving.mjs', 'prediction-log.mjs']) {
    console.log(`\n════════ ${name} ════════`);
    const r = spawnSync(process.execPath, [join(BENCH_DIR, name)], { stdio: 'inherit', env, timeout: 180_000 });
    if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
  }
} finally {
  if (startedPostgres) spawnSync('bash', [script, 'stop'], { stdio: 'inherit' });
}
if (failed.length) {
  console.error(`\n✖ failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\n✔ all benchmarks done; results in bench/results/');
