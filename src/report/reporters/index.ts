import type { ReporterName } from '../reporter-names.js';
import type { Reporter } from '../reporter.js';
import { htmlReporter } from './html.js';
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { tableReporter } from './table.js';

/** What `run --format` can print on stdout. */
export const STDOUT_REPORTERS: Record<'table' | 'json', Reporter> = { table: tableReporter, json: jsonReporter };

/** What `run --reporters` can write into --reporter-dir. */
export const FILE_REPORTERS: Record<ReporterName, Reporter & { file: string }> = {
  junit: junitReporter,
  json: jsonReporter,
  html: htmlReporter,
};
