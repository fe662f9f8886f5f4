/**
 * The prediction log's writer thread on a real PostgreSQL (its own one-connection pool): rows are
 * committed before they are answered, and on the embedded bus their `prediction.recorded` events are
 * written only while a consumer group reads the topic (the embedded bus drops the others at publish).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionLog, type PredictionOutbox } from '../../src/monitoring/prediction-log.js';
import { type Database, openDatabase, truncateAll } from '../../src/store/index.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

const entry = (i: number) => ({ model_id: 'm1', model_name: 'breast-cancer', source: 'api' as const, input: { mean_radius: i }, prediction: 'benign', probabilities: { benign: 0.8, malignant: 0.2 } });

describe('prediction log writer thread on PostgreSQL', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase(url, '/tmp/unused');
    await truncateAll(database);
  });
  afterAll(async () => {
    await truncateAll(database);
    await database.close();
  });

  it('commits before answering, and writes prediction events only once a group reads them', async () => {
    expect(database.connection?.kind).toBe('postgres');
    const outbox: PredictionOutbox = { maxMessageBytes: 1_000_000, enqueueEvents: async () => [], unreadDroppedFor: (t) => `vitals.${t}` };
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000, ack: 'commit', outbox });
    const events = async () =>
      Number(
        (
          await database.db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('topic', '=', 'predictions')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = Array.from({ length: 40 }, (_, i) => log.record(entry(i)));
    await log.committed();
    expect(await database.db.selectFrom('prediction_logs').select('id').where('id', 'in', before).execute()).toHaveLength(40);
    expect(await events()).toBe(0);
    await database.db.insertInto('bus_groups').values({ topic: 'vitals.predictions', group_name: 'warehouse', created_at: new Date().toISOString() }).execute();
    const after = Array.from({ length: 15 }, (_, i) => log.record(entry(100 + i)));
    await log.committed();
    const rows = await database.db.selectFrom('outbox').select('payload').where('topic', '=', 'predictions').orderBy('id').execute();
    expect(rows.map((r) => JSON.parse(r.payload).data.prediction_id)).toEqual(after);
    await log.close();
  });
});
