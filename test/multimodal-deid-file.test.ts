/**
 * De-identification of whole files (what a bus message keeps): every DICOM fixture, in every
 * transfer syntax and encoding, is rewritten so that none of its identifiers is left in the bytes,
 * its pixels decode exactly as before, and its pseudonym and UIDs are those the JSON description of
 * the original reports. PNG and JPEG lose their text and EXIF metadata, not their pixels.
 */
import { crc32 } from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readDicomFile, renderDicomForModel, deidentifyDicom, deidentifyDicomFile, deidentifyImagePayload, pseudonym, stripJpegMetadata, stripPngText } from '../src/multimodal/index.js';
import { text } from '../src/multimodal/dicom-values.js';
import { IDENTIFIERS } from './helpers/dicom-identifiers.js';
import { writeDicom } from './helpers/dicom-writer.js';

const dir = new URL('./fixtures/dicom/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const deid = { salt: 'file-salt-0123456789', dates: 'shift' as const };
const limits = { maxInflatedBytes: 64 * 1024 * 1024 };
/** Fixtures whose pixels cannot be rendered on purpose (absurd sizes, short data, 12-bit JPEG): checked for identifiers only. */
const UNRENDERABLE = new Set(['ct_absurd_dims.dcm', 'ct_short_pixels.dcm', 'ct_jpeg_extended12.dcm']);

describe('de-identified DICOM files', () => {
  const names = readdirSync(dir).filter((n) => n.endsWith('.dcm'));

  it.each(names)('%s: no identifier left in the bytes, the same pixels, the same pseudonym and UIDs', async (name) => {
    const original = read(name);
    const { bytes, patientKey } = deidentifyDicomFile(original, deid, limits);
    for (const id of IDENTIFIERS) expect(bytes.includes(Buffer.from(id, 'latin1')), `${name} still holds ${id}`).toBe(false);
    const file = readDicomFile(bytes, limits);
    expect(text(file.dataSet, 'x00120062')).toBe('YES'); // Patient Identity Removed
    // the file carries the pseudonym and remapped UIDs that the attribute-level de-identification reports
    const before = deidentifyDicom(readDicomFile(original, limits).dataSet, deid);
    expect(before.patientKey).toBe(patientKey);
    for (const tag of ['x00100020', 'x0020000d', 'x0020000e', 'x00080018', 'x00080020', 'x00080060']) expect(text(file.dataSet, tag), `${name} ${tag}`).toBe(before.values.get(tag));
    if (!UNRENDERABLE.has(name)) {
      const [a, b] = [await renderDicomForModel(original), await renderDicomForModel(bytes)];
      expect([b.width, b.height, b.channels]).toEqual([a.width, a.height, a.channels]);
      expect(Buffer.compare(Buffer.from(b.pixels), Buffer.from(a.pixels)), `${name} pixels`).toBe(0);
    }
  });

  it('is stable for one salt and unlinkable across salts', () => {
    const a = deidentifyDicomFile(read('ct_explicit_le.dcm'), deid, limits);
    const b = deidentifyDicomFile(read('ct_implicit_le.dcm'), deid, limits);
    expect(a.patientKey).toBe(pseudonym(deid.salt, 'MRN-123456', 'SPRINGFIELD-GH'));
    expect(b.patientKey).toBe(a.patientKey);
    expect(deidentifyDicomFile(read('ct_explicit_le.dcm'), deid, limits).bytes.equals(a.bytes)).toBe(true);
    expect(deidentifyDicomFile(read('ct_explicit_le.dcm'), { ...deid, salt: 'another-salt-987654321' }, limits).patientKey).not.toBe(a.patientKey);
  });

  it('rewrites a file made here with the issue identifiers, nested sequences kept and cleaned', () => {
    const item = (tag: [number, number], vr: string, value: string) => ({ tag, vr, value });
    const dicom = writeDicom([
      item([0x0008, 0x0016], 'UI', '1.2.840.10008.5.1.4.1.1.7'),
      item([0x0008, 0x0018], 'UI', '1.2.3.4.5.6.7'),
      item([0x0008, 0x0090], 'PN', 'Who^Referred'),
      item([0x0009, 0x0010], 'LO', 'ACME'),
      item([0x0009, 0x1001], 'LO', 'MRN-998877'),
      item([0x0010, 0x0010], 'PN', 'Doe^Jane'),
      item([0x0010, 0x0020], 'LO', 'MRN-998877'),
    ]);
    const { bytes, patientKey } = deidentifyDicomFile(dicom, deid, limits);
    for (const id of ['Doe^Jane', 'MRN-998877', 'Who^Referred', 'ACME', '1.2.3.4.5.6.7']) expect(bytes.includes(Buffer.from(id)), id).toBe(false);
    expect(patientKey).toBe(pseudonym(deid.salt, 'MRN-998877'));
    const ds = readDicomFile(bytes, limits).dataSet;
    expect(text(ds, 'x00100010')).toBe(patientKey);
    expect(ds.elements.x00090010).toBeUndefined();
  });
});

describe('image payloads of messages', () => {
  const payloadDeid = { ...deid, maxInflatedBytes: limits.maxInflatedBytes };

  it('de-identifies image_base64 at the top level and inside the seed envelope, and nothing else', () => {
    const b64 = read('cr_chest_mono1.dcm').toString('base64');
    const m = { study_id: 'S-1', image_base64: `data:application/dicom;base64,${b64}` };
    const out = deidentifyImagePayload(m, payloadDeid) as typeof m;
    expect(out.study_id).toBe('S-1');
    expect(out.image_base64.startsWith('data:application/dicom;base64,')).toBe(true);
    const clean = Buffer.from(out.image_base64.split(',')[1]!, 'base64');
    expect(clean.includes(Buffer.from('Doe^Jane'))).toBe(false);
    expect(m.image_base64).toContain(b64); // the caller's object is not changed
    const wrapped = deidentifyImagePayload({ patient_id: 'anon-1', data: { image_base64: b64 } }, payloadDeid) as { data: { image_base64: string } };
    expect(Buffer.from(wrapped.data.image_base64, 'base64').includes(Buffer.from('Doe^Jane'))).toBe(false);
    const plain = { event_type: 'lab', value: 3 };
    expect(deidentifyImagePayload(plain, payloadDeid)).toBe(plain);
    expect(deidentifyImagePayload({ image_base64: 'bm90IGFuIGltYWdl' }, payloadDeid)).toEqual({ image_base64: 'bm90IGFuIGltYWdl' });
  });

  it('refuses a DICOM file it cannot parse instead of keeping it as it is', () => {
    const broken = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0xff, 0x7f, 0x31])]);
    expect(() => deidentifyImagePayload({ image_base64: broken.toString('base64') }, payloadDeid)).toThrow(/looks like DICOM but could not be de-identified/);
  });

  it('drops PNG text chunks and JPEG EXIF / comments, keeping the pixels', async () => {
    const raw = Buffer.alloc(8 * 8 * 3, 77);
    const png = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toBuffer();
    const data = Buffer.from('Author\0Doe^Jane MRN-998877', 'latin1');
    const chunk = Buffer.alloc(12 + data.length);
    chunk.writeUInt32BE(data.length, 0);
    chunk.write('tEXt', 4, 'latin1');
    data.copy(chunk, 8);
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
    const withText = Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]); // after IHDR
    expect(withText.includes(Buffer.from('Doe^Jane'))).toBe(true);
    const cleanPng = stripPngText(withText);
    expect(cleanPng.includes(Buffer.from('Doe^Jane'))).toBe(false);
    expect(await sharp(cleanPng).raw().toBuffer()).toEqual(await sharp(withText).raw().toBuffer());

    const jpeg = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
      .jpeg()
      .withExif({ IFD0: { Artist: 'Doe^Jane', ImageDescription: 'MRN-998877' } })
      .toBuffer();
    expect(jpeg.includes(Buffer.from('Doe^Jane'))).toBe(true);
    const cleanJpeg = stripJpegMetadata(jpeg);
    expect(cleanJpeg.includes(Buffer.from('Doe^Jane'))).toBe(false);
    expect(cleanJpeg.includes(Buffer.from('MRN-998877'))).toBe(false);
    expect(await sharp(cleanJpeg).raw().toBuffer()).toEqual(await sharp(jpeg).raw().toBuffer());
  });
});
