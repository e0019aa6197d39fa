import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/suite-tmpdir.ts'],
    // Integration tests start real named/sshd/TAYGA in network namespaces; they are slow to start
    // and must not run in parallel against shared host resources (ports, namespaces).
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
