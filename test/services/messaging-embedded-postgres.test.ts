/**
 * The message bus contract on the embedded bus over a real PostgreSQL server (DATABASE_URL_TEST,
 * set by `npm run test:services`): claims use FOR UPDATE SKIP LOCKED, so subscribers on separate
 * connections share a group's work; the outbox relay takes an advisory lock per batch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedBus, type BusMessage } from '../../src/messaging/index.js';
import { type Database, openDatabase, truncateAll } from '../../src/store/index.js';
import { startTestApp } from '../helpers/app.js';
import { busContract, unique, waitFor } from '../helpers/bus-contract.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

const databases: Database[] = [];
afterAll(async () => {
  for (const d of databases) await d.close();
});

busContract('embedded (PostgreSQL)', {
  async makeBus() {
    const database = await openDatabase(url, '/tmp/unused');
    databases.push(database);
    return new EmbeddedBus(database, { pollMs: 50, leaseMs: 1500, retentionHours: 0 });
  },
  redeliveryTimeoutMs: 10_000,
});

describe('outbox relays on PostgreSQL', () => {
  it('two replicas relaying one outbox deliver every event, in order per key', async () => {
    const topic = unique('pg-relay');
    const overrides = { DATABASE_URL: url, MESSAGING_TOPICS: `relay_test=${topic}`, OUTBOX_RELAY_INTERVAL_MS: 20, OUTBOX_BATCH_SIZE: 50, EMBEDDED_BUS_POLL_MS: 50 };
    const a = await startTestApp(overrides);
    const b = await startTestApp(overrides);
    try {
      await truncateAll(a.services.database);
      const seen = new Map<string, number[]>();
      const counts = new Map<string, number>();
      await a.services.messaging.queue.subscribe<{ seq: number; key: string }>('relay_test', 'pg-consumer', (p, m: BusMessage) => {
        counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
        seen.set(p.key, [...(seen.get(p.key) ?? []), p.seq]);
      });
      const ids: string[] = [];
      for (let i = 0; i < 400; i++) {
        const key = `P${i % 4}`;
        const r = await (i % 2 ? a : b).services.messaging.queue.enqueue('relay_test', { seq: i, key }, { key });
        ids.push(r.message_id);
      }
      await waitFor('400 events', () => ids.every((id) => counts.has(id)), 30_000, 100);
      expect(counts.size).toBe(400);
      for (const [, seqs] of seen) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      const relayed = a.services.messaging.relay.stats.relayed_total + b.services.messaging.relay.stats.relayed_total;
      expect(relayed).toBeGreaterThanOrEqual(400);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
