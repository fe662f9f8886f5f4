/**
 * Moves outbox rows to the broker, oldest first, in batches: publish (which resolves only once the
 * broker has durably accepted the batch), then delete. A failed publish leaves the rows where they
 * are and the relay backs off (to at most `maxBackoffMs`, so a broker that comes back is used within
 * seconds). A crash between publish and delete republishes the batch: consumers see duplicates with
 * the same message id, never a gap.
 *
 * On PostgreSQL several replicas may run a relay: each batch runs in a transaction holding a
 * transaction-scoped advisory lock, so one relay publishes at a time and per-key order holds.
 * On SQLite (one process by design) the relay publishes outside a transaction so that a slow broker
 * never holds SQLite's single write lock.
 */
import { sql } from 'kysely';
import type { Database, OutboxTable } from '../store/index.js';
import { type MessageBus, type OutgoingMessage, backoffMs, describeError, sleep } from './bus.js';
import type { Outbox } from './outbox.js';
import type { TopicMap } from './topics.js';

export interface OutboxRelayOptions {
  batchSize: number;
  intervalMs: number;
  maxBackoffMs?: number;
  onError?: (err: unknown) => void;
  onRelayed?: (count: number) => void;
}

/** Arbitrary constant naming the relay's advisory lock ("vitals" in ASCII). */
const RELAY_LOCK = 0x766974616c73;

export interface RelayStats {
  running: boolean;
  relayed_total: number;
  failures_total: number;
  consecutive_failures: number;
  last_error: string | null;
  last_relayed_at: string | null;
}

export class OutboxRelay {
  private readonly stop = new AbortController();
  private loop?: Promise<void>;
  private wake?: () => void;
  private unsubscribe?: () => void;
  readonly stats: RelayStats = { running: false, relayed_total: 0, failures_total: 0, consecutive_failures: 0, last_error: null, last_relayed_at: null };

  constructor(
    private readonly database: Database,
    private readonly bus: MessageBus,
    private readonly topics: TopicMap,
    private readonly outbox: Outbox,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stats.running = true;
    this.unsubscribe = this.outbox.onEnqueue(() => this.wake?.());
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      let relayed = 0;
      try {
        relayed = await this.relayOnce();
      } catch {
        await sleep(backoffMs(this.stats.consecutive_failures, 250, this.options.maxBackoffMs ?? 5000), this.stop.signal);
        continue;
      }
      if (relayed >= this.options.batchSize) continue; // a backlog: keep going
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.options.intervalMs);
        const signal = this.stop.signal;
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
        function done() {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
      this.wake = undefined;
    }
  }

  /** Publishes one batch; returns how many rows it relayed. Throws (after recording) if publishing failed. */
  async relayOnce(): Promise<number> {
    let batch: OutboxTable[] = [];
    try {
      let count: number;
      if (this.database.dialect === 'postgres') {
        count = await this.database.db.transaction().execute(async (tx) => {
          const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${RELAY_LOCK}::bigint) as ok`.execute(tx);
          if (!lock.rows[0]?.ok) return 0; // another replica is relaying
          batch = await tx.selectFrom('outbox').selectAll().orderBy('id').limit(this.options.batchSize).execute();
          if (!batch.length) return 0;
          await this.bus.publish(batch.map((r) => this.toMessage(r)));
          await tx
            .deleteFrom('outbox')
            .where(
              'id',
              'in',
              batch.map((r) => r.id),
            )
            .execute();
          return batch.length;
        });
      } else {
        batch = await this.database.db.selectFrom('outbox').selectAll().orderBy('id').limit(this.options.batchSize).execute();
        if (!batch.length) return 0;
        await this.bus.publish(batch.map((r) => this.toMessage(r)));
        const ids = batch.map((r) => r.id);
        for (let i = 0; i < ids.length; i += 500)
          await this.database.db
            .deleteFrom('outbox')
            .where('id', 'in', ids.slice(i, i + 500))
            .execute();
        count = batch.length;
      }
      if (count) {
        this.stats.relayed_total += count;
        this.stats.last_relayed_at = new Date().toISOString();
        this.options.onRelayed?.(count);
      }
      this.stats.consecutive_failures = 0;
      return count;
    } catch (err) {
      this.stats.failures_total++;
      this.stats.consecutive_failures++;
      this.stats.last_error = describeError(err);
      // Only the first failure of an outage is reported; the status endpoint shows the rest.
      if (this.stats.consecutive_failures === 1) this.options.onError?.(err);
      if (batch.length) {
        const ids = batch.slice(0, 500).map((r) => r.id);
        await this.database.db
          .updateTable('outbox')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: this.stats.last_error }))
          .where('id', 'in', ids)
          .execute()
          .catch(() => undefined);
      }
      throw err;
    }
  }

  private toMessage(r: OutboxTable): OutgoingMessage {
    // A topic dropped from the configuration since the row was written still goes out, under its own name.
    const topic = this.topics.has(r.topic) ? this.topics.brokerName(r.topic) : r.topic;
    return { id: r.id, topic, key: r.msg_key, value: r.payload, headers: r.headers ? (JSON.parse(r.headers) as Record<string, string>) : undefined };
  }

  /** Stops the loop; with `drainMs`, first tries for that long to relay what is left. */
  async close(drainMs = 0): Promise<void> {
    this.stop.abort();
    this.unsubscribe?.();
    await this.loop;
    this.stats.running = false;
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline) {
      const n = await this.relayOnce().catch(() => -1);
      if (n <= 0) break;
    }
  }
}
