/**
 * RabbitMQ through amqplib.
 *
 * Topology (all durable): one topic exchange (RABBITMQ_EXCHANGE, routing key = broker topic name)
 * whose alternate exchange `<exchange>.unrouted` keeps messages no queue is bound to yet, instead of
 * RabbitMQ's default of dropping them. A consumer group is the queue `<group>.<topic>`, with
 * `<group>.<topic>.retry` (messages wait out their backoff as per-message TTL, then dead-letter back
 * into the main queue) and `<group>.<topic>.dlq` (poison messages).
 *
 * Publishing uses persistent messages on a confirm channel: `publish` resolves when the broker has
 * confirmed every message (for durable queues: written to disk). Consumers use manual acks with
 * a prefetch window; a message is acked only after its handler succeeded, or after it was moved to
 * the retry or dead-letter queue (publish-confirmed first, so a crash in between duplicates, never
 * drops). The connection is re-established with exponential backoff; subscriptions re-attach.
 */
import { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, connect } from 'amqplib';
import {
  type BusMessage,
  type BusStatus,
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
  withTimeout,
} from './bus.js';
import { KeyedExecutor } from './keyed-executor.js';

export interface RabbitMqBusOptions {
  url: string;
  exchange: string;
  prefetch: number;
  /** how long publish waits for a connection (then rejects, and the outbox retries later) */
  publishTimeoutMs?: number;
  reconnectMaxMs?: number;
  subscribeDefaults?: SubscribeOptions;
  onError?: (err: unknown, context: string) => void;
}

type Listener = () => void;

export class RabbitMqBus implements MessageBus {
  readonly type = 'rabbitmq' as const;
  private model?: ChannelModel;
  private publisher?: ConfirmChannel;
  private connecting?: Promise<void>;
  private closed = false;
  private readonly subscriptions = new Set<RabbitSubscription>();
  private readonly connectedWaiters = new Set<Listener>();
  private reconnectTimer?: NodeJS.Timeout;
  private reconnects = 0;
  private lastError: string | null = null;
  private connectedAt: string | null = null;

  constructor(private readonly options: RabbitMqBusOptions) {}

  get unroutedExchange() {
    return `${this.options.exchange}.unrouted`;
  }

  /** Tries once now; on failure keeps retrying in the background with backoff. */
  async connect(): Promise<void> {
    this.closed = false;
    await this.ensureConnecting();
  }

