/**
 * De-identifies a whole DICOM file, not only the values Vitals reports: the same PS3.15 actions as
 * dicom-deid.ts (same salt, so the same pseudonym, UIDs and date offsets), written back into a
 * file that any DICOM reader opens and whose pixels are untouched. Used where image bytes are
 * kept (a bus payload in the outbox or the embedded bus).
 *
 * Elements are re-encoded one by one in the file's own transfer syntax: unchanged ones are copied
 * byte for byte (pixel data included, encapsulated or not), changed ones get a new header, and
 * every sequence that is kept is written with undefined lengths, so no length above it has to be
 * recomputed. Group lengths inside the data set (retired) are dropped; the meta group's is recomputed.
 */
import { deflateRawSync } from 'node:zlib';
import type { DataSet, Element } from 'dicom-parser';
import { VitalsError } from '../errors.js';
import { type DeidOptions, actionFor, patientContext, remapUid, shiftDa } from './dicom-deid.js';
import { DEFLATED_LE, type DicomReadLimits, IMPLICIT_LE, readDicomFile } from './dicom-file.js';
import { T } from './dicom-tags.js';
import { text, vrOf } from './dicom-values.js';

export interface DeidentifiedFile {
  bytes: Buffer;
  /** the salted pseudonym of Patient ID (+ Issuer), or null without one */
  patientKey: string | null;
}

/** VRs whose explicit header has a 4-byte length (as dicom-parser reads them). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);
/** Tags that no longer belong in the meta group once the file is de-identified (who sent it, private information). */
const DROPPED_META = new Set(['x00020016', 'x00020017', 'x00020018', 'x00020100', 'x00020102']);
const TEXT_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
const UNDEFINED = 0xffffffff;

interface Syntax {
  explicit: boolean;
  little: boolean;
}

const tagNumbers = (tag: string) => [Number.parseInt(tag.slice(1, 5), 16), Number.parseInt(tag.slice(5), 16)] as const;

