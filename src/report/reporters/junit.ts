import { renderJunit } from '../render-junit.js';
import type { Reporter } from '../reporter.js';

/** JUnit XML for CI: one test case per notification case. */
export const junitReporter = {
  file: 'junit.xml',
  listen(run, { meta, write }) {
    run.on('done', (result) => write(renderJunit(result, meta.collection)));
  },
} satisfies Reporter;
