// Shared helpers for the Vitals benchmarks (plain ESM; imports only Node built-ins and devDependencies).
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_ROOT = dirname(BENCH_DIR);
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const DEMO_CSV = join(REPO_ROOT, 'data', 'breast_cancer', 'breast_cancer.csv');

/** Rows of the breast cancer CSV as { features: {name: number}, target } (header row; target `diagnosis`). */
export function loadCsvRows(path = DEMO_CSV, target = 'diagnosis') {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = lines[0].split(',').map((h) => h.trim());
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const features = {};
    let label;
    header.forEach((h, i) => {
      if (h === target) label = cells[i].trim();
      else features[h] = Number(cells[i]);
    });
    return { features, target: label };
  });
}

/** Exact percentile (nearest-rank) of a sorted Float64Array. */
export function percentile(sorted, p) {
  if (!sorted.length) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const round = (v, digits = 2) => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);

export function machineInfo() {
  const c = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: c.length,
    cpu_model: c[0]?.model ?? 'unknown',
    memory_gib: round(totalmem() / 1024 ** 3, 1),
  };
}

export function writeResult(name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, name);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** Prints rows (array of objects) as an aligned text table; the first `left` columns are left-aligned. */
export function printTable(rows, columns = Object.keys(rows[0] ?? {}), left = 1) {
  const cells = [columns, ...rows.map((r) => columns.map((c) => String(r[c] ?? '')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}

/**
 * Starts a benchmark server as a child process (IPC channel). Resolves with { child, ready } once
 * the child sends { type: 'ready', ... }. The child's stdout/stderr go to ours, prefixed.
 */
export function startChild(script, args, { name, readyTimeoutMs = 120_000, env = {}, execArgv = [] } = {}) {
  const child = fork(script, args, {
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  const prefix = (stream, out) =>
    stream.on('data', (buf) => {
      for (const l of String(buf).split('\n')) if (l.trim()) out.write(`  [${name}] ${l}\n`);
    });
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready after ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before it was ready (code ${code}, signal ${signal})`));
    };
    child.once('exit', onExit);
    child.on('message', function onMsg(msg) {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('message', onMsg);
        resolve({ child, ready: msg });
      } else if (msg?.type === 'error') {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.kill('SIGKILL');
        reject(new Error(`${name}: ${msg.message}`));
      }
    });
  });
}

/** Sends { type: 'stop' } and waits for { type: 'stopped', ... } and the exit; kills the child after timeoutMs. */
export function stopChild(child, { timeoutMs = 30_000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ type: 'stopped', killed: false, alreadyExited: true });
  return new Promise((resolve) => {
    let report = { type: 'stopped' };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      report = { ...report, killed: true };
    }, timeoutMs);
    child.on('message', (msg) => {
      if (msg?.type === 'stopped') report = msg;
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(report);
    });
    child.send({ type: 'stop' });
  });
}

/** Asks the child a question over IPC ({ type, id, ...payload }) and waits for { type: `${type}:reply`, id }. */
export function ask(child, type, timeoutMs = 30_000, payload = {}) {
  const id = Math.random().toString(36).slice(2);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${type} within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', function onMsg(msg) {
      if (msg?.type === `${type}:reply` && msg.id === id) {
        clearTimeout(timer);
        child.off('message', onMsg);
        resolve(msg);
      }
    });
    child.send({ type, id, ...payload });
  });
}

/** CPU time used by the whole machine so far (ms, all cores), for spotting other load during a run. */
export function machineBusyMs() {
  return cpus().reduce((s, c) => s + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

/**
 * Cores used by processes other than this one and `childCpuMs` (the server under test) over a
 * window: other work on the machine (a CI run, a build) skews a 2-core benchmark badly.
 */
export function foreignCores({ busy0, busy1, ownCpuMs, childCpuMs = 0, seconds }) {
  return round(Math.max(0, busy1 - busy0 - ownCpuMs - childCpuMs) / (seconds * 1000), 2);
}

export const FOREIGN_LOAD_WARN_CORES = 0.15;

/**
 * Waits (at most maxWaitS) for the machine to be quiet: under `threshold` cores busy over a 1 s
 * window, not counting this process. Returns the load last seen; never fails (the runs report the
 * other load they saw anyway).
 */
export async function waitForQuiet({ maxWaitS = 20, threshold = 0.3 } = {}) {
  let seen = 0;
  const deadline = Date.now() + maxWaitS * 1000;
  let warned = false;
  for (;;) {
    const busy0 = machineBusyMs();
    const own0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const own = process.cpuUsage(own0);
    seen = foreignCores({ busy0, busy1: machineBusyMs(), ownCpuMs: (own.user + own.system) / 1000, seconds: 1 });
    if (seen < threshold) return seen;
    if (Date.now() >= deadline) {
      console.warn(`⚠ the machine is still busy (${seen} cores used by other processes); measuring anyway — numbers will be skewed`);
      return seen;
    }
    if (!warned) console.log(`  waiting up to ${maxWaitS} s for other processes to go quiet (${seen} cores busy)…`);
    warned = true;
  }
}

/** Which code was measured: the commit and how many files differ from it (the tree may be mid-change). */
export function codeInfo() {
  const git = (...a) => {
    try {
      return execFileSync('git', a, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const status = git('status', '--porcelain', '--', 'src');
  return { commit: git('rev-parse', '--short', 'HEAD'), src_files_changed_since_commit: status === null ? null : status.split('\n').filter(Boolean).length };
}
