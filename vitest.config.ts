import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects, one run: `npm test` runs both; `npx vitest run --project unit` runs the fast ones
 * alone. Unit tests run in-process: no child process, socket, Newman run, browser or wait on a
 * timer. The files beside them that need one of those belong to the integration project:
 * write-pair (races child processes), init (git and sh), init-permissions (the CLI as another
 * user), receiver (the reference receiver over HTTP), bounded-agents (HTTP agents against a local
 * server), echoed-secrets (Newman against an echoing receiver), render-html (Newman and Chromium).
 * A new test file is an integration test until it matches UNIT.
 */
const UNIT = [
  'test/unit/!(write-pair|init|init-permissions|receiver|bounded-agents).test.ts',
  'test/vectors/*.test.ts',
  'test/report/!(render-html|echoed-secrets).test.ts',
  'test/sandbox/@(crypto-parity|builders-parity|mask).test.ts',
];

/** Test files at once (all projects share one pool). */
const WORKERS = Number(process.env.WXPAY_TEST_WORKERS ?? 3);

/** Files that replace a module with vi.mock: each needs its own module graph. */
export const MOCKING = ['test/receiver/serve-hardening.test.ts'];

export default defineConfig({
  test: {
    // Builds dist/ first when it is older than src/: the CLI tests run dist/cli.js.
    globalSetup: ['test/support/build-dist.ts'],
    // Hang guards, not speed limits: on a loaded machine (two suites at once on 2 cores) a test that
    // signs a few hundred messages takes many times its quiet duration. A test that asserts a
    // duration asserts the tool's own deadline with margin, in the test itself.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // `npm test -- --coverage` (CI does): V8 coverage of the code the tests run in-process (the CLI in
    // child processes runs dist/ and is not counted). The thresholds only go up: they sit one point
    // under the full suite's figures in CI (80.1 / 72.5 / 83.9 / 82.5 on 2026-12-07), since seeded
    // samples vary a little from run to run; raise them whenever CI's figures rise, never lower them.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'src/**/*.js'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: { statements: 79, branches: 71, functions: 82, lines: 81 },
    },
    projects: [
      // Unit files first, on their own; then integration files three at once: on a 2-core machine much
      // of their time is waiting (deadlines, child processes, slow receivers). Measured on this project's
      // 2-core machine: 2 at once 238 s, 3 at once 194 s, 4 at once 205 s (more CPU contention than
      // waiting to overlap); unit and integration in one group 203 s. Time bounds in tests are the tool's
      // own deadlines plus slack (test/support/deadlines.ts), so they hold at any of these.
      {
        extends: true,
        // In-process, with generous time bounds only: files share a worker (none changes global state).
        test: { name: 'unit', include: UNIT, isolate: false, maxWorkers: WORKERS, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          maxWorkers: WORKERS,
          // Files share a worker's module cache (newman, postman-runtime and the test keys load once per
          // worker, not once per file: about a quarter of the suite's CPU). A file that replaces a module
          // (vi.mock) needs a fresh module graph: it goes in MOCKING and runs isolated.
          isolate: false,
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT, ...MOCKING],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: { name: 'isolated', include: MOCKING, isolate: true, maxWorkers: WORKERS, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
