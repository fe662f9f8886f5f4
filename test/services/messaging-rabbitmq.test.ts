/**
 * The message bus contract and the fault test on a real RabbitMQ node, started on 127.0.0.1 by
 * scripts/services/rabbitmq.sh (Debian's rabbitmq-server; installed with apt-get on first use).
 * A broker that cannot start fails this file; it is never skipped.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { RabbitMqBus } from '../../src/messaging/rabbitmq-bus.js';
import { brokerFaultTest } from '../helpers/broker-fault.js';
import { brokerRunning, brokerScript, startBroker } from '../helpers/brokers.js';
import { busContract } from '../helpers/bus-contract.js';

let url = '';
let startedHere = false; // a broker this file started is stopped at the end; one already running is left alone
beforeAll(async () => {
  startedHere = !(await brokerRunning('rabbitmq'));
  url = await startBroker('rabbitmq');
}, 600_000);
afterAll(async () => {
  if (startedHere) await brokerScript('rabbitmq', 'stop');
}, 60_000);

busContract('RabbitMQ', {
  makeBus: async () => new RabbitMqBus({ url, exchange: 'vitals', prefetch: 32 }),
  redeliveryTimeoutMs: 15_000,
});

describe('RabbitMQ outage', () => {
  brokerFaultTest({
    name: 'RabbitMQ',
    overrides: () => ({ MESSAGE_QUEUE_TYPE: 'rabbitmq', RABBITMQ_URL: url }),
    stopBroker: async () => void (await brokerScript('rabbitmq', 'stop')),
    startBroker: async () => void (await startBroker('rabbitmq')),
  });
});
