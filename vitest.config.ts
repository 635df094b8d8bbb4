import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects, one run: `npm test` runs both; `npx vitest run --project unit` runs the fast ones
 * alone. Unit tests stay in-process: no child process, browser, Newman run or wait of seconds on a
 * timer. The two slow files beside them (write-pair races child processes; render-html runs Newman
 * and Chromium) belong to the other project. A new test file is an integration test until listed here.
 */
const UNIT = ['test/unit/!(write-pair).test.ts', 'test/vectors/*.test.ts', 'test/report/!(render-html).test.ts', 'test/sandbox/@(crypto-parity|builders-parity|mask).test.ts'];

export default defineConfig({
  test: {
    projects: [
      // In-process, with generous time bounds only: files share a worker (none changes global state)
      // and two run at once. They run first, on their own, so the integration tests' timing
      // (deadlines, the 5 s acknowledgement clock) keeps one worker at a time as before.
      { extends: true, test: { name: 'unit', include: UNIT, isolate: false, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts', 'examples/**/*.test.ts'], exclude: [...configDefaults.exclude, ...UNIT], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
