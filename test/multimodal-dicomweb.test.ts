/**
 * The DICOMweb client against a small in-process QIDO-RS/WADO-RS server (the real Orthanc run is in
 * test/services): multipart/related parsing, the response cap, and errors that name no query.
 */
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient, boundaryOf, parseMultipartRelated } from '../src/multimodal/index.js';

const cr = readFileSync(new URL('./fixtures/dicom/cr_chest_mono1.dcm', import.meta.url));
const REF = { studyInstanceUid: '2.25.1', seriesInstanceUid: '2.25.2', sopInstanceUid: '2.25.3' };

describe('DICOMweb client', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.accept}`);
      if (req.url!.startsWith('/dw/instances') || req.url!.startsWith('/dw/studies/2.25.1/instances')) {
        res.setHeader('content-type', 'application/dicom+json');
        res.end(
          JSON.stringify([
            { '0020000D': { vr: 'UI', Value: ['2.25.1'] }, '0020000E': { vr: 'UI', Value: ['2.25.2'] }, '00080018': { vr: 'UI', Value: ['2.25.3'] } },
            { '0020000D': { vr: 'UI', Value: ['2.25.1'] } },
          ]),
        );
      } else if (req.url === '/dw/studies/2.25.1/series/2.25.2/instances/2.25.3') {
        const b = 'b0undary';
        res.setHeader('content-type', `multipart/related; type="application/dicom"; boundary="${b}"`);
        res.end(Buffer.concat([Buffer.from(`preamble\r\n--${b}\r\nContent-Type: application/dicom\r\n\r\n`), cr, Buffer.from(`\r\n--${b}--\r\n`)]));
      } else if (req.url === '/big/studies/2.25.1/series/2.25.2/instances/2.25.3') {
        res.setHeader('content-type', 'multipart/related; boundary=x');
        res.end(Buffer.alloc(3 * 1024 * 1024));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  it('searches with QIDO-RS and retrieves with WADO-RS', async () => {
    const client = new DicomwebClient({ baseUrl: `${base}/dw/`, maxResponseBytes: 1 << 20 });
    const refs = await client.searchInstances({ StudyInstanceUID: '2.25.1', Modality: 'CR', limit: 5 });
    expect(refs).toEqual([REF]); // the incomplete second entry is dropped
    expect(seen.at(-1)).toBe('GET /dw/studies/2.25.1/instances?Modality=CR&limit=5 application/dicom+json');
    const bytes = await client.retrieveInstance(refs[0]!);
    expect(Buffer.from(bytes).equals(cr)).toBe(true);
    expect(seen.at(-1)).toMatch(/multipart\/related; type="application\/dicom"; transfer-syntax=\*/);
  });

  it('caps what it reads and names the server, not the query, in errors', async () => {
    const big = new DicomwebClient({ baseUrl: `${base}/big`, maxResponseBytes: 1 << 20 });
    await expect(big.retrieveInstance(REF)).rejects.toMatchObject({ statusCode: 413 });
    const missing = new DicomwebClient({ baseUrl: `${base}/nothing`, maxResponseBytes: 1 << 20 });
    await expect(missing.retrieveInstance(REF)).rejects.toMatchObject({ statusCode: 404, message: expect.not.stringContaining('2.25.3') });
    const down = new DicomwebClient({ baseUrl: 'http://127.0.0.1:9/dw', maxResponseBytes: 1 << 20 });
    await expect(down.searchInstances({ StudyInstanceUID: '1.2.3' })).rejects.toMatchObject({ statusCode: 502, message: expect.stringMatching(/127\.0\.0\.1:9 is not reachable/) });
  });

  it('parses multipart/related bodies', () => {
    expect(boundaryOf('multipart/related; type="application/dicom"; boundary=abc')).toBe('abc');
    expect(boundaryOf('multipart/related; boundary="a b"')).toBe('a b');
    const body = Buffer.from('--x\r\nContent-Type: a\r\n\r\nONE\r\n--x\nContent-Type: b\n\nTWO\n--x--');
    const parts = parseMultipartRelated(body, 'x');
    expect(parts.map((p) => [p.headers['content-type'], Buffer.from(p.body).toString()])).toEqual([
      ['a', 'ONE'],
      ['b', 'TWO'],
    ]);
    expect(parseMultipartRelated(Buffer.from('no delimiters here'), 'x')).toEqual([]);
  });
});
