/**
 * The embedded bus: durable in the platform's own database (SQLite or PostgreSQL), so a restart
 * loses nothing and no broker is needed.
 *
 * Publishing writes the message and one delivery row per consumer group of its topic in one
 * transaction. Subscribers claim deliveries with a lease (`locked_until`), handle them and delete
 * them on success. A subscriber that dies leaves its lease to expire and the rows are claimed again.
 * On PostgreSQL the claim takes `FOR UPDATE SKIP LOCKED`, so replicas in one group share work
 * without blocking each other; on SQLite the database's single writer makes the same claim atomic.
 *
 * Per-key order: only the oldest undelivered message of a key is claimable, so a key's messages are
 * handled one at a time in publish order (a failing one holds its key back until it succeeds or is
 * dead-lettered).
 */
import { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import { nowIso, uuidv7 } from '../ids.js';
import type { Database } from '../store/index.js';
import {
  type BusMessage,
  type BusStatus,
  type ConsumerStatus,
  DEFAULT_SUBSCRIBE_OPTIONS,
  type DeadLetter,
  type MessageBus,
  type MessageHandler,
  type OutgoingMessage,
  type ResolvedSubscribeOptions,
  type SubscribeOptions,
  type Subscription,
  backoffMs,
  decodePayload,
  describeError,
  isPermanent,
  sleep,
} from './bus.js';

export interface EmbeddedBusOptions {
  /** how often an idle subscriber looks for work published by other processes */
  pollMs: number;
  /** how long a claimed message stays invisible to other subscribers */
  leaseMs: number;
  /** handled messages older than this are deleted (0 keeps them) */
  retentionHours: number;
  subscribeDefaults?: SubscribeOptions;
}

/**
 * Publishes in this process, by database: every bus on the same database here (the app's, a test's,
 * a benchmark's) wakes its subscribers at once instead of at their next poll.
 */
const localPublishes = new EventEmitter().setMaxListeners(0);

const CHUNK = 100; // rows per INSERT: under SQLite's and PostgreSQL's bound-parameter limits
const CLAIM_WINDOW = 1000;

export class EmbeddedBus implements MessageBus {
  readonly type = 'embedded' as const;
  private readonly subscriptions = new Set<EmbeddedSubscription>();
  private cleanupTimer?: NodeJS.Timeout;

  constructor(
    private readonly database: Database,
    private readonly options: EmbeddedBusOptions,
  ) {}

  async connect(): Promise<void> {
    if (this.options.retentionHours > 0 && !this.cleanupTimer) {
      this.cleanupTimer = setInterval(() => void this.cleanup().catch(() => undefined), 10 * 60_000);
      this.cleanupTimer.unref();
    }
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (!messages.length) return;
    const now = nowIso();
    const topics = [...new Set(messages.map((m) => m.topic))];
    await this.database.db.transaction().execute(async (tx) => {
      const groups = await tx.selectFrom('bus_groups').select(['topic', 'group_name']).where('topic', 'in', topics).execute();
      // A group receives what is published after it first subscribed, so a message for a topic that
      // no group reads is accepted and dropped here, not stored (think of one event per prediction).
      const wanted = messages.filter((m) => groups.some((g) => g.topic === m.topic));
      const rows = wanted.map((m) => ({
        id: m.id,
        topic: m.topic,
        msg_key: m.key ?? null,
        payload: m.value,
        headers: m.headers && Object.keys(m.headers).length ? JSON.stringify(m.headers) : null,
        published_at: now,
      }));
      // A relay retrying after a lost commit acknowledgement may send an id twice: keep the first.
      for (let i = 0; i < rows.length; i += CHUNK) {
        await tx
          .insertInto('bus_messages')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
      const deliveries = wanted.flatMap((m) =>
        groups
          .filter((g) => g.topic === m.topic)
          .map((g) => ({ topic: m.topic, group_name: g.group_name, message_id: m.id, msg_key: m.key ?? null, attempts: 0, available_at: now, locked_by: null, locked_until: null, last_error: null })),
      );
      for (let i = 0; i < deliveries.length; i += CHUNK) {
        await tx
          .insertInto('bus_deliveries')
          .values(deliveries.slice(i, i + CHUNK))
          .onConflict((oc) => oc.columns(['topic', 'group_name', 'message_id']).doNothing())
          .execute();
      }
    });
    for (const t of topics) localPublishes.emit(this.database.location, t);
  }

  async subscribe<T = unknown>(topic: string, group: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.database.db
      .insertInto('bus_groups')
      .values({ topic, group_name: group, created_at: nowIso() })
      .onConflict((oc) => oc.columns(['topic', 'group_name']).doNothing())
      .execute();
    const sub = new EmbeddedSubscription(
      this.database,
      topic,
      group,
      handler as MessageHandler,
      {
        ...DEFAULT_SUBSCRIBE_OPTIONS,
        ...this.options.subscribeDefaults,
        ...options,
      },
      this.options,
      () => this.subscriptions.delete(sub),
    );
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  async status(): Promise<BusStatus> {
    const db = this.database.db;
    const lag = await db
      .selectFrom('bus_deliveries')
      .select(['topic', 'group_name', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['topic', 'group_name'])
      .execute();
    const groups = await db.selectFrom('bus_groups').select(['topic', 'group_name']).execute();
    const dead = await db
      .selectFrom('bus_dead_letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const lagOf = new Map(lag.map((r) => [`${r.topic}\u0000${r.group_name}`, Number(r.n)]));
    const local = new Map([...this.subscriptions].map((s) => [`${s.topic}\u0000${s.group}`, s]));
    const consumers: ConsumerStatus[] = groups.map((g) => {
      const sub = local.get(`${g.topic}\u0000${g.group_name}`);
      return {
        topic: g.topic,
        group: g.group_name,
        lag: lagOf.get(`${g.topic}\u0000${g.group_name}`) ?? 0,
        handled: sub?.counts.handled ?? 0,
        failed: sub?.counts.failed ?? 0,
        dead_lettered: sub?.counts.dead_lettered ?? 0,
      };
    });
    return { connected: true, details: { database: this.database.dialect, dead_letters: Number(dead.n) }, consumers };
  }

  async deadLetters(topic: string, group: string, limit = 100): Promise<DeadLetter[]> {
    const rows = await this.database.db.selectFrom('bus_dead_letters').selectAll().where('topic', '=', topic).where('group_name', '=', group).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({
      message_id: r.message_id,
      topic: r.topic,
      group: r.group_name,
      key: r.msg_key,
      payload: decodePayload(r.payload),
      attempts: r.attempts,
      error: r.error,
      failed_at: r.failed_at,
    }));
  }

  /** Deletes messages past retention that every group has handled. */
  async cleanup(): Promise<number> {
    if (this.options.retentionHours <= 0) return 0;
    const cutoff = new Date(Date.now() - this.options.retentionHours * 3600_000).toISOString();
    const result = await this.database.db
      .deleteFrom('bus_messages')
      .where('published_at', '<', cutoff)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('bus_deliveries').select('message_id').whereRef('bus_deliveries.message_id', '=', 'bus_messages.id'))))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async close(): Promise<void> {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }

  async abort(): Promise<void> {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    for (const s of this.subscriptions) s.abort();
    this.subscriptions.clear();
  }
}

class EmbeddedSubscription implements Subscription {
  /** identifies this subscriber's leases */
  private readonly consumerId = uuidv7();
  private readonly stop = new AbortController();
  private loop?: Promise<void>;
  private aborted = false;
  private wake?: () => void;
  private readonly onPublished = (t: string) => {
    if (t === this.topic) this.wake?.();
  };
  readonly counts = { handled: 0, failed: 0, dead_lettered: 0 };

  constructor(
    private readonly database: Database,
    readonly topic: string,
    readonly group: string,
    private readonly handler: MessageHandler,
    private readonly options: ResolvedSubscribeOptions,
    private readonly bus: EmbeddedBusOptions,
    private readonly onClosed: () => void,
  ) {}

  start(): void {
    localPublishes.on(this.database.location, this.onPublished);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.pollOnce();
        failures = 0;
      } catch {
        // The database is unreachable (PostgreSQL restart): back off and try again.
        await sleep(backoffMs(++failures, 200, 5000), this.stop.signal);
        continue;
      }
      if (claimed > 0) continue; // more may be waiting (the next message of each key, a full batch)
      await new Promise<void>((resolve) => {
        const signal = this.stop.signal;
        const t = setTimeout(done, this.bus.pollMs);
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

  /** Claims up to `concurrency` messages, handles them all, and returns how many it claimed. */
  private async pollOnce(): Promise<number> {
    const claimed = await this.claim(this.options.concurrency);
    if (!claimed.length) return 0;
    const rows = await this.database.db
      .selectFrom('bus_messages')
      .selectAll()
      .where(
        'id',
        'in',
        claimed.map((c) => c.message_id),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const done: string[] = [];
    await Promise.all(
      claimed.map(async (c) => {
        const row = byId.get(c.message_id);
        if (!row) {
          done.push(c.message_id); // message row removed by hand: nothing to deliver
          return;
        }
        const headers = row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {};
        const payload = decodePayload(row.payload);
        const message: BusMessage = { id: row.id, topic: row.topic, key: row.msg_key, payload, headers, attempt: c.attempts, published_at: row.published_at };
        try {
          await this.handler(payload, message);
          if (this.aborted) return;
          done.push(c.message_id);
          this.counts.handled++;
        } catch (err) {
          if (this.aborted) return;
          this.counts.failed++;
          await this.fail(c.message_id, c.attempts, err, row);
        }
      }),
    );
    if (done.length && !this.aborted) {
      await this.database.db.deleteFrom('bus_deliveries').where('topic', '=', this.topic).where('group_name', '=', this.group).where('message_id', 'in', done).execute();
    }
    return claimed.length;
  }

  private async claim(limit: number): Promise<Array<{ message_id: string; attempts: number }>> {
    const now = nowIso();
    const leaseEnd = new Date(Date.now() + this.bus.leaseMs).toISOString();
    // Claimable: available, not leased, and (for a keyed message) the oldest of its key still pending.
    // Only the oldest CLAIM_WINDOW deliveries are looked at (a range of the primary key): any message
    // older than one in the window is in the window too, so "oldest of its key" is decided inside it,
    // and the cost of a claim does not grow with the backlog or depend on the planner's statistics.
    const candidates = sql`
      select d.message_id from (
        select w.message_id, w.msg_key, w.available_at, w.locked_until,
               row_number() over (partition by w.msg_key order by w.message_id) as key_rank
          from (select message_id, msg_key, available_at, locked_until from bus_deliveries
                 where topic = ${this.topic} and group_name = ${this.group}
                 order by topic, group_name, message_id limit ${CLAIM_WINDOW}) w) d
       where (d.msg_key is null or d.key_rank = 1)
         and d.available_at <= ${now}
         and (d.locked_until is null or d.locked_until < ${now})
       order by d.message_id
       limit ${limit}`;
    const set = sql`locked_by = ${this.consumerId}, locked_until = ${leaseEnd}, attempts = attempts + 1`;
    let rows: Array<{ message_id: string; attempts: number }>;
    if (this.database.dialect === 'postgres') {
      // Step by step, each statement a plain primary-key lookup, so that no plan depends on table
      // statistics (a queue table's are always stale). SKIP LOCKED passes over rows another replica
      // is claiming right now; the lease is checked again on the locked rows.
      rows = await this.database.db.transaction().execute(async (tx) => {
        const ids = (await sql<{ message_id: string }>`${candidates}`.execute(tx)).rows.map((r) => r.message_id);
        if (!ids.length) return [];
        const locked = await sql<{ message_id: string }>`
          select message_id from bus_deliveries
           where topic = ${this.topic} and group_name = ${this.group} and message_id = any(${ids}::text[])
             and (locked_until is null or locked_until < ${now})
           for update skip locked`.execute(tx);
        if (!locked.rows.length) return [];
        const claimed = await sql<{ message_id: string; attempts: number }>`
          update bus_deliveries set ${set}
           where topic = ${this.topic} and group_name = ${this.group} and message_id = any(${locked.rows.map((r) => r.message_id)}::text[])
          returning message_id, attempts`.execute(tx);
        return claimed.rows;
      });
    } else {
      // SQLite has one writer at a time, so one statement claims atomically.
      const result = await sql<{ message_id: string; attempts: number }>`
        update bus_deliveries set ${set}
         where topic = ${this.topic} and group_name = ${this.group} and message_id in (${candidates})
        returning message_id, attempts`.execute(this.database.db);
      rows = result.rows;
    }
    return rows.map((r) => ({ message_id: r.message_id, attempts: Number(r.attempts) })).sort((a, b) => (a.message_id < b.message_id ? -1 : 1));
  }

  private async fail(messageId: string, attempts: number, err: unknown, row: { payload: string; headers: string | null; msg_key: string | null }) {
    const error = describeError(err);
    const where = { topic: this.topic, group_name: this.group, message_id: messageId };
    if (isPermanent(err) || attempts >= this.options.maxAttempts) {
      await this.database.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('bus_dead_letters')
          .values({
            id: uuidv7(),
            message_id: messageId,
            topic: this.topic,
            group_name: this.group,
            msg_key: row.msg_key,
            payload: row.payload,
            headers: row.headers,
            attempts,
            error,
            failed_at: nowIso(),
          })
          .execute();
        await tx.deleteFrom('bus_deliveries').where('topic', '=', where.topic).where('group_name', '=', where.group_name).where('message_id', '=', messageId).execute();
      });
      this.counts.dead_lettered++;
      return;
    }
    const availableAt = new Date(Date.now() + backoffMs(attempts, this.options.retryBaseMs, this.options.retryMaxMs)).toISOString();
    await this.database.db
      .updateTable('bus_deliveries')
      .set({ available_at: availableAt, locked_by: null, locked_until: null, last_error: error })
      .where('topic', '=', where.topic)
      .where('group_name', '=', where.group_name)
      .where('message_id', '=', messageId)
      .execute();
  }

  async close(): Promise<void> {
    this.stop.abort();
    localPublishes.off(this.database.location, this.onPublished);
    await this.loop; // the loop ends after the batch in hand is handled and acknowledged
    this.onClosed();
  }

  /** Stops without acknowledging anything: leases run out and other subscribers get the messages. */
  abort(): void {
    this.aborted = true;
    this.stop.abort();
    localPublishes.off(this.database.location, this.onPublished);
  }
}
