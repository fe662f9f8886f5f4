/**
 * The one contract every broker driver keeps (embedded, RabbitMQ, Kafka). Drivers speak broker topic
 * names; `MessageQueue` maps the platform's logical topics onto them.
 *
 * - `publish` resolves only once the broker has durably accepted every message (database commit,
 *   publisher confirm, acks=all); it rejects otherwise and the caller (the outbox relay) retries.
 * - `subscribe` delivers at least once: a message is acknowledged only after its handler resolved.
 *   A failing handler is retried with exponential backoff; after `maxAttempts` deliveries, or at once
 *   for a `PermanentMessageError`, the message moves to the group's dead-letter place.
 * - Subscribers of one group share the work; every group receives every message published after it
 *   was first subscribed (Kafka: a new group starts at the earliest retained offset).
 * - Messages with the same key are handled in publish order where the broker keeps it (embedded and
 *   Kafka do; RabbitMQ keeps queue order but retries re-enqueue a message behind later ones).
 */

export type QueueType = 'embedded' | 'rabbitmq' | 'kafka';

/** A message on its way to the broker. `value` is the JSON text of the payload. */
export interface OutgoingMessage {
  id: string;
  topic: string;
  key?: string | null;
  value: string;
  headers?: Record<string, string>;
}

/** A message as a handler sees it. */
export interface BusMessage<T = unknown> {
  /** the publisher's message id (outbox event id): stable across redeliveries, so consumers can dedupe */
  id: string;
  topic: string;
  key: string | null;
  payload: T;
  headers: Record<string, string>;
  /** 1 on the first delivery */
  attempt: number;
  published_at: string | null;
}

export type MessageHandler<T = unknown> = (payload: T, message: BusMessage<T>) => unknown;

export interface SubscribeOptions {
  /** deliveries before a failing message is dead-lettered (default 5) */
  maxAttempts?: number;
  /** first retry delay; doubles per attempt up to retryMaxMs (default 500 ms) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** messages handled at once by this subscriber (same-key messages still one at a time) */
  concurrency?: number;
}

export type ResolvedSubscribeOptions = Required<SubscribeOptions>;

export const DEFAULT_SUBSCRIBE_OPTIONS: ResolvedSubscribeOptions = { maxAttempts: 5, retryBaseMs: 500, retryMaxMs: 30_000, concurrency: 16 };

export interface Subscription {
  readonly topic: string;
  readonly group: string;
  /** stops taking messages, lets in-flight handlers finish and acknowledges them */
  close(): Promise<void>;
}

export interface ConsumerStatus {
  topic: string;
  group: string;
  /** messages published but not yet handled by the group, where the broker tells it */
  lag: number | null;
  handled: number;
  failed: number;
  dead_lettered: number;
}

export interface BusStatus {
  connected: boolean;
  /** broker-specific facts: address, last error, reconnects */
  details: Record<string, unknown>;
  consumers: ConsumerStatus[];
}

export interface DeadLetter {
  message_id: string;
  topic: string;
  group: string;
  key: string | null;
  payload: unknown;
  attempts: number;
  error: string;
  failed_at: string | null;
}

export interface MessageBus {
  readonly type: QueueType;
  /** starts connecting in the background; never throws for a broker that is down (publish does) */
  connect(): Promise<void>;
  publish(messages: OutgoingMessage[]): Promise<void>;
  subscribe<T = unknown>(topic: string, group: string, handler: MessageHandler<T>, options?: SubscribeOptions): Promise<Subscription>;
  status(): Promise<BusStatus>;
  /** a look at a group's dead letters, oldest first, without removing them */
  deadLetters(topic: string, group: string, limit?: number): Promise<DeadLetter[]>;
  /** graceful: subscriptions finish their in-flight messages, then connections close */
  close(): Promise<void>;
  /** what a crash does: connections drop, nothing in flight is acknowledged (tests, hard shutdown) */
  abort(): Promise<void>;
}

/** Thrown by a handler for a message that can never succeed (bad schema): dead-lettered without retries. */
export class PermanentMessageError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentMessageError';
  }
}

/** Permanent: our own marker, or a user error (4xx VitalsError) such as a malformed image. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentMessageError) return true;
  const status = (err as { statusCode?: unknown })?.statusCode;
  const code = (err as { code?: unknown })?.code;
  // Not-found may be a race (ground truth before its prediction is written): retry those.
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 404 && code !== 'SHUTTING_DOWN';
}

export function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** Exponential backoff with ±20 % jitter so that retries of many messages do not arrive in step. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Payloads are JSON; a producer outside Vitals may send plain text, which handlers get as a string. */
export function decodePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Rejects with `message` if `work` has not settled within `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Header names Vitals sets on every message, on every broker. */
export const HEADER = {
  messageId: 'vitals-message-id',
  publishedAt: 'vitals-published-at',
  key: 'vitals-key',
  attempt: 'vitals-attempt',
  error: 'vitals-error',
} as const;
