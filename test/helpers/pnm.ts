/** Reads binary PGM (P5) / PPM (P6) files as written by dcmtk's dcm2pnm. */
export interface Pnm {
  width: number;
  height: number;
  channels: 1 | 3;
  maxval: number;
  data: Uint8Array;
}

export function readPnm(bytes: Uint8Array): Pnm {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  const m = /^(P5|P6)\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s+(\d+)\s/.exec(text);
  if (!m) throw new Error('not a binary PGM/PPM');
  const header = m[0].length;
  const [width, height, maxval] = [Number(m[2]), Number(m[3]), Number(m[4])];
  const channels = m[1] === 'P6' ? 3 : 1;
  return { width, height, channels, maxval, data: bytes.subarray(header, header + width * height * channels) };
}
