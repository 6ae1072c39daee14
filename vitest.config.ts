import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Three projects: fast unit/golden tests in parallel, then the lab's
// end-to-end tests one file at a time (they share the lab's hosts), then
// the same steps on real Debian 12 VMs (test/vm; slow: qemu under emulation).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // vitest 4.1 runs availableParallelism() - 1 files at once (resolveMaxWorkers in its cli-api chunk; its docs say
          // all of them): one on a 2-core machine, where the unit project then kept one core busy on average (360 CPU-s in
          // 364 s, /usr/bin/time, 2026-12-07): many tests wait on the processes they start (the CLI, sshd, real programs)
          maxWorkers: Math.max(2, availableParallelism() - 1),
          // some unit tests spawn the CLI, ssh-keygen or sshd: on a loaded 2-core machine 5 s is not enough
          testTimeout: 30_000,
          include: ['test/**/*.test.ts'],
          exclude: ['test/lab/**', 'test/e2e/**', 'test/vm/**', 'node_modules/**',
            // .ci/node-matrix on Node 22/24/26: the real-program oracles and the rpm bundle test run on the machine's node only (see there)
            ...(process.env.KBOOTSTRAP_MATRIX_SKIP_ORACLES === '1' ? ['test/oracles/**', 'test/bundle-rpm.test.ts'] : [])],
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          // beforeAll builds the images when their recipe changed (Debian 12 and 13: about 2-4 minutes each) and boots the VMs
          hookTimeout: 1_500_000,
        },
      },
    ],
  },
});
