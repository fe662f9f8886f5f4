/**
 * Messaging on the embedded bus (SQLite): the shared bus contract, the HTTP API, platform events
 * written through the transactional outbox, the consumers that drive the platform, and a restart
 * that loses nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus, type BusMessage, type PlatformEvent, TopicMap, rabbitMqUrl } from '../src/messaging/index.js';
import { buildTinyCnn } from '../src/onnx/index.js';
import { type Database, openDatabase } from '../src/store/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';
import { busContract, unique, waitFor } from './helpers/bus-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'vitals-bus-'));
const databases: Database[] = [];
afterAll(async () => {
  for (const d of databases) await d.close();
  rmSync(dir, { recursive: true, force: true });
});

// Every bus gets its own connection to one SQLite file, as separate processes would.
busContract('embedded (SQLite)', {
  async makeBus() {
    const database = await openDatabase(`sqlite:${join(dir, 'bus.db')}`, dir);
    databases.push(database);
    return new EmbeddedBus(database, { pollMs: 50, leaseMs: 1500, retentionHours: 0 });
  },
  redeliveryTimeoutMs: 10_000,
});

describe('settings', () => {
  it('builds the AMQP URL from the seed settings unless RABBITMQ_URL is given', () => {
    const seed = { RABBITMQ_HOST: 'mq.local', RABBITMQ_PORT: 5672, RABBITMQ_USER: 'vitals', RABBITMQ_PASSWORD: 'p@ss/word' };
    expect(rabbitMqUrl(seed)).toBe('amqp://vitals:p%40ss%2Fword@mq.local:5672/');
    expect(rabbitMqUrl({ ...seed, RABBITMQ_URL: 'amqps://u:p@broker:5671/prod' })).toBe('amqps://u:p@broker:5671/prod');
  });
});

describe('topic map', () => {
  it('maps the seed topics to the seed broker names and takes overrides', () => {
    const t = TopicMap.fromSettings({
      KAFKA_TOPIC_PATIENT_DATA: 'patient-data',
      KAFKA_TOPIC_IMAGING_DATA: 'imaging-data',
      KAFKA_TOPIC_ALERTS: 'alerts',
      MESSAGING_TOPICS: 'predictions=vitals.predictions, lab_results=lab-results',
    });
    expect(t.brokerName('patient_data')).toBe('patient-data');
    expect(t.brokerName('predictions')).toBe('vitals.predictions');
    expect(t.brokerName('lab_results')).toBe('lab-results');
    expect(() => t.brokerName('patient-data')).toThrow(/unknown topic "patient-data" \("patient-data" is the broker name of "patient_data"\)/);
    expect(() => TopicMap.fromSettings({ KAFKA_TOPIC_PATIENT_DATA: 'bad topic!', KAFKA_TOPIC_IMAGING_DATA: 'i', KAFKA_TOPIC_ALERTS: 'a' })).toThrow(/broker topic/);
  });
});

const labels = ['NORMAL', 'PNEUMONIA'];
const imageSpec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 5 });
const png = () =>
  sharp(Buffer.alloc(32 * 32, 128), { raw: { width: 32, height: 32, channels: 1 } })
    .png()
    .toBuffer();

/** Collects what a logical topic carries, from now on. */
async function observe<T = PlatformEvent>(t: TestApp, topic: string) {
  const got: Array<BusMessage<T>> = [];
  await t.services.messaging.queue.subscribe<T>(topic, unique('observer'), (_p, m) => {
    got.push(m);
  });
  return got;
}

