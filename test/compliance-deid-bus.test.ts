/**
 * Issue 12, patient data on the bus: a DICOM with PatientName=Doe^Jane and PatientID=MRN-998877 is
 * published through the real HTTP API, relayed from the outbox to the embedded bus, run through the
 * image model by the imaging consumer (result, prediction log row) and, for an unknown model,
 * dead-lettered. Then every file of the SQLite database (db, -wal, -shm) and of the state folder is
 * scanned for both strings (as bytes, UTF-16 and base64 at every alignment): neither is there, while
 * the patient's pseudonym — HMAC of the ID under the key in VITALS_HOME/deid.key (mode 0600) — is.
 * After a restart the key is read back and the same patient gets the same pseudonym.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { pseudonym, readDicomFile } from '../src/multimodal/index.js';
import { text } from '../src/multimodal/dicom-values.js';
import { buildTinyCnn } from '../src/onnx/index.js';
import { type VitalsApp, buildApp } from '../src/server/app.js';
import { unique, waitFor } from './helpers/bus-contract.js';
import { writeDicom } from './helpers/dicom-writer.js';
import { filesUnder, findLeaks } from './helpers/leak-scan.js';

const NAME = 'Doe^Jane';
const MRN = 'MRN-998877';
const home = mkdtempSync(join(tmpdir(), 'vitals-deid-bus-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const labels = ['NORMAL', 'PNEUMONIA'];
const imageSpec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A small 8-bit chest radiograph with the identifiers (and one hidden in a private tag). */
function chestDicom(): Buffer {
  const pixels = Buffer.alloc(32 * 32);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 256;
  const e = (tag: [number, number], vr: string, value: string | number | Uint8Array) => ({ tag, vr, value });
  return writeDicom([
    e([0x0008, 0x0016], 'UI', '1.2.840.10008.5.1.4.1.1.1.1'),
    e([0x0008, 0x0018], 'UI', '1.2.826.0.1.998877.1'),
    e([0x0008, 0x0020], 'DA', '20250301'),
    e([0x0008, 0x0060], 'CS', 'DX'),
    e([0x0008, 0x0090], 'PN', 'House^Gregory'),
    e([0x0009, 0x0010], 'LO', 'ACME 1.0'),
    e([0x0009, 0x1001], 'LO', `${MRN} ${NAME}`),
    e([0x0010, 0x0010], 'PN', NAME),
    e([0x0010, 0x0020], 'LO', MRN),
    e([0x0010, 0x0030], 'DA', '19700315'),
    e([0x0010, 0x0040], 'CS', 'F'),
    e([0x0020, 0x000d], 'UI', '1.2.826.0.1.998877.2'),
    e([0x0028, 0x0002], 'US', 1),
    e([0x0028, 0x0004], 'CS', 'MONOCHROME2'),
    e([0x0028, 0x0010], 'US', 32),
    e([0x0028, 0x0011], 'US', 32),
    e([0x0028, 0x0100], 'US', 8),
    e([0x0028, 0x0101], 'US', 8),
    e([0x0028, 0x0102], 'US', 7),
    e([0x0028, 0x0103], 'US', 0),
    e([0x7fe0, 0x0010], 'OB', pixels),
  ]);
}

async function start(): Promise<VitalsApp> {
  const settings = loadConfig({
    env: {},
    dotenvFile: false,
    overrides: {
      VITALS_HOME: home,
      LOG_LEVEL: 'silent',
      VITALS_DEMO: false,
      INFERENCE_WORKERS: 1,
      OUTBOX_RELAY_INTERVAL_MS: 50,
      EMBEDDED_BUS_POLL_MS: 50,
      MESSAGING_MAX_ATTEMPTS: 2,
      MESSAGING_RETRY_BACKOFF_MS: 50,
    },
  });
  const v = await buildApp(settings, { logger: false });
  await v.services.messaging.startConsumers({ predictor: v.services.predictor, predictionLog: v.services.predictionLog });
  return v;
}

/** Publishes like a hospital system would, and waits until the platform has handled it. */
async function publishAndHandle(v: VitalsApp, studyId: string, model: string) {
  const results: Array<{ study_id: string; prediction_id?: string }> = [];
  const sub = await v.services.messaging.queue.subscribe<{ data: { study_id: string; prediction_id: string } }>('imaging_results', unique('observer'), (p) => {
    results.push(p.data);
  });
  const res = await v.app.inject({
    method: 'POST',
    url: '/api/v1/mlops/messaging/publish',
    payload: { topic: 'imaging_data', key: studyId, message: { study_id: studyId, model, image_base64: chestDicom().toString('base64') } },
  });
  expect(res.statusCode, res.body).toBe(202);
  return { messageId: res.json().message_id as string, results, sub };
}

const deadLetters = async (v: VitalsApp) =>
  (await v.app.inject({ url: '/api/v1/mlops/messaging/dead-letters?topic=imaging_data&group=vitals-imaging' })).json().dead_letters as Array<{ message_id: string }>;

