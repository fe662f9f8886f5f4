/**
 * Reads the image size a JPEG, JPEG-LS or JPEG 2000 codestream declares, before any decoder
 * allocates for it: a frame that claims other dimensions than the DICOM header is refused, so a
 * crafted codestream cannot make a codec allocate gigabytes.
 */
export interface CodestreamSize {
  width: number;
  height: number;
  components: number;
  precision: number;
}

/** JPEG (SOF0..SOF15) and JPEG-LS (SOF55) share the frame header layout. */
export function jpegFrameSize(bytes: Uint8Array): CodestreamSize | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const isSof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (isSof) {
      if (i + 10 > bytes.length) return undefined;
      return {
        precision: bytes[i + 4]!,
        height: (bytes[i + 5]! << 8) | bytes[i + 6]!,
        width: (bytes[i + 7]! << 8) | bytes[i + 8]!,
        components: bytes[i + 9]!,
      };
    }
    if (marker === 0xda || length < 2) return undefined; // start of scan before a frame header
    i += 2 + length;
  }
  return undefined;
}

/** JPEG 2000: the SIZ marker segment after SOC (a JP2 wrapper is skipped to its codestream box). */
export function j2kSize(bytes: Uint8Array): CodestreamSize | undefined {
  const start = j2kCodestreamOffset(bytes);
  if (start === undefined) return undefined;
  const b = bytes.subarray(start);
  if (b.length < 42 || b[2] !== 0xff || b[3] !== 0x51) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const xsiz = dv.getUint32(8);
  const ysiz = dv.getUint32(12);
  const xo = dv.getUint32(16);
  const yo = dv.getUint32(20);
  const components = dv.getUint16(40);
  const precision = b.length > 42 ? (b[42]! & 0x7f) + 1 : 0;
  return { width: xsiz - xo, height: ysiz - yo, components, precision };
}

/** Offset of the raw codestream (FF4F) inside the bytes: 0, or inside a JP2 'jp2c' box. */
export function j2kCodestreamOffset(bytes: Uint8Array): number | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0x4f) return 0;
  let i = 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (i + 8 <= bytes.length) {
    let size = dv.getUint32(i);
    const type = String.fromCharCode(bytes[i + 4]!, bytes[i + 5]!, bytes[i + 6]!, bytes[i + 7]!);
    let header = 8;
    if (size === 1 && i + 16 <= bytes.length) {
      size = Number(dv.getBigUint64(i + 8));
      header = 16;
    }
    if (type === 'jp2c') return i + header;
    if (size === 0 || size < header) return undefined;
    i += size;
  }
  return undefined;
}

/**
 * A three-component JPEG whose DICOM Photometric Interpretation is RGB holds RGB, not YCbCr. With
 * neither a JFIF nor an Adobe marker nor component ids R, G, B, libjpeg guesses YCbCr and would
 * convert; an Adobe APP14 marker with transform 0 (RGB) after SOI tells it not to.
 */
export function markJpegAsRgb(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return bytes;
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const id = String.fromCharCode(...bytes.subarray(i + 4, i + 9));
    // libjpeg reads an Adobe marker only when it is whole (length 14 or more); a shorter one is as good as none
    if ((marker === 0xe0 && id.startsWith('JFIF')) || (marker === 0xee && id === 'Adobe' && length >= 14)) return bytes;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const ids = [bytes[i + 10], bytes[i + 13], bytes[i + 16]];
      if (ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42) return bytes; // 'R' 'G' 'B'
      break;
    }
    if (marker === 0xda || length < 2) break;
    i += 2 + length;
  }
  const app14 = [0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00];
  const out = new Uint8Array(bytes.length + app14.length);
  out.set(bytes.subarray(0, 2));
  out.set(app14, 2);
  out.set(bytes.subarray(2), 2 + app14.length);
  return out;
}
