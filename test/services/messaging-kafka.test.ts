/**
 * The message bus contract and the fault test on a real Kafka broker (KRaft, combined broker and
 * controller), started on 127.0.0.1 by scripts/services/kafka.sh from the jars on Maven Central.
 * A broker that cannot start fails this file; it is never skipped.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { KafkaBus } from '../../src/messaging/kafka-bus.js';
import { brokerFaultTest } from '../helpers/broker-fault.js';
import { brokerRunning, brokerScript, startBroker } from '../helpers/brokers.js';
import { busContract } from '../helpers/bus-contract.js';

let bootstrap = '';
let startedHere = false; // a broker this file started is stopped at the end; one already running is left alone
beforeAll(async () => {
  startedHere = !(await brokerRunning('kafka'));
  bootstrap = await startBroker('kafka');
}, 600_000);
afterAll(async () => {
  if (startedHere) await brokerScript('kafka', 'stop');
}, 60_000);

busContract('Kafka', {
  makeBus: async () => new KafkaBus({ bootstrapServers: [bootstrap], clientId: 'vitals-test', partitions: 3 }),
  // the group must hand partitions to a second member before both share work
  settleMs: 2000,
  redeliveryTimeoutMs: 30_000,
});

describe('Kafka outage', () => {
  brokerFaultTest({
    name: 'Kafka',
    overrides: () => ({ MESSAGE_QUEUE_TYPE: 'kafka', KAFKA_BOOTSTRAP_SERVERS: bootstrap }),
    stopBroker: async () => void (await brokerScript('kafka', 'stop')),
    startBroker: async () => void (await startBroker('kafka')),
    settleMs: 1000,
  });
});
