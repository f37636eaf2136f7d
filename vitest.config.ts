import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        // Some unit tests run the command line: the build setup compiles dist/ first (see there).
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          globalSetup: ['test/support/build-setup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Real engines in node containers: files run one after another (2 cores), each with generous timeouts.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          globalSetup: [
            'test/support/build-setup.ts',
            'test/support/global-setup.ts',
            'test/support/moto-setup.ts',
          ],
        },
      },
      {
        test: {
          name: 'ec2',
          include: ['test/ec2/**/*.test.ts'],
          // One emulator for the project: files run one after another and reset it.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ['test/support/build-setup.ts', 'test/support/moto-setup.ts'],
        },
      },
    ],
  },
});
