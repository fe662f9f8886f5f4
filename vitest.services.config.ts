import { defineConfig } from 'vitest/config';

// Integration tests against real services (PostgreSQL) started by
// scripts/test-services.sh, which exports DATABASE_URL_TEST.
// Run with: npm run test:services
export default defineConfig({
  test: {
    include: ['test/services/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files share one database: run them one at a time.
    fileParallelism: false,
  },
});
