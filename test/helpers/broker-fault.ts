/**
 * The fault test every real broker must pass: with the broker stopped, 1,000 events go through the
 * platform (HTTP publish → outbox); once the broker is back, every one of them arrives. Duplicates
 * are allowed and counted; a missing event fails the test.
 */
import { expect, it } from 'vitest';
import type { Settings } from '../../src/config/index.js';
import type { BusMessage } from '../../src/messaging/index.js';
import { type TestApp, startTestApp } from './app.js';
import { unique, waitFor } from './bus-contract.js';

export interface FaultTestOptions {
  name: string;
  overrides: () => Partial<Record<keyof Settings, unknown>>;
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  settleMs?: number;
}

export function brokerFaultTest(o: FaultTestOptions) {
  it(`loses nothing while ${o.name} is down: 1,000 events published through the platform all arrive`, async () => {
    const topic = unique('fault');
    let t: TestApp | undefined;
    try {
      t = await startTestApp({ ...o.overrides(), MESSAGING_TOPICS: `fault_test=${topic}`, OUTBOX_RELAY_INTERVAL_MS: 100 });
      const app = t;
      const counts = new Map<string, number>();
      await app.services.messaging.queue.subscribe('fault_test', unique('fault-consumer'), (_p: unknown, m: BusMessage) => {
        counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
      });
      await new Promise((r) => setTimeout(r, o.settleMs ?? 0));
      const publish = async (i: number) => {
        const res = await app.app.inject({
          method: 'POST',
          url: '/api/v1/mlops/messaging/publish',
          payload: { topic: 'fault_test', message: { seq: i, patient_id: `P${i % 25}` }, key: `P${i % 25}` },
        });
        expect(res.statusCode).toBe(202);
        return res.json().message_id as string;
      };
      const probe = await publish(-1);
      await waitFor('the probe before the outage', () => counts.has(probe), 30_000);

      const stoppedAt = Date.now();
      await o.stopBroker();
      const ids: string[] = [];
      for (let i = 0; i < 1000; i++) ids.push(await publish(i));
      const during = (await app.app.inject({ url: '/api/v1/mlops/messaging/status' })).json();
      expect(during.outbox.depth).toBe(1000);
      expect(during.connected).toBe(false);
      const arrivedWhileDown = ids.filter((id) => counts.has(id)).length;
      expect(arrivedWhileDown).toBe(0);

      await o.startBroker();
      const restartedAt = Date.now();
      await waitFor('all 1,000 events after the restart', () => ids.every((id) => counts.has(id)), 60_000, 100);
      const recoveredAt = Date.now();
      await new Promise((r) => setTimeout(r, 1000)); // stragglers would be duplicates; count them too
      const duplicates = ids.reduce((n, id) => n + (counts.get(id)! - 1), 0);
      const after = (await app.app.inject({ url: '/api/v1/mlops/messaging/status' })).json();
      console.log(
        `[fault ${o.name}] 1000 published while down (outbox depth ${during.outbox.depth}, connected=${during.connected}); ` +
          `${ids.filter((id) => counts.has(id)).length}/1000 arrived, ${duplicates} duplicates, ` +
          `${((recoveredAt - restartedAt) / 1000).toFixed(1)} s after the broker was back (outage ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s)`,
      );
      expect(ids.filter((id) => counts.has(id))).toHaveLength(1000);
      expect(after.outbox.depth).toBe(0);
      expect(after.connected).toBe(true);
    } finally {
      await o.startBroker().catch(() => undefined); // never leave the broker down for the next test
      await t?.dispose();
    }
  });
}
