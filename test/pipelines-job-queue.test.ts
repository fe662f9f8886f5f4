import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe } from 'vitest';
import { type Database, openDatabase, truncateAll } from '../src/store/index.js';
import { jobQueueContract } from './helpers/job-queue-contract.js';

const home = mkdtempSync(join(tmpdir(), 'vitals-queue-'));
let db: Database | undefined;
const open = async () => {
  db ??= await openDatabase(undefined, home);
  return [db, db]; // SQLite: one process; the "two workers" share one connection
};
beforeEach(async () => {
  if (db) await truncateAll(db);
});
afterAll(async () => {
  await db?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('pipeline job queue (SQLite)', () => jobQueueContract(open));
