import { openDatabase } from '../../src/store/index.js';
import { registryContract } from '../helpers/registry-contract.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

registryContract('PostgreSQL', () => openDatabase(url, '/tmp/unused'));
