import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    // The validation suite of @langchain/langgraph-checkpoint-validation uses
    // vitest's globals (describe, it, expect).
    globals: true,
    testTimeout: 30000,
    hookTimeout: 30000,
    // koffi loads libmaif.so into the worker: forks keep each file's
    // native state in its own process.
    pool: 'forks',
  },
});
