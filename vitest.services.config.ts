import { defineConfig } from 'vitest/config';

// Integration tests against real services (PostgreSQL) started by
// scripts/test-services.sh, which exports DATABASE_URL_TEST.
// Run with: npm run test:services
export default defineConfig({
  test: {
    include: ['test/services/**/*.test.ts'],
    // generous: the CLI tests spawn real processes, and a loaded 2-core CI machine is slow to start them
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Test files share one database: run them one at a time.
    fileParallelism: false,
  },
});
