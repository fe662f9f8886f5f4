/**
 * The files of MLflow runs (the artifact proxy's `mlflow-artifacts:/<experiment>/<run>/artifacts/…`)
 * kept in the content-addressed artifact store: the bytes once per sha256, and a path → sha256 index
 * in `mlflow_artifacts`. A path from the network is only ever a database key, never a file path.
 */
import { nowIso } from '../../ids.js';
import type { ArtifactStore } from '../../registry/index.js';
import type { Database } from '../../store/index.js';
import { doesNotExist, invalidParameter } from './mlflow-errors.js';

export interface ArtifactFileInfo {
  /** relative to the listed directory */
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** Normalises an artifact path; refuses `..`, absolute paths, backslashes and control characters. */
export function artifactPath(raw: string): string {
  const path = raw.replace(/^\/+|\/+$/g, '');
  if (/[\u0000-\u001f\\]/.test(path)) throw invalidParameter(`Invalid artifact path "${raw}": control characters and backslashes are not allowed`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw invalidParameter(`Invalid artifact path "${raw}": ".." is not allowed`);
  return parts.join('/');
}

export class RunArtifacts {
  constructor(
    private readonly database: Database,
    private readonly store: Pick<ArtifactStore, 'put' | 'get'>,
  ) {}

  private get db() {
    return this.database.db;
  }

  async put(rawPath: string, bytes: Uint8Array): Promise<{ path: string; sha256: string; size: number }> {
    const path = artifactPath(rawPath);
    if (!path) throw invalidParameter('an artifact upload needs a file path');
    const stored = await this.store.put(bytes);
    const row = { path, sha256: stored.sha256, size_bytes: stored.size, created_at: nowIso() };
    await this.db
      .insertInto('mlflow_artifacts')
      .values(row)
      .onConflict((oc) => oc.column('path').doUpdateSet({ sha256: row.sha256, size_bytes: row.size_bytes, created_at: row.created_at }))
      .execute();
    return { path, sha256: stored.sha256, size: stored.size };
  }

  async stat(rawPath: string): Promise<{ sha256: string; size: number } | undefined> {
    const row = await this.db.selectFrom('mlflow_artifacts').select(['sha256', 'size_bytes']).where('path', '=', artifactPath(rawPath)).executeTakeFirst();
    return row ? { sha256: row.sha256, size: Number(row.size_bytes) } : undefined;
  }

  async get(rawPath: string): Promise<Uint8Array> {
    const path = artifactPath(rawPath);
    const row = await this.stat(path);
    if (!row) throw doesNotExist(`Artifact ${path} not found`);
    return this.store.get(row.sha256);
  }

  /** Every file under a directory, with paths relative to it. */
  async walk(rawDir: string): Promise<Array<{ path: string; size: number }>> {
    const dir = artifactPath(rawDir);
    const prefix = dir ? `${dir}/` : '';
    // a range on the primary key (not LIKE: "%" and "_" may be in names, and it uses the index)
    let q = this.db.selectFrom('mlflow_artifacts').select(['path', 'size_bytes']);
    if (prefix) q = q.where('path', '>=', prefix).where('path', '<', `${dir}0`); // "0" follows "/"
    const rows = await q.orderBy('path').execute();
    return rows.map((r) => ({ path: r.path.slice(prefix.length), size: Number(r.size_bytes) }));
  }

  /** The immediate children of a directory (MLflow's list-artifacts); empty for a file or nothing. */
  async list(rawDir: string): Promise<ArtifactFileInfo[]> {
    const out = new Map<string, ArtifactFileInfo>();
    for (const f of await this.walk(rawDir)) {
      const slash = f.path.indexOf('/');
      if (slash < 0) out.set(f.path, { path: f.path, is_dir: false, file_size: f.size });
      else {
        const name = f.path.slice(0, slash);
        if (!out.has(name)) out.set(name, { path: name, is_dir: true });
      }
    }
    return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async remove(rawPath: string): Promise<void> {
    const path = artifactPath(rawPath);
    await this.db
      .deleteFrom('mlflow_artifacts')
      .where((eb) => eb.or([eb('path', '=', path), eb.and([eb('path', '>=', `${path}/`), eb('path', '<', `${path}0`)])]))
      .execute();
  }
}
