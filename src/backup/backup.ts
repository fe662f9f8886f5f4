/**
 * Backup and restore of a Vitals installation: the database (SQLite's online backup API, or pg_dump
 * for PostgreSQL) and the artifact store, with a manifest of every file's sha256 and size and the
 * audit chain's head at the backup moment. Restore checks the manifest before it touches anything.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { AuditTrail, type VerifyResult, verifyChain } from '../audit/index.js';

export const MANIFEST = 'manifest.json';
const FORMAT = 'vitals-backup/1';
const SQLITE_FILE = 'database/vitals.db';
const PG_FILE = 'database/vitals.pgdump';

export interface BackupFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  format: typeof FORMAT;
  created_at: string;
  dialect: 'sqlite' | 'postgres';
  database: string;
  /** the audit chain in the backed-up database: compare with `vitals audit verify` after a restore */
  audit: { rows: number; head: string | null };
  files: BackupFile[];
  /** set on backups made by BACKUP_SCHEDULE: only those are ever deleted by BACKUP_KEEP */
  origin?: { schedule: string; slot: string };
}

/** Where an installation keeps its state: the database and the artifact folder. */
export interface Installation {
  /** DATABASE_URL: postgres://… or a SQLite file */
  databaseUrl: string | undefined;
  home: string;
}

const isPostgres = (url: string | undefined): url is string => !!url && /^postgres(ql)?:\/\//.test(url);
const sqliteFile = (i: Installation) => (i.databaseUrl ? resolve(i.databaseUrl.replace(/^sqlite:(\/\/)?/, '')) : resolve(i.home, 'vitals.db'));
const artifactRoot = (i: Installation) => resolve(i.home, 'artifacts');
/** The de-identification key (multimodal/deid-key.ts) when DEID_SALT is unset: without it, pseudonyms change after a restore. */
const DEID_KEY = 'deid.key';
const STATE_KEY = `state/${DEID_KEY}`;

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function listFiles(root: string, under = ''): Promise<string[]> {
  if (!existsSync(join(root, under))) return [];
  const out: string[] = [];
  for (const e of await readdir(join(root, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, rel)));
    else if (e.isFile() && !e.name.endsWith('.tmp')) out.push(rel);
  }
  return out.sort();
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    p.stderr.on('data', (d) => (err += String(d)));
    p.on('error', (e) => fail(new Error(`${cmd}: ${e.message} (install postgresql-client)`)));
    p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} exited ${code}: ${err.trim()}`))));
  });
}

async function auditHeadSqlite(file: string): Promise<Manifest['audit']> {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    const has = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'audit_events'").get();
    if (!has) return { rows: 0, head: null };
    const r = db.prepare('select count(*) as n, (select hash from audit_events order by seq desc limit 1) as head from audit_events').get() as { n: number; head: string | null };
    return { rows: r.n, head: r.head ?? null };
  } finally {
    db.close();
  }
}

/**
 * Takes a backup into `out` (which must be empty or absent) while the service runs.
 * SQLite: the online backup API copies a consistent snapshot page by page beside live writers.
 * PostgreSQL: pg_dump runs on a snapshot exported from a repeatable-read transaction in which the
 * audit head is read, so the manifest's head is the head of exactly the dumped data.
 */
export async function createBackup(inst: Installation, out: string, options: { origin?: Manifest['origin'] } = {}): Promise<Manifest> {
  out = resolve(out);
  if (existsSync(out) && (await readdir(out)).length) throw new Error(`--out ${out} is not empty: back up into a new folder`);
  await mkdir(join(out, 'database'), { recursive: true });
  let audit: Manifest['audit'];
  let database: string;
  if (isPostgres(inst.databaseUrl)) {
    database = PG_FILE;
    const client = new pg.Client({ connectionString: inst.databaseUrl });
    await client.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      const snap = (await client.query('select pg_export_snapshot() as s')).rows[0].s as string;
      const r = (await client.query('select count(*)::int as n, (select hash from audit_events order by seq desc limit 1) as head from audit_events')).rows[0];
      audit = { rows: r.n, head: r.head ?? null };
      await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snap}`, `--file=${join(out, PG_FILE)}`, `--dbname=${inst.databaseUrl}`]);
      await client.query('commit');
    } finally {
      await client.end();
    }
  } else {
    database = SQLITE_FILE;
    const src = sqliteFile(inst);
    if (!existsSync(src)) throw new Error(`no database at ${src}: nothing to back up`);
    const db = new SqliteDatabase(src, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      await db.backup(join(out, SQLITE_FILE));
    } finally {
      db.close();
    }
    audit = await auditHeadSqlite(join(out, SQLITE_FILE));
  }
  // After the database: every artifact the snapshot refers to is already in the store (they are
  // written before their rows commit); extra ones are harmless (content-addressed).
  if (existsSync(artifactRoot(inst))) await cp(artifactRoot(inst), join(out, 'artifacts'), { recursive: true, filter: (s) => !s.endsWith('.tmp') });
  if (existsSync(join(inst.home, DEID_KEY))) {
    await mkdir(join(out, 'state'), { recursive: true });
    await copyFile(join(inst.home, DEID_KEY), join(out, STATE_KEY));
    await chmod(join(out, STATE_KEY), 0o600);
  }
  const files: BackupFile[] = [];
  for (const path of await listFiles(out)) {
    files.push({ path, sha256: await sha256File(join(out, path)), bytes: (await stat(join(out, path))).size });
  }
  const manifest: Manifest = {
    format: FORMAT,
    created_at: new Date().toISOString(),
    dialect: isPostgres(inst.databaseUrl) ? 'postgres' : 'sqlite',
    database,
    audit,
    files,
    ...(options.origin ? { origin: options.origin } : {}),
  };
  await writeFile(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** A manifest path may only name a file inside the backup folder. */
function inside(dir: string, path: string): string {
  const full = resolve(dir, normalize(path));
  const rel = relative(dir, full);
  if (!path || isAbsolute(path) || rel.startsWith('..') || rel.split(sep).includes('..')) throw new Error(`backup manifest names a path outside the backup: ${path}`);
  return full;
}

/** Checks the manifest and every file it lists; throws naming the first missing, resized or changed file. */
export async function checkBackup(dir: string): Promise<Manifest> {
  dir = resolve(dir);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`backup ${dir} is damaged: ${MANIFEST} is missing or not JSON (${(e as Error).message})`);
  }
  if (manifest.format !== FORMAT || !Array.isArray(manifest.files) || !manifest.files.some((f) => f.path === manifest.database)) {
    throw new Error(`backup ${dir} is damaged: ${MANIFEST} is not a ${FORMAT} manifest listing its database file`);
  }
  for (const f of manifest.files) {
    const file = inside(dir, f.path);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw new Error(`backup is damaged: ${f.path} is missing`);
    if (st.size !== f.bytes) throw new Error(`backup is damaged: ${f.path} has ${st.size} bytes, the manifest says ${f.bytes}`);
    if ((await sha256File(file)) !== f.sha256) throw new Error(`backup is damaged: ${f.path} does not match its sha256 in the manifest`);
  }
  return manifest;
}

