import { randomFillSync } from 'node:crypto';

// Randomness drawn 4 KiB at a time: one syscall per ~400 ids instead of two per id (hot path).
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function randomChunk(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/**
 * UUIDv7 (RFC 9562): 48-bit Unix-ms timestamp then randomness, so ids sort by creation time
 * (prediction logs and events are read in id order). Monotonic within one process.
 */
let lastMs = 0;
let seq = 0;
export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    seq = randomChunk(2).readUInt16BE(0) & 0x7ff;
  }
  const b = Buffer.from(randomChunk(16));
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const nowIso = () => new Date().toISOString();

/** The smallest UUIDv7 of a millisecond: every id made at or after `ms` sorts at or after it (a range bound on id indexes). */
export function uuidv7Floor(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-000000000000`;
}
