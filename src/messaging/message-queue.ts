/**
 * The TypeScript API of the seed documents: `getMessageQueue().publish("patient_data", {...})` and
 * `queue.subscribe("patient_data", handler)`. Callers name logical topics; the queue checks them
 * and the message size, maps them to broker topics and hands them to the configured driver.
 */
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { uuidv7 } from '../ids.js';
import type { MessageBus, MessageHandler, QueueType, SubscribeOptions, Subscription } from './bus.js';
import type { Executor, Outbox } from './outbox.js';
import type { TopicMap } from './topics.js';

export interface PublishOptions {
  /** messages with one key keep their order (and land on one Kafka partition) */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface PublishReceipt {
  message_id: string;
  topic: string;
  broker_topic: string;
}

export const DEFAULT_GROUP = 'vitals';

export class MessageQueue {
  constructor(
    readonly bus: MessageBus,
    readonly topics: TopicMap,
    readonly outbox: Outbox,
    private readonly enqueueExecutor: Executor,
    /** when given, `enqueue` with an audit context writes a `message.published` row in the outbox's transaction */
    private readonly audit?: AuditRecorder,
  ) {}

  get type(): QueueType {
    return this.bus.type;
  }

  /** Publishes straight to the broker; resolves once it durably accepted the message, rejects if it cannot. */
  async publish(topic: string, message: unknown, options: PublishOptions = {}): Promise<PublishReceipt> {
    const value = this.outbox.encode(topic, message);
    const brokerTopic = this.topics.brokerName(topic);
    const id = uuidv7();
    await this.bus.publish([{ id, topic: brokerTopic, key: options.key ?? null, value, headers: options.headers }]);
    return { message_id: id, topic, broker_topic: brokerTopic };
  }

  /**
   * Writes the message to the outbox (in `tx` when given) for the relay to publish: it is accepted
   * even while the broker is down, and published once it is back. What the HTTP API uses.
   */
  async enqueue(topic: string, message: unknown, options: PublishOptions & { audit?: AuditContext } = {}, tx: Executor = this.enqueueExecutor): Promise<PublishReceipt> {
    const brokerTopic = this.topics.brokerName(topic);
    const write = async (ex: Executor) => {
      const id = await this.outbox.enqueue(ex, topic, message, { key: options.key ?? null, headers: options.headers });
      // Who published what where, never the content (it may carry patient data).
      if (options.audit && this.audit)
        await this.audit.record(ex, {
          action: 'message.published',
          target: `topic:${topic}`,
          context: options.audit,
          details: { message_id: id, key: options.key ?? null, broker_topic: brokerTopic },
        });
      return id;
    };
    const id = options.audit && this.audit && tx === this.enqueueExecutor ? await this.enqueueExecutor.transaction().execute(write) : await write(tx);
    return { message_id: id, topic, broker_topic: brokerTopic };
  }

  /** `subscribe(topic, handler)` joins the default group "vitals"; name a group to share or split the work. */
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>): Promise<Subscription>;
  subscribe<T = unknown>(topic: string, group: string, handler: MessageHandler<T>, options?: SubscribeOptions): Promise<Subscription>;
  subscribe<T = unknown>(topic: string, groupOrHandler: string | MessageHandler<T>, handler?: MessageHandler<T>, options?: SubscribeOptions): Promise<Subscription> {
    const group = typeof groupOrHandler === 'string' ? groupOrHandler : DEFAULT_GROUP;
    const fn = typeof groupOrHandler === 'function' ? groupOrHandler : handler;
    if (!fn) throw new TypeError('subscribe needs a handler');
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(group)) throw new TypeError(`group "${group}": use 1-100 letters, digits, ".", "_" or "-"`);
    return this.bus.subscribe(this.topics.brokerName(topic), group, fn, options);
  }
}

let current: MessageQueue | undefined;

/**
 * The message queue of the running Vitals services (the seed's `get_message_queue()`). It exists
 * once `createServices(settings)` (or `vitals serve` / `worker`) has built the services.
 */
export function getMessageQueue(): MessageQueue {
  if (!current) {
    throw new Error('no message queue yet: build the services first, e.g. `const s = await createServices(loadConfig())`, or use s.messaging.queue');
  }
  return current;
}

/** Set by the composition root; cleared when those services close. */
export function setCurrentMessageQueue(queue: MessageQueue | undefined, ifCurrent?: MessageQueue): void {
  if (ifCurrent !== undefined && current !== ifCurrent) return;
  current = queue;
}