async function pgHasData(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t = await client.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
    return t.rows[0].n > 0;
  } finally {
    await client.end();
  }
}

/**
 * Restores a checked backup into an installation. Refuses a non-empty target unless `force`
 * (the service must be stopped: the database and artifacts are replaced underneath it).
 */
export async function restoreBackup(inst: Installation, dir: string, opts: { force?: boolean } = {}): Promise<Manifest> {
  dir = resolve(dir);
  const manifest = await checkBackup(dir);
  const wantPg = manifest.dialect === 'postgres';
  if (wantPg !== isPostgres(inst.databaseUrl)) {
    throw new Error(`this backup is of a ${manifest.dialect} database; DATABASE_URL points at ${isPostgres(inst.databaseUrl) ? 'PostgreSQL' : 'SQLite'}`);
  }
  const arts = artifactRoot(inst);
  const dbFile = sqliteFile(inst);
  const nonEmpty = (isPostgres(inst.databaseUrl) ? await pgHasData(inst.databaseUrl) : existsSync(dbFile)) || (await listFiles(arts)).length > 0;
  if (nonEmpty && !opts.force) {
    throw new Error(`the target is not empty (${isPostgres(inst.databaseUrl) ? 'the database has tables' : dbFile} or ${arts}): stop the service and pass --force to replace it`);
  }
  if (isPostgres(inst.databaseUrl)) {
    await pgDropPublic(inst.databaseUrl);
    await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${inst.databaseUrl}`, join(dir, manifest.database)]);
  } else {
    // Copy beside the target, then rename over it: the target is never half written.
    await mkdir(dirname(dbFile), { recursive: true });
    const tmp = `${dbFile}.restore.tmp`;
    await cp(join(dir, manifest.database), tmp);
    for (const f of [`${dbFile}-wal`, `${dbFile}-shm`]) await rm(f, { force: true });
    await rename(tmp, dbFile);
  }
  await rm(arts, { recursive: true, force: true });
  if (existsSync(join(dir, 'artifacts'))) await cp(join(dir, 'artifacts'), arts, { recursive: true });
  if (manifest.files.some((f) => f.path === STATE_KEY)) {
    await mkdir(inst.home, { recursive: true });
    await copyFile(join(dir, STATE_KEY), join(inst.home, DEID_KEY));
    await chmod(join(inst.home, DEID_KEY), 0o600);
  }
  return manifest;
}

/** Empties the target database's public schema so that the dump restores into a clean one. */
async function pgDropPublic(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('drop schema if exists public cascade');
    await client.query('create schema public');
  } finally {
    await client.end();
  }
}

/**
 * After a restore: the restored chain must verify and end at the manifest's head; then the restore
 * itself is recorded (appended after the backup's rows, so the chain up to the head is unchanged).
 */
export async function confirmRestore(db: Kysely<any>, manifest: Manifest, dir: string): Promise<VerifyResult> {
  const result = await verifyChain(db);
  if (!result.ok) throw new Error(`restored audit trail does not verify: ${result.problem!.message}`);
  if (result.head !== manifest.audit.head) throw new Error(`restored audit head ${result.head} is not the manifest's ${manifest.audit.head}`);
  await db.transaction().execute((trx) =>
    new AuditTrail().record(trx, {
      action: 'system.restored',
      target: `backup:${manifest.created_at}`,
      actor: 'cli',
      details: { dir, audit_head: manifest.audit.head, audit_rows: manifest.audit.rows, files: manifest.files.length },
    }),
  );
  return result;
}