describe('messaging through the platform (embedded bus)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MESSAGE_MAX_BYTES: 4096, OUTBOX_RELAY_INTERVAL_MS: 50, EMBEDDED_BUS_POLL_MS: 50, MESSAGING_RETRY_BACKOFF_MS: 50, MESSAGING_MAX_ATTEMPTS: 3 });
    await t.services.messaging.startConsumers({ predictor: t.services.predictor, predictionLog: t.services.predictionLog });
  });
  afterAll(() => t.dispose());

  it('publishes through the API (202, via the outbox) and subscribers get the message', async () => {
    const got = await observe<{ patient_id: string }>(t, 'patient_data');
    const message = { patient_id: 'P001', event_type: 'new_imaging', data: { modality: 'CT', timestamp: '2024-01-01T12:00:00' } };
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/messaging/publish', payload: { topic: 'patient_data', message, key: 'P001' } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'accepted', topic: 'patient_data', broker_topic: 'patient-data', queue_type: 'embedded', delivery: 'outbox' });
    await waitFor('the message', () => got.length === 1);
    expect(got[0]).toMatchObject({ id: res.json().message_id, key: 'P001', payload: message });
  });

  it('refuses an unknown topic and an oversized message with 422 and the reason', async () => {
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/messaging/publish', payload: { topic: 'billing', message: {} } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().message).toMatch(/unknown topic "billing": use one of patient_data, imaging_data/);
    const big = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/messaging/publish', payload: { topic: 'alerts', message: { blob: 'x'.repeat(5000) } } });
    expect(big.statusCode).toBe(422);
    expect(big.json().message).toMatch(/message is \d+ bytes; the limit is 4096 \(MESSAGE_MAX_BYTES\)/);
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/messaging/publish', payload: { message: {} } });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().message).toMatch(/topic/);
  });

  it('reports the queue type, connection, outbox backlog and consumer lag', async () => {
    const res = await t.app.inject({ url: '/api/v1/mlops/messaging/status' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ queue_type: 'embedded', connected: true, topics: { patient_data: 'patient-data', imaging_data: 'imaging-data', alerts: 'alerts' } });
    expect(body.outbox).toMatchObject({ depth: expect.any(Number), relay: { running: true } });
    expect(body.consumers).toEqual(expect.arrayContaining([expect.objectContaining({ topic: 'imaging_data', broker_topic: 'imaging-data', group: 'vitals-imaging', lag: expect.any(Number) })]));
    expect(body.platform_consumers).toMatchObject({ enabled: true, running: true });
  });

  it('publishes registry events (registered, promoted, rolled back) from the same transaction', async () => {
    const got = await observe(t, 'model_events');
    const v1 = await t.services.registry.register({
      name: 'chest-xray',
      version: '1.0.0',
      artifact: cnn.onnx,
      input_spec: imageSpec,
      output_spec: { labels },
      aliases: ['production'],
      actor: 'dr-lee',
    });
    const other = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 6 });
    const v2 = await t.services.registry.register({ name: 'chest-xray', version: '1.1.0', artifact: other.onnx, input_spec: imageSpec, output_spec: { labels } });
    await t.services.registry.promote(v2.id, { actor: 'dr-lee', reason: 'better recall' });
    await t.services.registry.rollback('chest-xray', { reason: 'regression' });
    await waitFor('5 model events', () => got.length >= 5);
    expect(got.map((m) => m.payload.type)).toEqual(['model.registered', 'model.promoted', 'model.registered', 'model.promoted', 'model.rolled_back']);
    expect(got[3]!.payload.data).toMatchObject({ model_name: 'chest-xray', alias: 'production', from_version: '1.0.0', to_version: '1.1.0', actor: 'dr-lee', reason: 'better recall' });
    expect(got.every((m) => m.key === v1.model_id && m.id === m.payload.event_id && m.payload.source === 'vitals')).toBe(true);
  });

  it('publishes abtest.decided when an A/B test ends, with its release event', async () => {
    const got = await observe(t, 'ab_tests');
    const test = await t.services.abTests.create({ name: 'cnn seeds', model: 'chest-xray', treatment: '1.1.0', traffic_split: 0.5, decision_mode: 'recommend-only' });
    await t.services.abTests.finalize(test.id, 'rollback', { actor: 'dr-lee', reason: 'no better' });
    await waitFor('abtest.decided', () => got.length === 1);
    expect(got[0]!.payload).toMatchObject({
      type: 'abtest.decided',
      data: { test_id: test.id, model_name: 'chest-xray', decision: 'rollback', winner: 'control', treatment_version: '1.1.0', actor: 'dr-lee' },
    });
  });

  it('runs the image model on an imaging_data message and publishes the result; patient_data carries ground truth back', async () => {
    const results = await observe(t, 'imaging_results');
    const predictions = await observe(t, 'predictions');
    const image = (await png()).toString('base64');
    await t.services.messaging.queue.publish('imaging_data', { study_id: 'S-1', patient_id: 'anon-7', model: 'chest-xray', image_base64: image }, { key: 'S-1' });
    await waitFor('the imaging result', () => results.length === 1);
    const r = results[0]!;
    expect(r.key).toBe('S-1');
    expect(r.payload).toMatchObject({ type: 'imaging.prediction', data: { study_id: 'S-1', patient_id: 'anon-7', model: 'chest-xray', model_version: '1.0.0' } });
    const data = r.payload.data as { prediction_id: string; prediction: string; probabilities: Record<string, number>; source_message_id: string };
    expect(labels).toContain(data.prediction);
    expect(Object.keys(data.probabilities)).toEqual(labels);
    // the prediction is in the log, and announced on `predictions` (summary only: no features, no pixels)
    expect((await t.services.predictionLog.get(data.prediction_id)).source).toBe('image');
    await waitFor('the prediction event', () => predictions.some((p) => (p.payload.data as { prediction_id: string }).prediction_id === data.prediction_id));
    const event = predictions.find((p) => (p.payload.data as { prediction_id: string }).prediction_id === data.prediction_id)!;
    expect(event.payload.type).toBe('prediction.recorded');
    expect(event.payload.data).not.toHaveProperty('input');

    // Seed-style envelope: ground truth inside `data`.
    await t.services.messaging.queue.publish('patient_data', { patient_id: 'anon-7', event_type: 'diagnosis_confirmed', data: { prediction_id: data.prediction_id, ground_truth: 'PNEUMONIA' } });
    await waitFor('the label', async () => (await t.services.predictionLog.get(data.prediction_id)).ground_truth === 'PNEUMONIA');

    // a label the model does not have is dead-lettered at once, naming the allowed ones; the label stays
    await t.services.messaging.queue.publish('patient_data', { patient_id: 'anon-7', event_type: 'diagnosis_confirmed', data: { prediction_id: data.prediction_id, ground_truth: 'banana' } });
    const dead = async () =>
      (await t.app.inject({ url: '/api/v1/mlops/messaging/dead-letters?topic=patient_data&group=vitals-ground-truth' })).json().dead_letters as Array<{ attempts: number; error: string }>;
    await waitFor('the dead letter', async () => (await dead()).length === 1);
    expect((await dead())[0]).toMatchObject({ attempts: 1, error: expect.stringMatching(/"banana" is not a label of model "chest-xray": send one of/) });
    expect((await t.services.predictionLog.get(data.prediction_id)).ground_truth).toBe('PNEUMONIA');
  });

  it('dead-letters an imaging message that can never work, without retrying it', async () => {
    await t.services.messaging.queue.publish('imaging_data', { study_id: 'S-bad', model: 'chest-xray', image_base64: 'bm90IGFuIGltYWdl' });
    await t.services.messaging.queue.publish('imaging_data', { study_id: 'S-none' });
    const dead = async () => (await t.app.inject({ url: '/api/v1/mlops/messaging/dead-letters?topic=imaging_data&group=vitals-imaging' })).json().dead_letters;
    await waitFor('two dead letters', async () => (await dead()).length >= 2);
    const list = await dead();
    expect(list.find((d: { payload: { study_id: string } }) => d.payload.study_id === 'S-none')).toMatchObject({
      attempts: 1,
      error: expect.stringMatching(/exactly one of image_base64, image_url or image_path/),
    });
    expect(
      list.find((d: { payload: { study_id: string } }) => d.payload.study_id === 'S-bad'),
      JSON.stringify(list),
    ).toMatchObject({ attempts: 1 });
  });

  it('publishes alert.fired with the alert row, in its transaction', async () => {
    const got = await observe(t, 'alerts');
    const version = await t.services.registry.getVersion('chest-xray', '1.0.0');
    for (let i = 0; i < 120; i++) {
      t.services.predictionLog.record({
        model_id: version.model_id,
        model_name: 'chest-xray',
        version_id: version.id,
        version: '1.0.0',
        source: 'image',
        input: { sha256: `img-${i}` },
        ...(i % 2 ? { error: 'INFERENCE_FAILED' } : { prediction: 'NORMAL', confidence: 0.9, probabilities: { NORMAL: 0.9, PNEUMONIA: 0.1 }, latency_ms: 5 }),
      });
    }
    await t.services.monitor.checkVersion(version.id);
    await waitFor('alert.fired', () => got.some((m) => m.payload.type === 'alert.fired'));
    const fired = got.find((m) => m.payload.type === 'alert.fired')!;
    expect(fired.payload.data).toMatchObject({ rule: 'error_rate_above', model_name: 'chest-xray', version: '1.0.0', status: 'firing' });
  });
});

