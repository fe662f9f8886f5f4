/**
 * Wires messaging from the settings: the driver chosen by MESSAGE_QUEUE_TYPE, the topic map, the
 * outbox and its relay, the seed's MessageQueue API, and the platform's own consumers.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Settings } from '../config/index.js';
import type { Database } from '../store/index.js';
import type { MessageBus, Subscription } from './bus.js';
import { EmbeddedBus } from './embedded-bus.js';
import { type GroundTruthConsumerStats, type GroundTruthSink, type ReportSink, groundTruthConsumer } from './ground-truth-consumer.js';
import { type ImagePredictor, imagingConsumer } from './imaging-consumer.js';
import { MessageQueue, setCurrentMessageQueue } from './message-queue.js';
import { type MessageFilter, Outbox } from './outbox.js';
import { OutboxRelay } from './outbox-relay.js';
import { rabbitMqUrl } from './rabbitmq-url.js';
import { TopicMap } from './topics.js';

export type MessagingLog = (err: unknown, context: string) => void;

/** Consumer groups of the platform's own consumers. */
export const PLATFORM_GROUPS = { imaging: 'vitals-imaging', groundTruth: 'vitals-ground-truth' } as const;

/**
 * The bus MESSAGE_QUEUE_TYPE names. A broker's driver is imported only when it is the one chosen: the
 * Kafka client alone costs about half a second of start-up (it compiles its option schemas on import).
 */
export async function createBus(settings: Settings, database: Database, onError: MessagingLog = () => undefined): Promise<MessageBus> {
  const subscribeDefaults = { maxAttempts: settings.MESSAGING_MAX_ATTEMPTS, retryBaseMs: settings.MESSAGING_RETRY_BACKOFF_MS };
  switch (settings.MESSAGE_QUEUE_TYPE) {
    case 'rabbitmq': {
      const { RabbitMqBus } = await import('./rabbitmq-bus.js');
      return new RabbitMqBus({ url: rabbitMqUrl(settings), exchange: settings.RABBITMQ_EXCHANGE, prefetch: settings.RABBITMQ_PREFETCH, subscribeDefaults, onError });
    }
    case 'kafka': {
      const { KafkaBus } = await import('./kafka-bus.js');
      return new KafkaBus({
        bootstrapServers: settings.KAFKA_BOOTSTRAP_SERVERS.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        clientId: settings.KAFKA_CLIENT_ID,
        partitions: settings.KAFKA_TOPIC_PARTITIONS,
        subscribeDefaults,
        onError,
      });
    }
    default:
      return new EmbeddedBus(database, {
        pollMs: settings.EMBEDDED_BUS_POLL_MS,
        leaseMs: settings.EMBEDDED_BUS_LEASE_MS,
        retentionHours: settings.EMBEDDED_BUS_RETENTION_HOURS,
        subscribeDefaults,
      });
  }
}

export interface MessagingOptions {
  bus?: MessageBus;
  registry?: Registry;
  audit?: import('../audit/index.js').AuditRecorder;
  /** applied to every message before it is stored or published: de-identifies image payloads */
  filter?: MessageFilter;
}

export class Messaging {
  readonly topics: TopicMap;
  readonly outbox: Outbox;
  readonly relay: OutboxRelay;
  readonly queue: MessageQueue;
  private readonly consumers: Subscription[] = [];
  readonly groundTruthStats: GroundTruthConsumerStats = { labels_attached: 0, events_without_labels: 0, reports_received: 0, reports_unmatched: 0, report_labels_attached: 0 };
  private started = false;

  readonly bus: MessageBus;
  private log: MessagingLog = () => undefined;

  /** Messaging on the bus MESSAGE_QUEUE_TYPE names (or the one given); its driver is imported here. */
  static async create(settings: Settings, database: Database, options: MessagingOptions = {}): Promise<Messaging> {
    let messaging: Messaging | undefined;
    const bus = options.bus ?? (await createBus(settings, database, (err, context) => messaging?.log(err, context)));
    messaging = new Messaging(settings, database, { ...options, bus });
    return messaging;
  }

