import { renderJson } from '../render-json.js';
import type { Reporter } from '../reporter.js';

/** The JSON results (`run --format json`, `--reporters json`, the runner library's results). */
export const jsonReporter = {
  file: 'results.json',
  listen(run, { meta, write }) {
    run.on('done', (result) => write(renderJson(result, meta)));
  },
} satisfies Reporter;
