import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/services/**'],
    // generous: the CLI tests spawn real processes, and a loaded 2-core CI machine is slow to start them
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
