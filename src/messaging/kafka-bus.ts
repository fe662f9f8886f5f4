/**
 * Kafka through @platformatic/kafka (pure JavaScript, maintained; see docs/messaging.md for why not
 * kafkajs or @confluentinc/kafka-javascript).
 *
 * Producer: idempotent, acks=all, so `publish` resolves only when every in-sync replica has the
 * records, and the client's own retries cannot duplicate or reorder them. Messages with a key go to
 * one partition (the client's murmur2 partitioner), so a key's order is kept.
 *
 * Consumer group (`<group>.<topic>`, see kafkaGroupId): autocommit off. Each partition's messages are handled one at a time in offset
 * order; a handled offset is committed shortly after (batched every 100 ms, and on close), so a
 * crash replays at most the uncommitted tail (at least once). A failing handler is retried in place
 * with backoff (holding its partition, which keeps the order), then produced to the dead-letter
 * topic `<topic>.<group>.dlq` and committed. A consumer that errors or stops fetching (broker
 * restart) is closed and re-created with backoff; it resumes from the committed offsets.
 */
import { Admin, Consumer, type Message, type MessageToProduce, type MessagesStream, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { uuidv7 } from '../ids.js';
import {
  type BusMessage,
  type BusStatus,
  type ConsumerStatus,
  DEFAULT_SUBSCRIBE_OPTIONS,
  type DeadLetter,
  HEADER,
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
  withTimeout,
} from './bus.js';

export interface KafkaBusOptions {
  bootstrapServers: string[];
  clientId: string;
  /** partitions of topics Vitals creates (KAFKA_TOPIC_PARTITIONS) */
  partitions: number;
  publishTimeoutMs?: number;
  /** a consumer that has not completed a fetch for this long is re-created (default 10 s) */
  stallMs?: number;
  subscribeDefaults?: SubscribeOptions;
  onError?: (err: unknown, context: string) => void;
}

type KafkaMessage = Message<string, string, string, string>;
type KafkaRecord = MessageToProduce<string, string, string, string>;
type KafkaStream = MessagesStream<string, string, string, string>;

export class KafkaBus implements MessageBus {
  readonly type = 'kafka' as const;
  private producer?: Producer<string, string, string, string>;
  private admin?: Admin;
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private lastError: string | null = null;
  /** publishes waiting for the one send in flight (see `send`) */
  private readonly waiting: Array<{ messages: KafkaRecord[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  private sending = false;
  private closed = false;

  constructor(private readonly options: KafkaBusOptions) {}

  async connect(): Promise<void> {
    if (this.closed) throw new Error('the Kafka bus is closed');
    this.producer ??= new Producer({
      clientId: `${this.options.clientId}-producer`,
      bootstrapBrokers: this.options.bootstrapServers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: true,
      serializers: stringSerializers,
      retries: 3,
      retryDelay: 250,
      timeout: 5000,
    });
    this.admin ??= new Admin({ clientId: `${this.options.clientId}-admin`, bootstrapBrokers: this.options.bootstrapServers, retries: 1, retryDelay: 250, timeout: 5000 });
  }

  /** Creates a topic with KAFKA_TOPIC_PARTITIONS partitions unless it exists (once per process). */
  ensureTopic(topic: string): Promise<void> {
    let p = this.ensured.get(topic);
    if (!p) {
      p = (async () => {
        await this.connect();
        try {
          await this.admin!.createTopics({ topics: [topic], partitions: this.options.partitions, replicas: -1 });
        } catch (err) {
          if (!/already exists/i.test(errorText(err))) throw err;
        }
      })();
      this.ensured.set(topic, p);
      p.catch(() => this.ensured.delete(topic));
    }
    return p;
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (!messages.length) return;
    await this.connect();
    const timeout = this.options.publishTimeoutMs ?? 10_000;
    const publishedAt = new Date().toISOString();
    try {
      await withTimeout(Promise.all([...new Set(messages.map((m) => m.topic))].map((t) => this.ensureTopic(t))), timeout, 'Kafka did not answer in time');
      await this.send(
        messages.map((m) => ({
          topic: m.topic,
          key: m.key ?? undefined,
          value: m.value,
          headers: { ...m.headers, [HEADER.messageId]: m.id, [HEADER.publishedAt]: publishedAt },
        })),
      );
      this.lastError = null;
    } catch (err) {
      this.lastError = errorText(err);
      throw new Error(`Kafka publish failed (${this.options.bootstrapServers.join(',')}): ${this.lastError}`, { cause: err });
    }
  }

  /**
   * One produce request in flight at a time; publishes that arrive meanwhile are coalesced into the
   * next request. Concurrent sends of the idempotent producer can reach a partition out of sequence
   * (OUT_OF_ORDER_SEQUENCE_NUMBER); serialising them keeps order too, and coalescing keeps throughput.
   */
  private send(messages: KafkaRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.waiting.length) {
        const group = [this.waiting.shift()!];
        let count = group[0]!.messages.length;
        while (this.waiting.length && count + this.waiting[0]!.messages.length <= 2000) {
          const next = this.waiting.shift()!;
          count += next.messages.length;
          group.push(next);
        }
        try {
          await this.connect();
          await withTimeout(this.producer!.send({ messages: group.flatMap((g) => g.messages) }), this.options.publishTimeoutMs ?? 10_000, 'Kafka did not acknowledge the publish in time');
          for (const g of group) g.resolve();
        } catch (err) {
          for (const g of group) g.reject(err);
          // The idempotent producer's state (id, epoch, sequences) may be unusable after this: start afresh.
          if (/sequence|fenced|producer id|epoch|did not acknowledge/i.test(errorText(err))) await this.resetProducer();
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async resetProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    if (old) await forceClose(old);
    await this.connect();
  }

  async subscribe<T = unknown>(topic: string, group: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.connect();
    const sub = new KafkaSubscription(this, topic, group, handler as MessageHandler, { ...DEFAULT_SUBSCRIBE_OPTIONS, ...this.options.subscribeDefaults, ...options }, this.options, (s) =>
      this.subscriptions.delete(s),
    );
    this.subscriptions.add(sub);
    await sub.start();
    return sub;
  }

  /** Produces dead letters (used by subscriptions). */
  async sendDeadLetter(topic: string, key: string | null, value: string, headers: Record<string, string>): Promise<void> {
    await this.ensureTopic(topic);
    await this.send([{ topic, key: key ?? undefined, value, headers }]);
  }

  async status(): Promise<BusStatus> {
    await this.connect();
    let connected = false;
    try {
      // forceUpdate: cached metadata would report a broker that has gone away as connected.
      await withTimeout(this.producer!.metadata({ topics: [], forceUpdate: true }), 3000, 'metadata timed out');
      connected = true;
    } catch (err) {
      this.lastError = errorText(err);
    }
    const consumers: ConsumerStatus[] = [];
    for (const s of this.subscriptions) consumers.push({ topic: s.topic, group: s.group, lag: connected ? await s.lag() : null, ...s.counts });
    return { connected, details: { bootstrap_servers: this.options.bootstrapServers, last_error: this.lastError }, consumers };
  }

  async deadLetters(topic: string, group: string, limit = 100): Promise<DeadLetter[]> {
    const dlq = deadLetterTopic(topic, group);
    await this.connect();
    // A throwaway group that never commits reads the topic from the start without disturbing anyone.
    const consumer = new Consumer({
      groupId: `vitals-dlq-reader-${uuidv7()}`,
      clientId: `${this.options.clientId}-dlq-reader`,
      bootstrapBrokers: this.options.bootstrapServers,
      deserializers: stringDeserializers,
      autocommit: false,
      maxWaitTime: 200,
      timeout: 5000,
    });
    const out: DeadLetter[] = [];
    try {
      const ends = await withTimeout(consumer.listOffsets({ topics: [dlq] }), 5000, 'listOffsets timed out').catch(() => undefined);
      const latest = ends?.get(dlq);
      if (!latest || latest.every((o) => o === 0n)) return [];
      const stream: KafkaStream = await consumer.consume({ topics: [dlq], mode: 'earliest', autocommit: false });
      const done = new Set<number>(latest.flatMap((o, p) => (o === 0n ? [p] : [])));
      const read = new Map<number, KafkaMessage[]>();
      await withTimeout(
        new Promise<void>((resolve) => {
          stream.on('data', (m: KafkaMessage) => {
            read.set(m.partition, [...(read.get(m.partition) ?? []), m]);
            if (m.offset + 1n >= latest[m.partition]!) done.add(m.partition);
            if (done.size === latest.length) resolve();
          });
        }),
        10_000,
        'reading the dead-letter topic timed out',
      ).catch(() => undefined);
      await stream.close().catch(() => undefined);
      const all = [...read.values()].flat().sort((a, b) => Number(a.timestamp - b.timestamp));
      for (const m of all.slice(0, limit)) {
        const h = Object.fromEntries(m.headers);
        out.push({
          message_id: h[HEADER.messageId] ?? `${m.topic}:${m.partition}:${m.offset}`,
          topic,
          group,
          key: m.key ?? null,
          payload: decodePayload(m.value ?? ''),
          attempts: Number(h[HEADER.attempt] ?? 1),
          error: h[HEADER.error] ?? '',
          failed_at: h['vitals-failed-at'] ?? null,
        });
      }
    } finally {
      await forceClose(consumer);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.shutdown();
  }

  async abort(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.abort()));
    this.subscriptions.clear();
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('the Kafka bus is closed'));
    const closing = [this.producer && forceClose(this.producer), this.admin && withTimeout(this.admin.close(), 5000, 'close timed out').catch(() => undefined)];
    this.producer = undefined;
    this.admin = undefined;
    this.ensured.clear();
    await Promise.all(closing);
  }
}

export const deadLetterTopic = (topic: string, group: string) => `${topic}.${group}.dlq`;

/**
 * The Kafka consumer group of a Vitals (topic, group) pair. Each subscription is its own consumer,
 * and the client's assignors give every topic of a group to every member, so members of one Kafka
 * group must read the same topic: "vitals" on patient-data is the Kafka group "vitals.patient-data"
 * (the same name RabbitMQ gives the group's queue).
 */
export const kafkaGroupId = (topic: string, group: string) => `${group}.${topic}`;

class KafkaSubscription implements Subscription {
  private consumer?: Consumer<string, string, string, string>;
  private stream?: KafkaStream;
  /** bumped whenever the consumer is re-created: work of an older generation is dropped uncommitted */
  private generation = 0;
  private readonly queues = new Map<number, KafkaMessage[]>();
  private readonly draining = new Map<number, Promise<void>>();
  private readonly toCommit = new Map<number, KafkaMessage>();
  private buffered = 0;
  private lastFetch = Date.now();
  private commitTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private restarting?: Promise<void>;
  private restarts = 0;
  private readonly stop = new AbortController();
  private aborted = false;
  readonly counts = { handled: 0, failed: 0, dead_lettered: 0 };

  constructor(
    private readonly bus: KafkaBus,
    readonly topic: string,
    readonly group: string,
    private readonly handler: MessageHandler,
    private readonly options: ResolvedSubscribeOptions,
    private readonly kafka: KafkaBusOptions,
    private readonly onClosed: (s: KafkaSubscription) => void,
  ) {}

  async start(): Promise<void> {
    try {
      await this.bus.ensureTopic(this.topic);
      await this.open();
    } catch (err) {
      // The broker is down: keep trying in the background, as after a disconnect.
      this.kafka.onError?.(err, `subscribing ${this.group} to ${this.topic}`);
      this.restart();
    }
    this.commitTimer = setInterval(() => void this.commit(), 100);
    this.commitTimer.unref();
    this.watchdog = setInterval(() => {
      if (this.stream && Date.now() - this.lastFetch > (this.kafka.stallMs ?? 10_000)) this.restart();
    }, 1000);
    this.watchdog.unref();
  }

  private async open(): Promise<void> {
    const consumer = new Consumer({
      groupId: kafkaGroupId(this.topic, this.group),
      clientId: `${this.kafka.clientId}-${this.group}`,
      bootstrapBrokers: this.kafka.bootstrapServers,
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTime: 500,
      timeout: 5000,
      retries: 2,
      retryDelay: 250,
    });
    this.consumer = consumer;
    const generation = this.generation;
    try {
      // A new group starts at the earliest retained offset: nothing published before its first start is skipped.
      const stream = await consumer.consume({ topics: [this.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
      if (generation !== this.generation || this.stop.signal.aborted) {
        await closeQuietly(consumer);
        return;
      }
      this.stream = stream;
      this.lastFetch = Date.now();
      stream.on('data', (m: KafkaMessage) => this.enqueue(m, generation));
      stream.on('fetch', () => (this.lastFetch = Date.now()));
      stream.on('error', (err: Error) => {
        this.kafka.onError?.(err, `consumer ${this.group} on ${this.topic}`);
        if (generation === this.generation) this.restart();
      });
      stream.on('close', () => {
        if (generation === this.generation && !this.stop.signal.aborted) this.restart();
      });
      this.restarts = 0;
    } catch (err) {
      await closeQuietly(consumer);
      throw err;
    }
  }

  /** Drops the consumer (uncommitted work is redelivered) and opens a new one after a backoff. */
  private restart(): void {
    if (this.restarting || this.stop.signal.aborted) return;
    this.restarting = (async () => {
      await this.teardown();
      while (!this.stop.signal.aborted) {
        await sleep(backoffMs(++this.restarts, 250, 5000), this.stop.signal);
        if (this.stop.signal.aborted) break;
        try {
          await this.open();
          break;
        } catch (err) {
          this.kafka.onError?.(err, `reconnecting ${this.group} to ${this.topic}`);
        }
      }
    })().finally(() => (this.restarting = undefined));
  }

  private async teardown(): Promise<void> {
    this.generation++;
    const consumer = this.consumer;
    this.consumer = undefined;
    this.stream = undefined;
    this.queues.clear();
    this.toCommit.clear();
    this.buffered = 0;
    if (consumer) await closeQuietly(consumer);
  }

  private enqueue(m: KafkaMessage, generation: number): void {
    if (generation !== this.generation) return;
    const q = this.queues.get(m.partition) ?? [];
    q.push(m);
    this.queues.set(m.partition, q);
    // Back-pressure: stop fetching while many messages wait for their handlers.
    if (++this.buffered >= 1000) this.stream?.pause();
    if (!this.draining.has(m.partition)) {
      const d = this.drain(m.partition, generation).finally(() => this.draining.delete(m.partition));
      this.draining.set(m.partition, d);
    }
  }

  /** Handles one partition's messages in offset order. */
  private async drain(partition: number, generation: number): Promise<void> {
    for (;;) {
      if (generation !== this.generation || this.stop.signal.aborted) return;
      const m = this.queues.get(partition)?.shift();
      if (!m) return;
      if (--this.buffered < 500) this.stream?.resume();
      const handled = await this.handle(m, generation);
      if (!handled || generation !== this.generation) return;
      this.toCommit.set(partition, m);
    }
  }

  /** Runs the handler with retries; true once the message is handled or dead-lettered. */
  private async handle(m: KafkaMessage, generation: number): Promise<boolean> {
    const headers = Object.fromEntries(m.headers) as Record<string, string>;
    const payload = decodePayload(m.value ?? '');
    for (let attempt = 1; ; attempt++) {
      const message: BusMessage = {
        id: headers[HEADER.messageId] ?? `${m.topic}:${m.partition}:${m.offset}`,
        topic: m.topic,
        key: m.key ?? null,
        payload,
        headers,
        attempt,
        published_at: headers[HEADER.publishedAt] ?? null,
      };
      try {
        await this.handler(payload, message);
        if (this.aborted) return false;
        this.counts.handled++;
        return true;
      } catch (err) {
        if (this.aborted) return false;
        this.counts.failed++;
        if (isPermanent(err) || attempt >= this.options.maxAttempts) return this.deadLetter(m, headers, attempt, err, generation);
        await sleep(backoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs), this.stop.signal);
        if (this.stop.signal.aborted || generation !== this.generation) return false;
      }
    }
  }

  private async deadLetter(m: KafkaMessage, headers: Record<string, string>, attempt: number, err: unknown, generation: number): Promise<boolean> {
    const dlqHeaders = {
      ...headers,
      [HEADER.attempt]: String(attempt),
      [HEADER.error]: describeError(err),
      'vitals-failed-at': new Date().toISOString(),
      'vitals-source': `${m.topic}:${m.partition}:${m.offset}`,
    };
    // Until the dead letter is stored the offset must not be committed: keep trying (the partition waits).
    for (let i = 1; !this.stop.signal.aborted && generation === this.generation; i++) {
      try {
        await this.bus.sendDeadLetter(deadLetterTopic(this.topic, this.group), m.key ?? null, m.value ?? '', dlqHeaders);
        this.counts.dead_lettered++;
        return true;
      } catch (e) {
        this.kafka.onError?.(e, `dead-lettering a message of ${this.topic}`);
        await sleep(backoffMs(i, 250, 5000), this.stop.signal);
      }
    }
    return false;
  }

  private async commit(): Promise<void> {
    if (!this.toCommit.size || this.aborted) return;
    const batch = [...this.toCommit.values()];
    this.toCommit.clear();
    await Promise.all(
      batch.map((m) =>
        Promise.resolve(m.commit()).catch((err) => {
          // Lost after a rebalance or disconnect: the message is redelivered (at least once).
          this.kafka.onError?.(err, `committing ${this.topic}:${m.partition}@${m.offset}`);
        }),
      ),
    );
  }

  async lag(): Promise<number | null> {
    const consumer = this.consumer;
    if (!consumer) return null;
    try {
      const lag = await withTimeout(consumer.getLag({ topics: [this.topic] }), 3000, 'lag timed out');
      return (lag.get(this.topic) ?? []).reduce((sum, l) => sum + (l > 0n ? Number(l) : 0), 0);
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.stream?.pause();
    // Messages not started yet are left uncommitted for the next owner; the ones in hand finish.
    for (const q of this.queues.values()) q.length = 0;
    this.stop.abort();
    await Promise.all(this.draining.values());
    await this.restarting;
    await this.commit();
    this.clearTimers();
    await this.teardown();
    this.onClosed(this);
  }

  /** A crash: no more commits, no waiting; the group hands the partitions out again. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.stop.abort();
    this.clearTimers();
    await this.teardown();
  }

  private clearTimers(): void {
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.watchdog) clearInterval(this.watchdog);
  }
}

const closeQuietly = (consumer: Consumer<string, string, string, string>) => forceClose(consumer);

/** Closes a client without waiting for in-flight requests (bounded: a dead broker must not hang us). */
async function forceClose(client: { close(force: boolean, callback: (error?: Error | null) => void): void }): Promise<void> {
  const closing = new Promise<void>((resolve) => client.close(true, () => resolve()));
  await withTimeout(closing, 5000, 'close timed out').catch(() => undefined);
}

function errorText(err: unknown): string {
  const e = err as { message?: string; errors?: unknown[]; cause?: unknown };
  const inner = Array.isArray(e?.errors) && e.errors.length ? ` (${e.errors.map((x) => (x as Error)?.message ?? String(x)).join('; ')})` : '';
  return `${e?.message ?? String(err)}${inner}`;
}
