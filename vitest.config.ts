import { defineConfig } from 'vitest/config';

/**
 * This machine's Debian mirror is a frozen snapshot: its sid Release file is past its Valid-Until, so apt and
 * mmdebstrap are told not to check that date here (a quirk of this machine, not of users' mirrors).
 */
const machine = { SWARMUP_APT_NO_VALID_UNTIL: '1' };

/** The end-to-end files that build and operate clusters: run on the oldest and on the newest engine. */
const onBothEngines = [
  'test/e2e/docker-provider.test.ts',
  'test/e2e/lifecycle.test.ts',
  'test/e2e/smoke.test.ts',
  'test/e2e/tokens-lock.test.ts',
  'test/e2e/backup-health.test.ts',
  'test/e2e/durable-reboot.test.ts',
  'test/e2e/durable-nodes.test.ts',
];

const e2e = {
  // Real engines in node containers, three files at a time: on 2 cores the
  // suite waits far more than it computes (raft timeouts, elections, installs from the mirror: a run two files at a
  // time used 10 min of CPU in 28 min on 2 cores). Every file uses names of its own (a run id) and an emulator of its
  // own, so files never touch each other's clusters. Generous timeouts.
  maxWorkers: 3,
  sequence: { groupOrder: 1 },
  testTimeout: 300_000,
  hookTimeout: 600_000,
  // No shared emulator: the two e2e files that use moto (and reset it) start one of their own.
  globalSetup: ['test/support/build-setup.ts', 'test/support/global-setup.ts'],
};

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
        // Every end-to-end file on Debian 12's Docker 20.10, the oldest engine swarmup supports.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          env: { ...machine, SWARMUP_ENGINE_SUITE: 'bookworm' },
          ...e2e,
        },
      },
      {
        // The files that operate clusters again on sid's Docker 28.5 (containerd 2.1), the newest reachable here.
        // After the e2e project, two files at a time: nodes of the newest engine (dockerd 28.5 and containerd 2.1
        // each) are heavier, and three such files at once with others running made engine starts miss their 60 s.
        test: {
          name: 'e2e-newest',
          include: onBothEngines,
          env: { ...machine, SWARMUP_ENGINE_SUITE: 'sid' },
          ...e2e,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
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
