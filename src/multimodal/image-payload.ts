/**
 * De-identification of the images a message carries, before the message is stored anywhere (the
 * outbox, the embedded bus, a broker): a DICOM file is rewritten by dicom-deid-file.ts (names,
 * IDs, dates, UIDs, private tags; the pseudonym is the HMAC of Patient ID under the salt), and PNG
 * and JPEG files lose their text and EXIF metadata (pixels untouched). Other fields of the message
 * are the producer's: `patient_id` is documented as a pseudonymous reference.
 */
import { VitalsError } from '../errors.js';
import { deidentifyDicomFile } from './dicom-deid-file.js';
import type { DeidOptions } from './dicom-deid.js';
import { detectDicom } from './dicom-file.js';

export interface PayloadDeidOptions extends DeidOptions {
  /** cap on a deflated data set's inflated size (MAX_DECODED_IMAGE_MB) */
  maxInflatedBytes: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Returns the message with every `image_base64` (top level, or inside the seed's `data` envelope)
 * de-identified; the same object when there is none. Throws (422) for a DICOM file it cannot
 * rewrite, so that such a file is refused rather than stored with the patient's name in it.
 */
export function deidentifyImagePayload(message: unknown, opts: PayloadDeidOptions): unknown {
  if (!isObject(message)) return message;
  let out = message;
  if (typeof message.image_base64 === 'string') out = { ...out, image_base64: deidentifyBase64(message.image_base64, opts) };
  if (isObject(message.data) && typeof message.data.image_base64 === 'string') {
    out = { ...out, data: { ...message.data, image_base64: deidentifyBase64(message.data.image_base64, opts) } };
  }
  return out;
}

function deidentifyBase64(value: string, opts: PayloadDeidOptions): string {
  const prefix = /^data:[^;,]*;base64,/.exec(value)?.[0] ?? '';
  const bytes = Buffer.from(value.slice(prefix.length), 'base64');
  let clean: Uint8Array;
  if (detectDicom(bytes)) {
    try {
      clean = deidentifyDicomFile(bytes, opts, { maxInflatedBytes: opts.maxInflatedBytes }).bytes;
    } catch (err) {
      throw new VitalsError('UNPROCESSABLE_IMAGE', `image_base64 looks like DICOM but could not be de-identified (${(err as Error).message}); it was not accepted`, {
        fields: [{ field: 'image_base64', message: 'a DICOM file that cannot be parsed' }],
      });
    }
  } else if (isPng(bytes)) clean = stripPngText(bytes);
  else if (isJpeg(bytes)) clean = stripJpegMetadata(bytes);
  else return value; // not an image we know: the consumer refuses it, nothing to de-identify
  return prefix + Buffer.from(clean.buffer, clean.byteOffset, clean.byteLength).toString('base64');
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const isPng = (b: Buffer) => b.length > 8 && b.subarray(0, 8).equals(PNG_SIGNATURE);
const isJpeg = (b: Buffer) => b.length > 4 && b[0] === 0xff && b[1] === 0xd8;

/** PNG chunks that may carry free text or EXIF (a name, a date of birth): tEXt, zTXt, iTXt, eXIf, tIME. */
const PNG_METADATA = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

export function stripPngText(png: Buffer): Buffer {
  const parts: Buffer[] = [png.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > png.length) break; // truncated: keep the rest as it is (the decoder will say what is wrong)
    if (!PNG_METADATA.has(type)) parts.push(png.subarray(at, end));
    at = end;
  }
  if (at < png.length) parts.push(png.subarray(at));
  return Buffer.concat(parts);
}

/**
 * JPEG segments before the scan: APP1 (EXIF, XMP), APP3–APP13, APP15 and comments are dropped;
 * APP0 (JFIF), APP2 (ICC profile) and APP14 (Adobe colour transform) are kept because decoding needs them.
 */
export function stripJpegMetadata(jpeg: Buffer): Buffer {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // start of scan (entropy-coded data follows) or end of image
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    if (end > jpeg.length) break;
    const app = marker >= 0xe0 && marker <= 0xef;
    const drop = marker === 0xfe || (app && marker !== 0xe0 && marker !== 0xe2 && marker !== 0xee);
    if (!drop) parts.push(jpeg.subarray(at, end));
    at = end;
  }
  parts.push(jpeg.subarray(at));
  return Buffer.concat(parts);
}
