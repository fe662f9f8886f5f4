/**
 * Logical topics (what the platform and its users name) and the broker topic each maps to.
 * The seed settings KAFKA_TOPIC_PATIENT_DATA / _IMAGING_DATA / _ALERTS name three of them; the same
 * broker names are used on every broker so switching MESSAGE_QUEUE_TYPE changes nothing else.
 */
import { VitalsError } from '../errors.js';

export const LOGICAL_TOPICS = ['patient_data', 'imaging_data', 'imaging_results', 'alerts', 'predictions', 'model_events', 'ab_tests', 'pipelines'] as const;

export type LogicalTopic = (typeof LOGICAL_TOPICS)[number];

/** Kafka's rule for topic names (also safe as RabbitMQ routing keys and queue names). */
const BROKER_NAME = /^[A-Za-z0-9._-]{1,200}$/;
const LOGICAL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export interface TopicSettings {
  KAFKA_TOPIC_PATIENT_DATA: string;
  KAFKA_TOPIC_IMAGING_DATA: string;
  KAFKA_TOPIC_ALERTS: string;
  MESSAGING_TOPICS?: string;
}

export class TopicMap {
  private readonly byLogical: Map<string, string>;
  private readonly byBroker: Map<string, string>;

  constructor(mapping: Record<string, string>) {
    for (const [logical, broker] of Object.entries(mapping)) {
      if (!LOGICAL_NAME.test(logical)) throw new Error(`topic name "${logical}": use lower_snake_case letters and digits`);
      if (!BROKER_NAME.test(broker)) throw new Error(`broker topic "${broker}" (for ${logical}): use letters, digits, ".", "_" or "-"`);
    }
    this.byLogical = new Map(Object.entries(mapping));
    this.byBroker = new Map(Object.entries(mapping).map(([l, b]) => [b, l]));
  }

  static fromSettings(s: TopicSettings): TopicMap {
    const mapping: Record<string, string> = {
      patient_data: s.KAFKA_TOPIC_PATIENT_DATA,
      imaging_data: s.KAFKA_TOPIC_IMAGING_DATA,
      imaging_results: 'imaging-results',
      alerts: s.KAFKA_TOPIC_ALERTS,
      predictions: 'predictions',
      model_events: 'model-events',
      ab_tests: 'ab-tests',
      pipelines: 'pipelines',
    };
    for (const pair of (s.MESSAGING_TOPICS ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [logical, broker] = pair.split('=').map((p) => p?.trim());
      if (!logical || !broker) throw new Error(`MESSAGING_TOPICS: "${pair}" is not logical_name=broker-name`);
      mapping[logical] = broker;
    }
    return new TopicMap(mapping);
  }

  get names(): string[] {
    return [...this.byLogical.keys()];
  }

  entries(): Record<string, string> {
    return Object.fromEntries(this.byLogical);
  }

  has(topic: string): boolean {
    return this.byLogical.has(topic);
  }

  /** The broker topic of a logical topic; a 422 naming the known topics otherwise. */
  brokerName(topic: string): string {
    const name = this.byLogical.get(topic);
    if (name === undefined) {
      const hint = this.byBroker.has(topic) ? ` ("${topic}" is the broker name of "${this.byBroker.get(topic)}")` : '';
      throw new VitalsError('VALIDATION_FAILED', `unknown topic "${topic}"${hint}: use one of ${this.names.join(', ')}`, {
        fields: [{ field: 'topic', message: `unknown topic "${topic}"` }],
      });
    }
    return name;
  }

  logicalName(brokerTopic: string): string | undefined {
    return this.byBroker.get(brokerTopic);
  }
}
