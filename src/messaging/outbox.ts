/**
 * The transactional outbox. A platform event (prediction recorded, alert fired, version promoted, …)
 * is inserted into `outbox` by the same transaction that changes the state it describes, so the
 * event exists exactly when the change does. `OutboxRelay` publishes the rows to the broker and
 * deletes them; a broker outage only delays events, it never drops them.
 */
import type { Kysely, Transaction } from 'kysely';
import { VitalsError } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { Database, OutboxTable, Schema } from '../store/index.js';
import type { TopicMap } from './topics.js';

export type Executor = Kysely<Schema> | Transaction<Schema>;

/** The envelope of every platform event (the payload of outbox messages). */
export interface PlatformEvent<T = Record<string, unknown>> {
  event_id: string;
  /** e.g. prediction.recorded, alert.fired, model.promoted; see docs/messaging.md */
  type: string;
  occurred_at: string;
  source: 'vitals';
  data: T;
}

export interface EventToEnqueue {
  type: string;
  data: Record<string, unknown>;
  key?: string | null;
}

/** What other capabilities need to emit events inside their own transactions. */
export interface EventOutbox {
  enqueueEvent(tx: Executor, topic: string, type: string, data: Record<string, unknown>, options?: { key?: string | null }): Promise<string>;
  enqueueEvents(tx: Executor, topic: string, events: EventToEnqueue[]): Promise<string[]>;
}

export interface EnqueueOptions {
  key?: string | null;
  id?: string;
  headers?: Record<string, string>;
}

const CHUNK = 100;

/**
 * Rewrites a message before it is stored or sent (the composition root passes the de-identification
 * of image payloads): every path to the outbox and the broker goes through `encode`.
 */
export type MessageFilter = (message: unknown) => unknown;

export class Outbox implements EventOutbox {
  private readonly listeners = new Set<() => void>();
  /**
   * Set when the bus is the embedded one, in this same database: it drops at publish a message that
   * no consumer group reads, so a writer may skip writing such events at all (one per prediction).
   */
  dropsUnread = false;

  constructor(
    private readonly database: Database,
    readonly topics: TopicMap,
    readonly maxMessageBytes: number,
    private readonly filter?: MessageFilter,
  ) {}

  /** The bus_groups name of `topic` when an event nobody reads would be dropped anyway (see dropsUnread). */
  unreadDroppedFor(topic: string): string | null {
    return this.dropsUnread ? this.topics.brokerName(topic) : null;
  }

  /** Checks a message against the topic list, filters it (de-identification), checks its size; returns its JSON text. */
  encode(topic: string, message: unknown): string {
    this.topics.brokerName(topic); // 422 for an unknown topic
    const value = JSON.stringify((this.filter ? this.filter(message) : message) ?? null);
    const bytes = Buffer.byteLength(value);
    if (bytes > this.maxMessageBytes) {
      throw new VitalsError('VALIDATION_FAILED', `message is ${bytes} bytes; the limit is ${this.maxMessageBytes} (MESSAGE_MAX_BYTES). Send large images by reference (image_url or image_path).`, {
        fields: [{ field: 'message', message: `${bytes} bytes exceeds ${this.maxMessageBytes}` }],
      });
    }
    return value;
  }

  /** Writes one message with `tx` (pass the transaction of the state change); returns its id. */
  async enqueue(tx: Executor, topic: string, message: unknown, options: EnqueueOptions = {}): Promise<string> {
    const [id] = await this.insert(tx, [{ topic, message, ...options }]);
    return id!;
  }

  async enqueueEvent(tx: Executor, topic: string, type: string, data: Record<string, unknown>, options: { key?: string | null } = {}): Promise<string> {
    const [id] = await this.enqueueEvents(tx, topic, [{ type, data, key: options.key }]);
    return id!;
  }

  async enqueueEvents(tx: Executor, topic: string, events: EventToEnqueue[]): Promise<string[]> {
    const occurred = nowIso();
    return this.insert(
      tx,
      events.map((e) => {
        const id = uuidv7();
        const event: PlatformEvent = { event_id: id, type: e.type, occurred_at: occurred, source: 'vitals', data: e.data };
        return { topic, message: event, id, key: e.key, headers: { 'vitals-event-type': e.type } };
      }),
    );
  }

  private async insert(tx: Executor, items: Array<{ topic: string; message: unknown } & EnqueueOptions>): Promise<string[]> {
    if (!items.length) return [];
    const now = nowIso();
    const rows: OutboxTable[] = items.map((m) => ({
      id: m.id ?? uuidv7(),
      topic: m.topic,
      msg_key: m.key ?? null,
      payload: this.encode(m.topic, m.message),
      headers: m.headers ? JSON.stringify(m.headers) : null,
      attempts: 0,
      last_error: null,
      created_at: now,
    }));
    for (let i = 0; i < rows.length; i += CHUNK)
      await tx
        .insertInto('outbox')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    // The caller's transaction commits after we return: wake the relay a moment later.
    setTimeout(() => this.listeners.forEach((l) => l()), 5).unref();
    return rows.map((r) => r.id);
  }

  /** Wakes the relay for rows another connection committed (the prediction log's writer thread). */
  announce(): void {
    this.listeners.forEach((l) => l());
  }

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rows waiting to be relayed, and the age of the oldest. */
  async depth(): Promise<{ depth: number; oldest_created_at: string | null; oldest_age_seconds: number | null }> {
    const row = await this.database.db
      .selectFrom('outbox')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
      .executeTakeFirstOrThrow();
    const oldest = (row.oldest as string | null) ?? null;
    return { depth: Number(row.n), oldest_created_at: oldest, oldest_age_seconds: oldest ? Math.max(0, (Date.now() - Date.parse(oldest)) / 1000) : null };
  }
}
