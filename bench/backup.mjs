/**
 * `vitals backup` / `vitals restore` on SQLite with N logged predictions (default 1,000,000, 10
 * features each): time for the backup (online backup API + artifacts + sha256 manifest), the
 * manifest check and the restore, against a plain file copy of the same database measured in the
 * same run (the reference). Prints JSON and writes bench/results/backup.json.
 *
 *   npm run build && node bench/backup.mjs [rows]
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { AuditTrail } from '../dist/audit/index.js';
import { checkBackup, confirmRestore, createBackup, restoreBackup } from '../dist/backup/index.js';
import { uuidv7 } from '../dist/ids.js';
import { openDatabase } from '../dist/store/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const work = mkdtempSync(join(tmpdir(), 'vitals-bench-backup-'));
const home = join(work, 'home');
const ms = (t0) => Math.round(performance.now() - t0);
try {
  const database = await openDatabase(undefined, home);
  const audit = new AuditTrail();
  for (let i = 0; i < 100; i++) await database.db.transaction().execute((trx) => audit.record(trx, { action: 'bench.change', target: `t:${i}`, actor: 'bench' }));
  await database.close();
  const db = new SqliteDatabase(join(home, 'vitals.db'));
  db.pragma('foreign_keys = OFF'); // rows of a model that this bench does not register
  const ins = db.prepare(
    "insert into prediction_logs (id, model_id, version_id, model_name, version, source, input, prediction, probabilities, confidence, latency_ms, created_at) values (?, 'm', 'v', 'bench', '1.0.0', 'api', ?, ?, ?, ?, ?, ?)",
  );
  const fill = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const p = Math.random();
      const input = JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, f) => [`f${f}`, Math.round(Math.random() * 1000) / 1000])));
      ins.run(uuidv7(), input, p > 0.5 ? 'positive' : 'negative', JSON.stringify({ negative: 1 - p, positive: p }), Math.max(p, 1 - p), 3.2, new Date().toISOString());
    }
  });
  for (let i = 0; i < N; i += 50_000) fill(i, Math.min(N, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  mkdirSync(join(home, 'artifacts/sha256/ab'), { recursive: true });
  writeFileSync(join(home, 'artifacts/sha256/ab/ab.onnx'), Buffer.alloc(200_000, 7));
  const bytes = statSync(join(home, 'vitals.db')).size;

  let t0 = performance.now();
  copyFileSync(join(home, 'vitals.db'), join(work, 'copy.db'));
  const copyMs = ms(t0);
  t0 = performance.now();
  const manifest = await createBackup({ databaseUrl: undefined, home }, join(work, 'backup'));
  const backupMs = ms(t0);
  t0 = performance.now();
  await checkBackup(join(work, 'backup'));
  const checkMs = ms(t0);
  t0 = performance.now();
  const target = join(work, 'restored');
  const m = await restoreBackup({ databaseUrl: undefined, home: target }, join(work, 'backup'));
  const restored = await openDatabase(undefined, target);
  const verified = await confirmRestore(restored.db, m, join(work, 'backup'));
  await restored.close();
  const restoreMs = ms(t0);
  const result = {
    rows: N,
    database_bytes: bytes,
    audit_rows: manifest.audit.rows,
    copy_ms: copyMs,
    backup_ms: backupMs,
    check_ms: checkMs,
    restore_ms: restoreMs,
    backup_vs_copy: Math.round((backupMs / Math.max(1, copyMs)) * 10) / 10,
    verified: verified.ok,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/backup.json', `${JSON.stringify(result, null, 2)}\n`);
  if (!verified.ok) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
