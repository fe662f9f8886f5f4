/**
 * The behaviour every message bus must have, run against each implementation: the embedded bus on
 * SQLite (test/messaging-embedded.test.ts) and PostgreSQL, RabbitMQ and Kafka
 * (test/services/messaging-*.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusMessage, type MessageBus, type OutgoingMessage, PermanentMessageError } from '../../src/messaging/index.js';
import { uuidv7 } from '../../src/ids.js';

export interface BusFixture {
  /** a new bus instance (its own connection) on the shared backend */
  makeBus(): Promise<MessageBus>;
  /** a second member of a group may need a moment to get its share (Kafka rebalances) */
  settleMs?: number;
  /** how long redelivery after a crash may take (lease expiry, session timeout) */
  redeliveryTimeoutMs?: number;
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export function messages(topic: string, n: number, key: (i: number) => string | null = () => null): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({ id: uuidv7(), topic, key: key(i), value: JSON.stringify({ seq: i, text: `message ${i}` }), headers: { 'x-test': 'yes' } }));
}

export function busContract(name: string, fixture: BusFixture) {
  describe(`message bus contract: ${name}`, () => {
    const opened: MessageBus[] = [];
    let bus: MessageBus;
    const open = async () => {
      const b = await fixture.makeBus();
      opened.push(b);
      await b.connect();
      return b;
    };
    const settle = () => new Promise((r) => setTimeout(r, fixture.settleMs ?? 0));

    beforeAll(async () => {
      bus = await open();
    });
    afterAll(async () => {
      for (const b of opened) await b.close().catch(() => undefined);
    });

    it('delivers every published message once to a subscriber, with id, key, headers and payload', async () => {
      const topic = unique('contract-basic');
      const got: BusMessage[] = [];
      const sub = await bus.subscribe(topic, 'g1', (_payload, m) => {
        got.push(m);
      });
      const batch = messages(topic, 50, (i) => (i % 2 ? 'odd' : null));
      await bus.publish(batch);
      await waitFor('50 messages', () => got.length >= 50);
      await new Promise((r) => setTimeout(r, 300)); // no extra deliveries straggle in
      expect(got).toHaveLength(50);
      expect(new Set(got.map((m) => m.id))).toEqual(new Set(batch.map((m) => m.id)));
      const first = got.find((m) => m.id === batch[1]!.id)!;
      expect(first).toMatchObject({ topic, key: 'odd', payload: { seq: 1, text: 'message 1' }, attempt: 1 });
      expect(first.headers['x-test']).toBe('yes');
      expect(got.find((m) => m.id === batch[0]!.id)!.key).toBeNull();
      await sub.close();
    });

    it('keeps the order of messages with one key, with handlers running concurrently', async () => {
      const topic = unique('contract-order');
      const seen = new Map<string, number[]>();
      const sub = await bus.subscribe<{ seq: number }>(
        topic,
        'g1',
        async (payload, m) => {
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          seen.set(m.key!, [...(seen.get(m.key!) ?? []), payload.seq]);
        },
        { concurrency: 8 },
      );
      const batch = messages(topic, 120, (i) => `patient-${i % 3}`);
      await bus.publish(batch.slice(0, 60));
      await bus.publish(batch.slice(60));
      await waitFor('120 messages', () => [...seen.values()].reduce((n, s) => n + s.length, 0) >= 120);
      for (let k = 0; k < 3; k++) {
        const expected = batch.map((_, i) => i).filter((i) => i % 3 === k);
        expect(seen.get(`patient-${k}`)).toEqual(expected);
      }
      await sub.close();
    });

    it('shares work between subscribers of one group; each group gets every message', async () => {
      const topic = unique('contract-groups');
      const a: string[] = [];
      const b: string[] = [];
      const other: string[] = [];
      const slow = async () => new Promise((r) => setTimeout(r, 2));
      const busB = await open();
      const subs = [
        await bus.subscribe(topic, 'workers', async (_p, m) => {
          await slow();
          a.push(m.id);
        }),
        await busB.subscribe(topic, 'workers', async (_p, m) => {
          await slow();
          b.push(m.id);
        }),
        await bus.subscribe(topic, 'audit', (_p, m) => {
          other.push(m.id);
        }),
      ];
      await settle();
      const batch = messages(topic, 300, (i) => `k${i}`);
      for (let i = 0; i < batch.length; i += 50) await bus.publish(batch.slice(i, i + 50));
      await waitFor('both groups to finish', () => new Set([...a, ...b]).size >= 300 && other.length >= 300, 30_000);
      expect(new Set([...a, ...b]).size).toBe(300);
      expect(new Set(other).size).toBe(300);
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      for (const s of subs) await s.close();
    });

    it('retries a failing handler with backoff until it succeeds', async () => {
      const topic = unique('contract-retry');
      const attempts: Array<{ attempt: number; at: number }> = [];
      let others = 0;
      const sub = await bus.subscribe<{ seq: number }>(
        topic,
        'g1',
        (payload, m) => {
          if (payload.seq !== 0) {
            others++;
            return;
          }
          attempts.push({ attempt: m.attempt, at: Date.now() });
          if (m.attempt < 3) throw new Error(`flaky failure ${m.attempt}`);
        },
        { maxAttempts: 5, retryBaseMs: 150, retryMaxMs: 2000 },
      );
      await bus.publish(messages(topic, 5));
      await waitFor('the third attempt', () => attempts.length >= 3 && others >= 4);
      await new Promise((r) => setTimeout(r, 500));
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      // backoff: roughly 150 ms then 300 ms (±20 % jitter, plus polling)
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(110);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(230);
      await sub.close();
    });

    it('moves a poison message to the dead-letter place after maxAttempts, and a permanent failure at once', async () => {
      const topic = unique('contract-dlq');
      let handled = 0;
      const tries = new Map<number, number>();
      const sub = await bus.subscribe<{ seq: number }>(
        topic,
        'g1',
        (payload) => {
          tries.set(payload.seq, (tries.get(payload.seq) ?? 0) + 1);
          if (payload.seq === 1) throw new Error('poison pill');
          if (payload.seq === 2) throw new PermanentMessageError('schema mismatch');
          handled++;
        },
        { maxAttempts: 3, retryBaseMs: 50, retryMaxMs: 200 },
      );
      const batch = messages(topic, 4);
      await bus.publish(batch);
      await waitFor('two dead letters', async () => (await bus.deadLetters(topic, 'g1')).length >= 2, 30_000, 250);
      const dead = await bus.deadLetters(topic, 'g1');
      expect(handled).toBe(2);
      expect(tries.get(1)).toBe(3);
      expect(tries.get(2)).toBe(1);
      const poison = dead.find((d) => d.message_id === batch[1]!.id)!;
      expect(poison).toMatchObject({ topic, group: 'g1', attempts: 3, payload: { seq: 1 } });
      expect(poison.error).toContain('poison pill');
      expect(dead.find((d) => d.message_id === batch[2]!.id)).toMatchObject({ attempts: 1 });
      expect((await bus.deadLetters(topic, 'g1')).length).toBe(2); // looking does not consume them
      await sub.close();
    });

    it('redelivers what a consumer that crashed mid-batch had not acknowledged', async () => {
      const topic = unique('contract-crash');
      const crashing = await open();
      const firstRun = new Set<number>();
      await crashing.subscribe<{ seq: number }>(
        topic,
        'g1',
        async (payload) => {
          if (payload.seq >= 5) await new Promise(() => undefined); // hangs: the process is about to die
          firstRun.add(payload.seq);
        },
        { concurrency: 4 },
      );
      const batch = messages(topic, 20);
      await bus.publish(batch);
      await waitFor('the first five', () => firstRun.size >= 5);
      await new Promise((r) => setTimeout(r, 300)); // let the first five's acknowledgements go out
      await crashing.abort();

      const secondRun = new Map<number, number>();
      const sub = await bus.subscribe<{ seq: number }>(topic, 'g1', (payload) => {
        secondRun.set(payload.seq, (secondRun.get(payload.seq) ?? 0) + 1);
      });
      await waitFor('redelivery of the unacknowledged messages', () => [...Array(15).keys()].every((i) => secondRun.has(i + 5)), fixture.redeliveryTimeoutMs ?? 30_000, 100);
      for (let i = 5; i < 20; i++) expect(secondRun.get(i)).toBeGreaterThanOrEqual(1);
      await sub.close();
    });
  });
}