function header(tag: string, vr: string | undefined, length: number, s: Syntax): Buffer {
  const [group, element] = tagNumbers(tag);
  const long = !s.explicit || LONG_VRS.has(vr ?? 'UN');
  const h = Buffer.alloc(s.explicit && long ? 12 : 8);
  const u16 = (v: number, at: number) => (s.little ? h.writeUInt16LE(v, at) : h.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (s.little ? h.writeUInt32LE(v, at) : h.writeUInt32BE(v, at));
  u16(group, 0);
  u16(element, 2);
  if (!s.explicit) u32(length, 4);
  else {
    h.write((vr ?? 'UN').slice(0, 2), 4, 'latin1');
    if (long) u32(length, 8);
    else u16(length, 6);
  }
  return h;
}

/** Item and delimitation tags (FFFE,xxxx) have no VR in any syntax. */
function itemTag(element: number, length: number, s: Syntax): Buffer {
  const h = Buffer.alloc(8);
  if (s.little) {
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(element, 2);
    h.writeUInt32LE(length, 4);
  } else {
    h.writeUInt16BE(0xfffe, 0);
    h.writeUInt16BE(element, 2);
    h.writeUInt32BE(length, 4);
  }
  return h;
}

function valueElement(tag: string, vr: string | undefined, value: string, s: Syntax): Buffer {
  let body = Buffer.from(value, 'latin1');
  if (body.length % 2) body = Buffer.concat([body, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
  return Buffer.concat([header(tag, vr, body.length, s), body]);
}

/** The element exactly as it is in the file: its header (as dicom-parser read it) and its value. */
function rawElement(ds: DataSet, el: Element, s: Syntax): Buffer {
  const headerLength = s.explicit && LONG_VRS.has(el.vr ?? '') ? 12 : 8;
  return Buffer.from(ds.byteArray.subarray(el.dataOffset - headerLength, el.dataOffset + el.length));
}

/** A stand-in for a value the profile replaces with a dummy (D), valid for its VR. */
function dummyFor(vr: string | undefined): string | undefined {
  if (vr === 'DS' || vr === 'IS') return '0';
  if (vr === 'TM') return '000000';
  if (vr === 'DA') return '19000101';
  if (vr === 'DT') return '19000101000000';
  if (vr && TEXT_VRS.has(vr)) return 'ANONYMIZED';
  return undefined; // binary VRs: emptied
}

/**
 * De-identification Method is LO (64 characters at most): the CID 7050 codes of what was applied
 * (113100 Basic Profile, 113107 modified dates, 113108 patient characteristics).
 */
const methodText = (opts: DeidOptions) => `Vitals PS3.15 E.1: ${opts.dates === 'shift' ? '113100 113107 113108' : '113100 113108'}`;

/** Age Strings are nnnD/W/M/Y: the band's lower bound in years keeps the attribute valid. */
const ageValue = (band: string | null) => (band ? `${String(Number.parseInt(band, 10)).padStart(3, '0')}Y` : undefined);

interface Context {
  opts: DeidOptions;
  patientKey: string | null;
  days: number;
  band: string | null;
  syntax: Syntax;
  /** where the data set starts (after the meta group): nothing before it belongs to the data set */
  datasetStart: number;
}

function encodeSet(set: DataSet, c: Context, top: boolean): Array<{ order: number; bytes: Buffer }> {
  const out: Array<{ order: number; bytes: Buffer }> = [];
  const elements = Object.values(set.elements).filter((el) => !el.tag.startsWith('x0002') || !top);
  for (const el of elements) {
    const tag = el.tag;
    if (tag.startsWith('xfffe')) continue; // item delimiters
    if (top && el.dataOffset < c.datasetStart) continue; // read from the preamble by a deflated parse
    const [group, element] = tagNumbers(tag);
    if (element === 0x0000) continue; // group lengths would be wrong after the rewrite
    if (top && (tag === T.PatientIdentityRemoved || tag === T.DeidentificationMethod)) continue; // written below
    // A sequence stored as UN in an explicit file was read as implicit VR: it cannot be copied back faithfully.
    if (el.items && el.vr === 'UN') continue;
    const order = group * 0x10000 + element;
    const vr = vrOf(el);
    const { action } = actionFor(tag, el, set, c.opts);
    const put = (bytes: Buffer) => out.push({ order, bytes });
    const value = () => (el.length > 0 ? text(set, tag) : undefined);
    switch (action) {
      case 'removed':
        break;
      case 'kept':
        if (el.items) put(sequence(tag, el, c));
        else put(rawElement(set, el, c.syntax));
        break;
      case 'emptied':
        put(header(tag, vr, 0, c.syntax));
        break;
      case 'uid_remapped': {
        const v = value();
        put(
          v
            ? valueElement(
                tag,
                vr ?? 'UI',
                v
                  .split('\\')
                  .map((u) => remapUid(c.opts.salt, u.trim()))
                  .join('\\'),
                c.syntax,
              )
            : header(tag, vr, 0, c.syntax),
        );
        break;
      }
      case 'date_shifted': {
        const shifted = value()
          ?.split('\\')
          .map((d) => shiftDa(d.trim(), c.days));
        put(shifted?.every((d) => d !== undefined) ? valueElement(tag, vr, shifted.join('\\'), c.syntax) : header(tag, vr, 0, c.syntax));
        break;
      }
      case 'replaced': {
        let v: string | undefined;
        if (tag === T.PatientID) v = c.patientKey ?? undefined;
        else if (tag === T.PatientName) v = c.patientKey ?? 'ANONYMIZED';
        else if (tag === T.PatientAge) v = ageValue(c.band);
        else v = dummyFor(vr);
        put(v === undefined ? header(tag, vr, 0, c.syntax) : valueElement(tag, vr, v, c.syntax));
        break;
      }
    }
  }
  if (top) {
    const [g, e] = tagNumbers(T.PatientIdentityRemoved);
    out.push({ order: g * 0x10000 + e, bytes: valueElement(T.PatientIdentityRemoved, 'CS', 'YES', c.syntax) });
    const [g2, e2] = tagNumbers(T.DeidentificationMethod);
    out.push({ order: g2 * 0x10000 + e2, bytes: valueElement(T.DeidentificationMethod, 'LO', methodText(c.opts), c.syntax) });
  }
  return out.sort((a, b) => a.order - b.order);
}

/** A kept sequence: each item de-identified by the same rules, written with undefined lengths. */
function sequence(tag: string, el: Element, c: Context): Buffer {
  const parts: Buffer[] = [header(tag, 'SQ', UNDEFINED, c.syntax)];
  for (const item of el.items ?? []) {
    parts.push(itemTag(0xe000, UNDEFINED, c.syntax));
    if (item.dataSet) for (const x of encodeSet(item.dataSet, c, false)) parts.push(x.bytes);
    parts.push(itemTag(0xe00d, 0, c.syntax));
  }
  parts.push(itemTag(0xe0dd, 0, c.syntax));
  return Buffer.concat(parts);
}

/** The file meta group (always explicit VR little endian), with the remapped instance UID and a new group length. */
function metaGroup(ds: DataSet, c: Context): Buffer {
  const le: Syntax = { explicit: true, little: true };
  const parts: Buffer[] = [];
  const meta = Object.values(ds.elements)
    .filter((el) => el.tag.startsWith('x0002') && el.tag !== 'x00020000' && !DROPPED_META.has(el.tag))
    .sort((a, b) => (a.tag < b.tag ? -1 : 1));
  for (const el of meta) {
    const v = el.tag === T.MediaStorageSOPInstanceUID ? text(ds, el.tag) : undefined;
    parts.push(v ? valueElement(el.tag, 'UI', remapUid(c.opts.salt, v), le) : rawElement(ds, el, le));
  }
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([header('x00020000', 'UL', 4, le), length, body]);
}

/**
 * Returns the de-identified file. Refuses (400) what it cannot parse: bytes that are not stored
 * must never be stored identified because a parser gave up.
 */
export function deidentifyDicomFile(input: Uint8Array, opts: DeidOptions, limits: DicomReadLimits): DeidentifiedFile {
  const file = readDicomFile(input, limits);
  const ds = file.dataSet;
  const syntax: Syntax = { explicit: file.transferSyntaxUid !== IMPLICIT_LE, little: file.littleEndian };
  const { patientKey, days, band } = patientContext(ds, opts);
  const meta = Object.values(ds.elements).filter((el) => el.tag.startsWith('x0002'));
  const datasetStart = file.encoding === 'dataset-only' ? 0 : Math.max(132, ...meta.map((el) => el.dataOffset + el.length));
  const c: Context = { opts, patientKey, days, band, syntax, datasetStart };
  let dataset: Buffer;
  try {
    dataset = Buffer.concat(encodeSet(ds, c, true).map((x) => x.bytes));
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not de-identify the DICOM file (${(err as Error).message})`);
  }
  if (file.encoding === 'dataset-only') return { bytes: dataset, patientKey };
  const body = file.transferSyntaxUid === DEFLATED_LE ? deflateRawSync(dataset) : dataset;
  return { bytes: Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), metaGroup(ds, c), body]), patientKey };
}
