export * from './bus.js';
export * from './topics.js';
export * from './outbox.js';
export * from './outbox-relay.js';
export * from './message-queue.js';
export * from './message-schemas.js';
export * from './messaging.js';
export { EmbeddedBus, type EmbeddedBusOptions } from './embedded-bus.js';
// The broker drivers are not re-exported: importing them loads their clients (Kafka's alone is about
// half a second of start-up). createBus imports the one MESSAGE_QUEUE_TYPE names; tests and benchmarks
// import ./rabbitmq-bus.js or ./kafka-bus.js themselves.
export type { RabbitMqBusOptions } from './rabbitmq-bus.js';
export type { KafkaBusOptions } from './kafka-bus.js';
export { rabbitMqUrl } from './rabbitmq-url.js';
export { imagingConsumer } from './imaging-consumer.js';
export { groundTruthConsumer } from './ground-truth-consumer.js';
export { messagingPlugin, type MessagingRouteDeps } from './routes.js';