  private ensureConnecting(): Promise<void> {
    this.connecting ??= this.open()
      .catch((err) => {
        this.lastError = describeError(err);
        this.scheduleReconnect();
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = backoffMs(++this.reconnects, 100, this.options.reconnectMaxMs ?? 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed && !this.model) void this.ensureConnecting();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async open(): Promise<void> {
    if (this.closed || this.model) return;
    const model = await connect(this.withHeartbeat(this.options.url), { timeout: 5000 });
    model.on('error', (err: Error) => {
      this.lastError = describeError(err);
    });
    model.on('close', () => this.onDisconnect(model));
    try {
      const ch = await model.createConfirmChannel();
      ch.on('error', (err: Error) => (this.lastError = describeError(err)));
      // A channel error (e.g. a queue declared with other arguments) closes the channel only;
      // start over with a fresh connection rather than publish into a dead channel.
      ch.on('close', () => {
        if (this.model === model) void model.close().catch(() => undefined);
      });
      await ch.assertExchange(this.unroutedExchange, 'fanout', { durable: true });
      await ch.assertQueue(this.unroutedExchange, { durable: true });
      await ch.bindQueue(this.unroutedExchange, this.unroutedExchange, '');
      await ch.assertExchange(this.options.exchange, 'topic', { durable: true, arguments: { 'alternate-exchange': this.unroutedExchange } });
      if (this.closed) {
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.publisher = ch;
      this.reconnects = 0;
      this.connectedAt = new Date().toISOString();
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
    for (const s of this.subscriptions) await s.attach(model, this.publisher).catch((err) => this.options.onError?.(err, `subscribe ${s.queue}`));
    for (const resolve of this.connectedWaiters) resolve();
    this.connectedWaiters.clear();
  }

  private withHeartbeat(url: string): string {
    // Heartbeats notice a dead broker within ~2 intervals instead of TCP's minutes.
    return /[?&]heartbeat=/.test(url) ? url : `${url}${url.includes('?') ? '&' : '?'}heartbeat=5`;
  }

  private onDisconnect(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.publisher = undefined;
    this.connectedAt = null;
    for (const s of this.subscriptions) s.detach();
    if (!this.closed) this.scheduleReconnect();
  }

  /** The publishing channel, waiting up to `timeoutMs` for a connection. */
  private async channel(timeoutMs: number): Promise<ConfirmChannel> {
    if (this.publisher) return this.publisher;
    if (this.closed) throw new Error('RabbitMQ bus is closed');
    void this.ensureConnecting();
    let listener: Listener = () => undefined;
    await withTimeout(
      new Promise<void>((resolve) => {
        listener = resolve;
        this.connectedWaiters.add(listener);
      }),
      timeoutMs,
      `RabbitMQ unavailable at ${redact(this.options.url)}${this.lastError ? ` (${this.lastError})` : ''}`,
    ).finally(() => this.connectedWaiters.delete(listener));
    if (!this.publisher) throw new Error('RabbitMQ connection lost');
    return this.publisher;
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (!messages.length) return;
    const timeout = this.options.publishTimeoutMs ?? 10_000;
    const ch = await this.channel(timeout);
    const now = Date.now();
    const confirms: Promise<void>[] = [];
    for (const m of messages) {
      const headers: Record<string, string> = { ...m.headers, [HEADER.publishedAt]: new Date(now).toISOString() };
      if (m.key) headers[HEADER.key] = m.key;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          const ok = ch.publish(
            this.options.exchange,
            m.topic,
            Buffer.from(m.value),
            { persistent: true, messageId: m.id, contentType: 'application/json', timestamp: Math.floor(now / 1000), headers },
            (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
          );
          void ok;
        }),
      );
      // Yield now and then so the socket flushes as we go rather than buffering the whole batch.
      if (confirms.length % 256 === 0) await new Promise((r) => setImmediate(r));
    }
    await withTimeout(Promise.all(confirms), timeout, 'RabbitMQ did not confirm the publish in time');
  }

  async subscribe<T = unknown>(topic: string, group: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): Promise<Subscription> {
    const sub = new RabbitSubscription(topic, group, handler as MessageHandler, { ...DEFAULT_SUBSCRIBE_OPTIONS, ...this.options.subscribeDefaults, ...options }, this.options, (s) =>
      this.subscriptions.delete(s),
    );
    this.subscriptions.add(sub);
    if (this.model && this.publisher) await sub.attach(this.model, this.publisher);
    else void this.ensureConnecting();
    return sub;
  }

  async status(): Promise<BusStatus> {
    const consumers = [];
    for (const s of this.subscriptions) consumers.push({ topic: s.topic, group: s.group, lag: await this.queueDepth(s.queue), ...s.counts });
    return {
      connected: !!this.publisher,
      details: {
        url: redact(this.options.url),
        exchange: this.options.exchange,
        connected_since: this.connectedAt,
        last_error: this.lastError,
        unrouted_messages: await this.queueDepth(this.unroutedExchange),
      },
      consumers,
    };
  }

  /** Ready messages in a queue (null when unknown); a side channel, since a missing queue closes it. */
  private async queueDepth(queue: string): Promise<number | null> {
    if (!this.model) return null;
    let ch: Channel | undefined;
    try {
      ch = await this.model.createChannel();
      ch.on('error', () => undefined);
      return (await ch.checkQueue(queue)).messageCount;
    } catch {
      return null;
    } finally {
      await ch?.close().catch(() => undefined);
    }
  }

  async deadLetters(topic: string, group: string, limit = 100): Promise<DeadLetter[]> {
    if (!this.model) throw new Error('RabbitMQ is not connected');
    const queue = `${group}.${topic}.dlq`;
    const ch = await this.model.createChannel();
    ch.on('error', () => undefined);
    const out: DeadLetter[] = [];
    try {
      for (let i = 0; i < limit; i++) {
        const msg = await ch.get(queue, { noAck: false }).catch(() => false as const);
        if (!msg) break;
        const h = stringHeaders(msg.properties.headers);
        out.push({
          message_id: String(msg.properties.messageId ?? ''),
          topic,
          group,
          key: h[HEADER.key] ?? null,
          payload: decodePayload(msg.content.toString()),
          attempts: Number(h[HEADER.attempt] ?? 1),
          error: h[HEADER.error] ?? '',
          failed_at: h['vitals-failed-at'] ?? null,
        });
      }
    } finally {
      await ch.close().catch(() => undefined); // closing without acks puts them all back, in order
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.shutdown();
  }

  async abort(): Promise<void> {
    for (const s of this.subscriptions) s.abort();
    this.subscriptions.clear();
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting;
    const model = this.model;
    this.model = undefined;
    this.publisher = undefined;
    await model?.close().catch(() => undefined);
  }
}

class RabbitSubscription implements Subscription {
  readonly queue: string;
  private channel?: Channel;
  private publisher?: ConfirmChannel;
  private consumerTag?: string;
  private executor: KeyedExecutor;
  private closing = false;
  private aborted = false;
  readonly counts = { handled: 0, failed: 0, dead_lettered: 0 };

  constructor(
    readonly topic: string,
    readonly group: string,
    private readonly handler: MessageHandler,
    private readonly options: ResolvedSubscribeOptions,
    private readonly bus: RabbitMqBusOptions,
    private readonly onClosed: (s: RabbitSubscription) => void,
  ) {
    this.queue = `${group}.${topic}`;
    this.executor = new KeyedExecutor(options.concurrency);
  }

  async attach(model: ChannelModel, publisher: ConfirmChannel): Promise<void> {
    if (this.closing) return;
    const ch = await model.createChannel();
    ch.on('error', (err: Error) => this.bus.onError?.(err, `channel of ${this.queue}`));
    ch.on('close', () => {
      if (this.channel === ch) this.detach();
    });
    await ch.prefetch(Math.max(this.bus.prefetch, this.options.concurrency));
    await ch.assertQueue(this.queue, { durable: true });
    await ch.bindQueue(this.queue, this.bus.exchange, this.topic);
    await ch.assertQueue(`${this.queue}.retry`, { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': this.queue } });
    await ch.assertQueue(`${this.queue}.dlq`, { durable: true });
    this.channel = ch;
    this.publisher = publisher;
    const { consumerTag } = await ch.consume(this.queue, (msg) => msg && void this.deliver(ch, msg), { noAck: false });
    this.consumerTag = consumerTag;
  }

  detach(): void {
    this.channel = undefined;
    this.publisher = undefined;
    this.consumerTag = undefined;
  }

  private deliver(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const headers = stringHeaders(msg.properties.headers);
    const key = headers[HEADER.key] ?? null;
    return this.executor.run(key, async () => {
      if (this.aborted) return;
      const payload = decodePayload(msg.content.toString());
      const attempt = Number(headers[HEADER.attempt] ?? 1);
      const message: BusMessage = {
        id: String(msg.properties.messageId ?? `${this.queue}:${msg.fields.deliveryTag}`),
        topic: this.topic,
        key,
        payload,
        headers,
        attempt,
        published_at: headers[HEADER.publishedAt] ?? null,
      };
      try {
        await this.handler(payload, message);
        if (this.aborted) return;
        ack(ch, msg);
        this.counts.handled++;
      } catch (err) {
        if (this.aborted) return;
        this.counts.failed++;
        await this.reroute(ch, msg, headers, attempt, err);
      }
    });
  }

  /** Moves a failed message to the retry queue (with its backoff as TTL) or the dead-letter queue. */
  private async reroute(ch: Channel, msg: ConsumeMessage, headers: Record<string, string>, attempt: number, err: unknown): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return; // disconnected: the broker redelivers the unacked message
    const dead = isPermanent(err) || attempt >= this.options.maxAttempts;
    const target = dead ? `${this.queue}.dlq` : `${this.queue}.retry`;
    const next = { ...headers, [HEADER.attempt]: String(dead ? attempt : attempt + 1), [HEADER.error]: describeError(err), ...(dead ? { 'vitals-failed-at': new Date().toISOString() } : {}) };
    try {
      await new Promise<void>((resolve, reject) => {
        publisher.sendToQueue(
          target,
          msg.content,
          {
            persistent: true,
            messageId: msg.properties.messageId,
            contentType: msg.properties.contentType,
            timestamp: msg.properties.timestamp,
            headers: next,
            ...(dead ? {} : { expiration: String(backoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs)) }),
          },
          (e) => (e ? reject(e instanceof Error ? e : new Error(String(e))) : resolve()),
        );
      });
    } catch (e) {
      this.bus.onError?.(e, `moving a failed message of ${this.queue} to ${target}`);
      return; // not acked: it comes back when the channel does
    }
    ack(ch, msg);
    if (dead) this.counts.dead_lettered++;
  }

  async close(): Promise<void> {
    this.closing = true;
    const ch = this.channel;
    if (ch && this.consumerTag) await ch.cancel(this.consumerTag).catch(() => undefined);
    await this.executor.idle();
    await ch?.close().catch(() => undefined);
    this.detach();
    this.onClosed(this);
  }

  /** Drops everything in flight unacknowledged; the broker redelivers it when the connection closes. */
  abort(): void {
    this.aborted = true;
    this.closing = true;
  }
}

function ack(ch: Channel, msg: ConsumeMessage): void {
  try {
    ch.ack(msg);
  } catch {
    // The channel closed under us: the broker will redeliver this message (at least once).
  }
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export { rabbitMqUrl } from './rabbitmq-url.js';
