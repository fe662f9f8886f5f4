/**
 * JPEG Huffman tables (ITU-T T.81 Annex C, F.2.2.3) with a lookahead table, shared by the DCT and
 * the lossless decoders. A decoder keeps its bit buffer in local variables: it peeks LOOKAHEAD bits,
 * and one table read gives the code's length and value for every code of up to LOOKAHEAD bits (nearly
 * all of them); longer codes take the canonical maxcode/valptr walk.
 */
export const LOOKAHEAD = 9;

export interface Huffman {
  /** by the next LOOKAHEAD bits: length << 8 | value for a code of up to LOOKAHEAD bits, 0 for a longer code */
  fast: Uint16Array;
  /** maxcode[l]: the largest code of length l (-1 if none), maxcode[17] a sentinel; valptr/mincode as in T.81 F.2.2.3 */
  maxcode: Int32Array;
  mincode: Int32Array;
  valptr: Int32Array;
  values: Uint8Array;
}

export function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    valptr[l] = k;
    mincode[l] = code;
    code += counts[l - 1]!;
    k += counts[l - 1]!;
    maxcode[l] = counts[l - 1] ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  const fast = new Uint16Array(1 << LOOKAHEAD);
  for (let l = 1, k = 0, c = 0; l <= LOOKAHEAD; l++, c <<= 1)
    for (let i = 0; i < counts[l - 1]!; i++, k++, c++) {
      const lo = c << (LOOKAHEAD - l);
      fast.fill((l << 8) | (values[k] ?? 0), lo, lo + (1 << (LOOKAHEAD - l)));
    }
  return { fast, maxcode, mincode, valptr, values };
}

/**
 * The slow path for a code longer than LOOKAHEAD bits: `bits` holds the next 16 bits of the stream
 * (most significant first). Returns length << 8 | value, or -1 when no code of up to 16 bits matches.
 */
export function decodeLong(t: Huffman, bits16: number): number {
  for (let l = LOOKAHEAD + 1; l <= 16; l++) {
    const code = bits16 >>> (16 - l);
    if (code <= t.maxcode[l]!) return (l << 8) | (t.values[t.valptr[l]! + code - t.mincode[l]!] ?? 0);
  }
  return -1;
}

/** Reads DHT segment bytes [p, end) into the DC/AC (class 0/1) table slots. */
export function readHuffmanTables(b: Uint8Array, p: number, end: number, dc: Huffman[], ac: Huffman[]): void {
  while (p + 17 <= end) {
    const counts = b.subarray(p + 1, p + 17);
    let n = 0;
    for (let i = 0; i < 16; i++) n += counts[i]!;
    const table = buildHuffman(counts, b.slice(p + 17, p + 17 + n));
    if (b[p]! >> 4) ac[b[p]! & 15] = table;
    else dc[b[p]! & 15] = table;
    p += 17 + n;
  }
}
