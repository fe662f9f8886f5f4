/**
 * A minimal explicit-VR little-endian DICOM writer for tests that need a file no fixture holds
 * (the bytes are generated here, in the test, from the listed elements).
 */
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

export interface DicomElement {
  tag: [number, number];
  vr: string;
  value: string | number | Uint8Array;
}

function encode(e: DicomElement): Buffer {
  let body: Buffer;
  if (e.value instanceof Uint8Array) body = Buffer.from(e.value);
  else if (typeof e.value === 'number') {
    body = Buffer.alloc(e.vr === 'UL' ? 4 : 2);
    if (e.vr === 'UL') body.writeUInt32LE(e.value);
    else body.writeUInt16LE(e.value);
  } else {
    body = Buffer.from(e.value, 'latin1');
    if (body.length % 2) body = Buffer.concat([body, Buffer.from(e.vr === 'UI' ? [0] : [0x20])]);
  }
  if (body.length % 2) body = Buffer.concat([body, Buffer.from([0])]);
  const long = LONG_VRS.has(e.vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(e.tag[0], 0);
  head.writeUInt16LE(e.tag[1], 2);
  head.write(e.vr, 4, 'latin1');
  if (long) head.writeUInt32LE(body.length, 8);
  else head.writeUInt16LE(body.length, 6);
  return Buffer.concat([head, body]);
}

/** The value of an SQ element: items of explicit-length elements (in tag order). */
export function sequence(items: DicomElement[][]): Uint8Array {
  return Buffer.concat(
    items.map((els) => {
      const body = Buffer.concat([...els].sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]).map(encode));
      const head = Buffer.alloc(8);
      head.writeUInt16LE(0xfffe, 0);
      head.writeUInt16LE(0xe000, 2);
      head.writeUInt32LE(body.length, 4);
      return Buffer.concat([head, body]);
    }),
  );
}

/** A Part 10 file: preamble, meta group (explicit VR little endian) and the data set elements in tag order. */
export function writeDicom(elements: DicomElement[], transferSyntax = '1.2.840.10008.1.2.1'): Buffer {
  const meta = [
    encode({ tag: [0x0002, 0x0002], vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' }),
    encode({ tag: [0x0002, 0x0003], vr: 'UI', value: '1.2.3.4.5.6.7' }),
    encode({ tag: [0x0002, 0x0010], vr: 'UI', value: transferSyntax }),
  ];
  const metaBody = Buffer.concat(meta);
  const groupLength = encode({ tag: [0x0002, 0x0000], vr: 'UL', value: metaBody.length });
  const sorted = [...elements].sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, metaBody, ...sorted.map(encode)]);
}

/** Encapsulated Pixel Data (undefined length, empty offset table, one fragment per frame): append after writeDicom's output. */
export function encapsulatedPixelData(frames: Uint8Array[]): Buffer {
  const item = (data: Uint8Array) => {
    const padded = data.length % 2 ? Buffer.concat([Buffer.from(data), Buffer.from([0])]) : Buffer.from(data);
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(padded.length, 4);
    return Buffer.concat([head, padded]);
  };
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([head, item(new Uint8Array(0)), ...frames.map(item), end]);
}
