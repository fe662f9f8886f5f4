/**
 * search-runs in SQL on PostgreSQL answers as the grammar's reference evaluator (the SQLite half is
 * in test/mlflow-api.test.ts; see test/helpers/mlflow-search-contract.ts).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Database, openDatabase, truncateAll } from '../../src/store/index.js';
import { MlflowTracking } from '../../src/tracking/index.js';
import { expectSearchMatchesReference } from '../helpers/mlflow-search-contract.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

describe('search-runs in SQL (PostgreSQL)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase(url, '/tmp/unused');
    await truncateAll(database);
  });
  afterAll(() => database.close());

  it('random runs and random filters, orderings, view types and pages', async () => {
    const tracking = new MlflowTracking(database);
    for (const seed of [17, 2024, 99]) await expectSearchMatchesReference(database, tracking, seed);
  }, 180_000);
});
