/**
 * Reads the container of a DICOM object: Part 10 files (with or without the 128-byte preamble),
 * bare data sets without file meta information (transfer syntax guessed from the first element),
 * explicit/implicit VR, little/big endian and deflated. Parsing itself is dicom-parser's; what is
 * ours is the detection, the bounded inflation and turning its thrown strings into typed errors.
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { VitalsError } from '../errors.js';
import { T, TRANSFER_SYNTAXES, VR } from './dicom-tags.js';

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';

export type DicomEncoding = 'part10' | 'part10-without-preamble' | 'dataset-only';

export interface DicomFile {
  dataSet: DataSet;
  transferSyntaxUid: string;
  transferSyntaxName: string;
  encoding: DicomEncoding;
  littleEndian: boolean;
  /** what was read differently from what the file declares */
  warnings?: string[];
}

export interface DicomReadLimits {
  /** cap on the inflated size of a deflated data set (zip bombs) */
  maxInflatedBytes: number;
}

const VALID_VRS = new Set('AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));

function ascii(bytes: Uint8Array, at: number, n: number): string {
  return at + n <= bytes.length ? String.fromCharCode(...bytes.subarray(at, at + n)) : '';
}

/** A bare data set starts with a low even group (0008 is usual); the bytes after the tag tell the syntax. */
function guessDatasetSyntax(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const groupLE = bytes[0]! | (bytes[1]! << 8);
  const groupBE = (bytes[0]! << 8) | bytes[1]!;
  const vr = ascii(bytes, 4, 2);
  const plausible = (g: number) => g >= 0x0002 && g <= 0x0028 && g % 2 === 0;
  if (plausible(groupLE) && VALID_VRS.has(vr)) return EXPLICIT_LE;
  if (plausible(groupBE) && VALID_VRS.has(vr)) return EXPLICIT_BE;
  if (plausible(groupLE)) {
    // implicit VR: a 32-bit length that fits in the file
    const len = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! * 0x1000000);
    if (len === 0xffffffff || len <= bytes.length - 8) return IMPLICIT_LE;
  }
  return undefined;
}

/** Which DICOM container the bytes are, if any (cheap: looks at a few bytes). */
export function detectDicom(bytes: Uint8Array): DicomEncoding | undefined {
  if (ascii(bytes, 128, 4) === 'DICM') return 'part10';
  if (ascii(bytes, 0, 4) === 'DICM') return 'part10-without-preamble';
  return guessDatasetSyntax(bytes) ? 'dataset-only' : undefined;
}

/**
 * Some writers put an explicit little-endian transfer syntax in the meta header and then write the
 * data set in implicit VR. The first element tells: a VR after its tag, or a 32-bit length.
 */
function saysExplicitButIsImplicit(meta: DataSet, bytes: Uint8Array): boolean {
  const ts = (meta.string(T.TransferSyntaxUID) ?? '').replace(/\0/g, '').trim();
  if (ts === IMPLICIT_LE || ts === DEFLATED_LE || ts === EXPLICIT_BE) return false;
  const at = (meta as DataSet & { position?: number }).position;
  if (at === undefined || at + 8 > bytes.length) return false;
  return !VALID_VRS.has(ascii(bytes, at + 4, 2)) && guessDatasetSyntax(bytes.subarray(at)) === IMPLICIT_LE;
}

function parseImplicitBody(meta: DataSet, bytes: Uint8Array, options: dicomParser.ParseDicomOptions): DataSet {
  const stream = new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, bytes, (meta as DataSet & { position: number }).position);
  // DataSet is a class at run time; the typings only declare its interface
  const DataSetClass = (dicomParser as unknown as { DataSet: new (parser: unknown, bytes: Uint8Array, elements: object) => DataSet }).DataSet;
  const dataSet = new DataSetClass(stream.byteArrayParser, bytes, {});
  dicomParser.parseDicomDataSetImplicit(dataSet, stream, bytes.length, { vrCallback: options.vrCallback } as { untilTag: string; vrCallback?: dicomParser.vrCallback });
  Object.assign(dataSet.elements, meta.elements);
  // dicom-parser's implicit reader does not split encapsulated pixel data into fragments: do it here
  const pixels = dataSet.elements[T.PixelData];
  if (pixels?.hadUndefinedLength && !pixels.fragments) {
    dicomParser.findEndOfEncapsulatedElement(new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, bytes, pixels.dataOffset), pixels, []);
  }
  return dataSet;
}

function message(err: unknown): string {
  const text = typeof err === 'string' ? err : err instanceof Error ? err.message : String((err as { exception?: unknown })?.exception ?? err);
  return text.replace(/^dicomParser\.\w+:\s*/, '');
}

export function readDicomFile(input: Uint8Array, limits: DicomReadLimits): DicomFile {
  const encoding = detectDicom(input);
  if (!encoding) throw new VitalsError('INVALID_IMAGE', 'not a DICOM file: no "DICM" marker and no data set at the start of the file');
  let bytes = input;
  if (encoding === 'part10-without-preamble') {
    bytes = new Uint8Array(input.length + 128);
    bytes.set(input, 128);
  }
  let inflatedTooLarge = false;
  const options: dicomParser.ParseDicomOptions = {
    vrCallback: (tag: string) => VR[tag],
    // Deflated data sets: inflate ourselves so that the output is capped (a tiny file can inflate to gigabytes).
    inflater: ((arr: Uint8Array, position: number) => {
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: limits.maxInflatedBytes });
      } catch (err) {
        if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') inflatedTooLarge = true;
        throw err;
      }
      const full = new Uint8Array(position + inflated.length);
      full.set(arr.subarray(0, position));
      full.set(inflated, position);
      return full;
    }) as unknown as dicomParser.ParseDicomOptions['inflater'],
  };
  if (encoding === 'dataset-only') options.TransferSyntaxUID = guessDatasetSyntax(bytes);
  let dataSet: DataSet;
  let implicitBody = false;
  try {
    const meta = encoding === 'dataset-only' ? undefined : dicomParser.readPart10Header(bytes);
    implicitBody = !!meta && saysExplicitButIsImplicit(meta, bytes);
    dataSet = meta && implicitBody ? parseImplicitBody(meta, bytes, options) : dicomParser.parseDicom(bytes, options);
  } catch (err) {
    if (inflatedTooLarge) {
      throw new VitalsError('PAYLOAD_TOO_LARGE', `the deflated DICOM data set inflates to more than ${Math.round(limits.maxInflatedBytes / 1024 ** 2)} MB`);
    }
    throw new VitalsError('INVALID_IMAGE', `could not parse the DICOM file (${message(err)}); is it truncated or corrupted?`);
  }
  const transferSyntaxUid = (options.TransferSyntaxUID ?? dataSet.string(T.TransferSyntaxUID) ?? IMPLICIT_LE).replace(/\0/g, '').trim();
  return {
    dataSet,
    ...(implicitBody ? { warnings: ['the file meta says explicit VR but the data set is implicit VR; read as implicit VR (as pydicom and dcmtk do)'] } : {}),
    transferSyntaxUid,
    transferSyntaxName: TRANSFER_SYNTAXES[transferSyntaxUid] ?? 'unknown',
    encoding,
    littleEndian: transferSyntaxUid !== EXPLICIT_BE,
  };
}
