/**
 * Files a request may name. Nothing from the network becomes a path outside DATA_DIR: a path given
 * over HTTP (training data, a model file) must resolve, after symlinks, inside it; anything else is a
 * 403 whose message names neither the file's content nor the server's absolute paths.
 */
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { VitalsError } from '../errors.js';

export class DataDir {
  readonly root: string;
  constructor(
    root: string,
    private readonly cwd: string = process.cwd(),
  ) {
    this.root = resolve(cwd, root);
  }

  /** The real path of `given` inside DATA_DIR; `field` names the request field in errors. */
  async resolve(given: string, field: string): Promise<string> {
    if (given.includes('\0')) throw this.outside(field);
    const candidates = isAbsolute(given) ? [given] : [resolve(this.cwd, given), resolve(this.root, given)];
    const root = await realpath(this.root).catch(() => this.root);
    for (const candidate of candidates) {
      const real = await realpath(candidate).catch(() => undefined);
      if (real === undefined) {
        if (inside(root, resolve(candidate)) || inside(this.root, resolve(candidate))) {
          throw new VitalsError('VALIDATION_FAILED', `${field}: no such file in DATA_DIR: ${relative(this.root, resolve(candidate)) || '.'}`);
        }
        continue;
      }
      if (inside(root, real)) return real;
    }
    throw this.outside(field);
  }

  async read(given: string, field: string): Promise<Buffer> {
    const path = await this.resolve(given, field);
    return readFile(path).catch(() => {
      throw new VitalsError('VALIDATION_FAILED', `${field}: cannot read ${relative(this.root, path)} in DATA_DIR`);
    });
  }

  async readText(given: string, field: string): Promise<string> {
    return (await this.read(given, field)).toString('utf8');
  }

  private outside(field: string): VitalsError {
    return new VitalsError(
      'FORBIDDEN',
      `${field}: only files inside DATA_DIR may be named over the API (a relative path such as breast_cancer/breast_cancer.csv); send the content in the request instead`,
    );
  }
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
