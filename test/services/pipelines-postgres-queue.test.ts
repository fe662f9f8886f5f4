/** The job queue on a real PostgreSQL: two workers on two connection pools share runs (SKIP LOCKED); a crashed worker's run is recovered. */
import { afterAll, beforeEach, describe } from 'vitest';
import { type Database, openDatabase, truncateAll } from '../../src/store/index.js';
import { jobQueueContract } from '../helpers/job-queue-contract.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

let dbs: Database[] | undefined;
const open = async () => {
  dbs ??= [await openDatabase(url, '/tmp/unused'), await openDatabase(url, '/tmp/unused')];
  return dbs;
};
beforeEach(async () => {
  const [d] = await open();
  await truncateAll(d!);
});
afterAll(async () => {
  for (const d of dbs ?? []) await d.close();
});

describe('pipeline job queue (PostgreSQL, two workers)', () => jobQueueContract(open));
