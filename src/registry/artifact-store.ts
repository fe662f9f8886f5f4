/**
 * Content-addressed artifact files: `<root>/sha256/ab/abcdef….onnx`. The same bytes are stored once;
 * every read re-hashes the file so a corrupted or swapped artifact is never served.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VitalsError } from '../errors.js';
import { uuidv7 } from '../ids.js';

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface StoredArtifact {
  sha256: string;
  size: number;
  path: string;
  /** false when these bytes were already stored */
  created: boolean;
}

export class ArtifactStore {
  constructor(readonly root: string) {}

  pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), `${sha256}.onnx`);
  }

  async put(bytes: Uint8Array): Promise<StoredArtifact> {
    const sha256 = sha256Hex(bytes);
    const path = this.pathOf(sha256);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.size === bytes.byteLength) return { sha256, size: bytes.byteLength, path, created: false };
    await mkdir(join(this.root, 'sha256', sha256.slice(0, 2)), { recursive: true });
    const tmp = `${path}.${uuidv7()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path); // atomic: readers never see a half-written artifact
    return { sha256, size: bytes.byteLength, path, created: true };
  }

  /** Reads and verifies an artifact; throws INTEGRITY_ERROR if the bytes do not match their address. */
  async get(sha256: string): Promise<Uint8Array> {
    const path = this.pathOf(sha256);
    const bytes = await readFile(path).catch(() => {
      throw new VitalsError('INTEGRITY_ERROR', `artifact ${sha256} is missing from ${path}`);
    });
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new VitalsError('INTEGRITY_ERROR', `artifact ${sha256} failed its integrity check (file hashes to ${actual})`);
    }
    return bytes;
  }
}
