import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start brokers and pty pairs; two workers match the 2-core CI machine.
    maxWorkers: 2,
    // CI machines set CI=1, which turns picocolors on; tests read plain text.
    env: { NO_COLOR: '1' },
  },
});