/** The stored message's DICOM, parsed: what anyone reading the database would get. */
async function storedPatientId(v: VitalsApp, messageId: string): Promise<string | undefined> {
  const row = await v.services.database.db.selectFrom('bus_messages').select('payload').where('id', '=', messageId).executeTakeFirstOrThrow();
  const bytes = Buffer.from((JSON.parse(row.payload) as { image_base64: string }).image_base64, 'base64');
  return text(readDicomFile(bytes, { maxInflatedBytes: 1 << 26 }).dataSet, 'x00100020');
}

describe('bus payloads carrying images are de-identified before they are stored', () => {
  it('leaves neither Doe^Jane nor MRN-998877 anywhere in the database files or the state folder, and keeps the pseudonym across a restart', { timeout: 120_000 }, async () => {
    let v = await start();
    try {
      await v.services.registry.register({
        name: 'chest-xray',
        version: '1.0.0',
        artifact: buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 5 }).onnx,
        input_spec: imageSpec,
        output_spec: { labels },
        aliases: ['production'],
      });
      expect(v.services.deidKey.source).toBe('generated');
      const keyFile = join(home, 'deid.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      const expected = pseudonym(key, MRN);

      // the scan finds both strings in the message as it is sent (base64 inside JSON)
      const sent = join(home, '..', `${unique('sent')}.json`);
      writeFileSync(sent, JSON.stringify({ image_base64: chestDicom().toString('base64') }));
      expect(findLeaks([sent], [NAME, MRN]).map((h) => h.replace(/^.*: /, ''))).toEqual(
        expect.arrayContaining([expect.stringMatching(/^Doe\^Jane \(base64/), expect.stringMatching(/^MRN-998877 \(base64/)]),
      );
      rmSync(sent);

      const ok = await publishAndHandle(v, 'S-998877', 'chest-xray');
      await waitFor('the imaging result', () => ok.results.length === 1, 30_000);
      const predictionId = ok.results[0]!.prediction_id!;
      expect((await v.services.predictionLog.get(predictionId)).source).toBe('image');
      const failing = await publishAndHandle(v, 'S-998878', 'no-such-model');
      await waitFor('the dead letter', async () => (await deadLetters(v)).some((d) => d.message_id === failing.messageId), 30_000);
      await v.services.predictionLog.flush();
      await waitFor('an empty outbox', async () => (await v.services.messaging.outbox.depth()).depth === 0);

      expect(await storedPatientId(v, ok.messageId)).toBe(expected);
      // While the service runs: the database file, its WAL and shared memory, and the rest of the state folder.
      const files = filesUnder(home);
      expect(files).toEqual(expect.arrayContaining([join(home, 'vitals.db'), join(home, 'vitals.db-wal'), join(home, 'vitals.db-shm')]));
      expect(findLeaks(files, [NAME, MRN, 'House^Gregory', '19700315'])).toEqual([]);
      // the scan can see what is there: the stored, de-identified file carries the pseudonym
      expect(findLeaks(files, [expected]).length).toBeGreaterThan(0);
      await ok.sub.close();
      await failing.sub.close();
    } finally {
      await v.close();
    }

    // After a clean shutdown (WAL folded into the database file), and after a restart.
    expect(findLeaks(filesUnder(home), [NAME, MRN])).toEqual([]);
    v = await start();
    try {
      expect(v.services.deidKey.source).toBe('file');
      const again = await publishAndHandle(v, 'S-998879', 'chest-xray');
      await waitFor('the imaging result after the restart', () => again.results.length === 1, 30_000);
      expect(await storedPatientId(v, again.messageId)).toBe(pseudonym(readFileSync(join(home, 'deid.key'), 'utf8').trim(), MRN));
      const [first] = await v.services.database.db.selectFrom('bus_messages').select('id').where('topic', '=', 'imaging-data').orderBy('id').limit(1).execute();
      expect(await storedPatientId(v, first!.id)).toBe(await storedPatientId(v, again.messageId));
      await v.services.predictionLog.flush();
      expect(findLeaks(filesUnder(home), [NAME, MRN])).toEqual([]);
      await again.sub.close();
    } finally {
      await v.close();
    }
  });

  it('refuses (422) an image that looks like DICOM but cannot be de-identified, storing nothing', async () => {
    const v = await start();
    try {
      const broken = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0xff, 0x7f]), Buffer.from(MRN)]);
      const before = (await v.services.messaging.outbox.depth()).depth;
      const res = await v.app.inject({ method: 'POST', url: '/api/v1/mlops/messaging/publish', payload: { topic: 'imaging_data', message: { image_base64: broken.toString('base64') } } });
      expect(res.statusCode).toBe(422);
      expect(res.json().message).toMatch(/looks like DICOM but could not be de-identified/);
      expect((await v.services.messaging.outbox.depth()).depth).toBe(before);
    } finally {
      await v.close();
    }
  });
});