describe('the embedded bus across a restart', () => {
  it('loses nothing: 1,000 events accepted before a crash all arrive after the restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-restart-'));
    const overrides = { VITALS_HOME: home, MESSAGING_TOPICS: 'fault_test=fault-test', OUTBOX_RELAY_INTERVAL_MS: 50, EMBEDDED_BUS_POLL_MS: 50, EMBEDDED_BUS_LEASE_MS: 1000 };
    const first = await startTestApp(overrides);
    const counts = new Map<string, number>();
    const count = (_p: unknown, m: BusMessage) => void counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
    // A consumer that dies after handling a few hundred, and events still in the outbox at the crash.
    await first.services.messaging.queue.subscribe('fault_test', 'fault-consumer', count, { concurrency: 8 });
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await first.app.inject({ method: 'POST', url: '/api/v1/mlops/messaging/publish', payload: { topic: 'fault_test', message: { seq: i }, key: `patient-${i % 10}` } });
      ids.push(res.json().message_id);
      if (i === 600) await first.services.messaging.relay.close(); // the relay dies first…
    }
    await waitFor('some deliveries before the crash', () => counts.size >= 100);
    await first.services.messaging.bus.abort(); // …then the consumer, mid-batch
    const before = counts.size;
    const depth = (await first.services.messaging.outbox.depth()).depth;
    expect(depth).toBeGreaterThan(0);
    await first.services.database.close();

    const second = await startTestApp(overrides);
    try {
      await second.services.messaging.queue.subscribe('fault_test', 'fault-consumer', count, { concurrency: 8 });
      await waitFor('all 1,000 events', () => ids.every((id) => counts.has(id)), 30_000, 100);
      const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
      console.log(`[embedded restart] 1000 published, ${counts.size} distinct delivered (${before} before the crash, outbox held ${depth}), ${duplicates} duplicates`);
      expect(counts.size).toBe(1000);
      expect((await second.services.messaging.outbox.depth()).depth).toBe(0);
    } finally {
      await second.dispose();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