  constructor(
    private readonly settings: Settings,
    private readonly database: Database,
    options: MessagingOptions & { bus: MessageBus },
  ) {
    const registry = options.registry;
    this.bus = options.bus;
    this.topics = TopicMap.fromSettings(settings);
    this.outbox = new Outbox(database, this.topics, settings.MESSAGE_MAX_BYTES, options.filter);
    this.outbox.dropsUnread = this.bus.type === 'embedded';
    const relayed = registry && new Counter({ name: 'vitals_outbox_relayed_total', help: 'Outbox events published to the message broker', registers: [registry] });
    const failures =
      registry && new Counter({ name: 'vitals_outbox_relay_failures_total', help: 'Failed outbox relay batches (the events stay in the outbox and are retried)', registers: [registry] });
    if (registry) {
      const outbox = this.outbox;
      new Gauge({
        name: 'vitals_outbox_pending_events',
        help: 'Platform events waiting in the outbox for the broker',
        registers: [registry],
        async collect() {
          this.set((await outbox.depth().catch(() => ({ depth: 0 }))).depth);
        },
      });
    }
    this.relay = new OutboxRelay(database, this.bus, this.topics, this.outbox, {
      batchSize: settings.OUTBOX_BATCH_SIZE,
      intervalMs: settings.OUTBOX_RELAY_INTERVAL_MS,
      onRelayed: (n) => relayed?.inc(n),
      onError: (err) => {
        failures?.inc();
        this.log(err, 'outbox relay: publishing failed; events stay in the outbox and are retried');
      },
    });
    this.queue = new MessageQueue(this.bus, this.topics, this.outbox, database.db, options.audit);
  }

  get type() {
    return this.bus.type;
  }

  /** Where broker and relay errors are reported (the HTTP app's logger, once it exists). */
  setLogger(log: MessagingLog): void {
    this.log = log;
  }

  /** Connects (in the background for a broker that is down) and starts the outbox relay. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    setCurrentMessageQueue(this.queue);
    await this.bus.connect();
    this.relay.start();
  }

  /**
   * Starts the consumers that drive the platform (`vitals serve` and `vitals worker` do):
   * imaging_data → image model → imaging_results, and patient_data ground truth (labels, and
   * radiology reports when `reports` is given) → prediction log.
   */
  async startConsumers(deps: { predictor: ImagePredictor; predictionLog: GroundTruthSink; reports?: ReportSink }): Promise<void> {
    if (!this.settings.MESSAGING_CONSUMERS_ENABLED || this.consumers.length) return;
    const imaging = imagingConsumer({
      predictor: deps.predictor,
      outbox: this.outbox,
      db: this.database.db,
      maxImageBytes: Math.round(this.settings.MAX_IMAGE_SIZE_MB * 1024 * 1024),
      imageDir: this.settings.MESSAGING_IMAGE_DIR,
      fetchAllowedHosts: this.settings.FETCH_ALLOWED_HOSTS,
    });
    // Inference is the bottleneck and runs in the worker pool: a couple of images at a time is plenty.
    this.consumers.push(await this.queue.subscribe('imaging_data', PLATFORM_GROUPS.imaging, imaging, { concurrency: 2 }));
    this.consumers.push(await this.queue.subscribe('patient_data', PLATFORM_GROUPS.groundTruth, groundTruthConsumer(deps.predictionLog, this.groundTruthStats, deps.reports)));
  }

  async status() {
    const [bus, outbox] = await Promise.all([this.bus.status(), this.outbox.depth()]);
    return {
      queue_type: this.bus.type,
      connected: bus.connected,
      broker: bus.details,
      topics: this.topics.entries(),
      outbox: { depth: outbox.depth, oldest_created_at: outbox.oldest_created_at, oldest_age_seconds: outbox.oldest_age_seconds, relay: { ...this.relay.stats } },
      consumers: bus.consumers.map((c) => ({ ...c, topic: this.topics.logicalName(c.topic) ?? c.topic, broker_topic: c.topic })),
      platform_consumers: { enabled: this.settings.MESSAGING_CONSUMERS_ENABLED, running: this.consumers.length > 0, ground_truth: { ...this.groundTruthStats } },
    };
  }

  async close(): Promise<void> {
    for (const s of this.consumers.splice(0)) await s.close().catch((err) => this.log(err, `closing consumer ${s.group}`));
    await this.relay.close();
    await this.bus.close();
    setCurrentMessageQueue(undefined, this.queue);
  }
}
