/**
 * `wxpay-notify/runner`: the whole suite against running notify URLs, as `wxpay-notify run` does it
 * (Newman as a library), returning the JSON results format. Newman and postman-collection are
 * loaded on the first call, not on import.
 */
import type { Severity } from '../cases/types.js';
import { loadConfig } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/types.js';
import { resultsDocument, type ResultsDocument } from '../report/render-json.js';
import { resolveConfig, type NotifyConfig } from './library-config.js';

export interface RunSuiteOptions {
  /** Case ids or globs, e.g. `['v3.*', 'v2.refund']` (as `run --only`). */
  only?: string[];
  /** Leave out cases below this severity (as `run --min-severity`). */
  minSeverity?: Severity;
  /** Accept self-signed TLS certificates (test servers only). */
  insecure?: boolean;
  /** A CSV or JSON file of order rows: one notification per row (as `run --data`). */
  data?: string;
  /** Replay failed deliveries on WeChat's retry schedule, this many times faster than real time (as `run --retry-schedule --retry-speedup`). */
  retrySpeedup?: number;
  /**
   * Stops the run: nothing more is sent, and runSuite resolves with the results so far (`aborted`
   * true). runSuite never listens for Ctrl-C itself, nor ends the process: that is the caller's.
   */
  signal?: AbortSignal;
}

/** The JSON results format: the document `wxpay-notify run --format json` prints (secrets masked). */
export type SuiteResults = ResultsDocument;

/**
 * Sends every case the config can send to its notify URLs and judges every answer. `config` is a
 * config file path, a config object (see NotifyConfig) or the result of loadConfig(). Resolves with
 * the results whether cases passed or not: check `results.totals.failed`. The run is the CLI's,
 * in this process: the results are the judgement every report of `run` renders, as its JSON
 * report publishes it.
 */
export async function runSuite(
  config: string | NotifyConfig | ResolvedConfig,
  options: RunSuiteOptions = {},
): Promise<SuiteResults> {
  const resolved = typeof config === 'string' ? await loadConfig(config) : resolveConfig(config);
  const label = typeof config === 'string' ? config : resolved.name;
  const { prepareRun } = await import('../commands/prepare-run.js');
  const { run, addedControls } = prepareRun(
    resolved,
    {
      insecure: options.insecure ?? false,
      only: options.only,
      minSeverity: options.minSeverity,
      data: options.data,
      retrySpeedup: options.retrySpeedup,
    },
    options.signal,
  );
  const judgement = await run.start();
  return resultsDocument(judgement, { config: label, collection: resolved.name, addedControls });
}
