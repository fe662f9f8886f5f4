import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/index.js';
import { registryContract } from './helpers/registry-contract.js';

registryContract('SQLite', () => {
  const home = mkdtempSync(join(tmpdir(), 'vitals-db-'));
  return openDatabase(undefined, home);
});
