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

/**
 * A fused lookup for differences (DC coefficients, lossless samples): for every next `bits` bits
 * that start with a code and its extra bits (the category's s bits, T.81 F.1.2.1 and H.1.2.2) within
 * those bits, diff << 5 | bits used; 0 where the pair is longer (the slow path). Category 16
 * (lossless only) is 32768 with no extra bits.
 */
export function fusedDiffTable(t: Huffman, bits: number): Int32Array {
  const fused = new Int32Array(1 << bits);
  for (let l = 1; l <= bits; l++) {
    if (t.maxcode[l]! < 0) continue;
    for (let code = t.mincode[l]!; code <= t.maxcode[l]!; code++) {
      const cat = t.values[t.valptr[l]! + code - t.mincode[l]!] ?? 0;
      const extra = cat === 16 ? 0 : cat;
      if (cat > 16 || l + extra > bits) continue;
      const free = bits - l - extra;
      for (let v = 0; v < 1 << extra; v++) {
        const diff = cat === 0 ? 0 : cat === 16 ? 32768 : v < 1 << (cat - 1) ? v - (1 << cat) + 1 : v;
        const at = ((code << extra) | v) << free;
        fused.fill((diff << 5) | (l + extra), at, at + (1 << free));
      }
    }
  }
  return fused;
}

/**
 * A fused lookup for AC coefficients (T.81 F.2.2.2): for every next `bits` bits that start with a
 * code (RRRRSSSS: run, size) and its SSSS extra bits within those bits, value << 9 | run << 5 | bits
 * used, the value already extended; value 0 marks EOB and ZRL (size 0). 0 where the pair is longer.
 */
export function fusedAcTable(t: Huffman, bits: number): Int32Array {
  const fused = new Int32Array(1 << bits);
  for (let l = 1; l <= bits; l++) {
    if (t.maxcode[l]! < 0) continue;
    for (let code = t.mincode[l]!; code <= t.maxcode[l]!; code++) {
      const rs = t.values[t.valptr[l]! + code - t.mincode[l]!] ?? 0;
      const s = rs & 15;
      if (l + s > bits) continue;
      const free = bits - l - s;
      for (let v = 0; v < 1 << s; v++) {
        const value = s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
        const at = ((code << s) | v) << free;
        fused.fill((value << 9) | ((rs >> 4) << 5) | (l + s), at, at + (1 << free));
      }
    }
  }
  return fused;
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
