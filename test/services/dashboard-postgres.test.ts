import { dashboardSuite } from '../helpers/dashboard-suite.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

dashboardSuite('PostgreSQL', { DATABASE_URL: url });
