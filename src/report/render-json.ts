import type { RunResult } from '../runner/types.js';
import type { Severity } from '../cases/types.js';
import { DEFAULT_FAIL_ON, summarizeCases, totals } from '../judge/case-verdicts.js';
import { diagnoseRun } from '../judge/diagnose-run.js';

export interface JsonReportMeta {
  config: string;
  collection: string;
  /** The lowest severity whose failures fail the run (--fail-on / --strict). */
  failOn?: Severity;
  /** Controls the case filter left out and the run added back (see selectCasesWithControls). */
  addedControls?: readonly { id: string; for: string[] }[];
}

/**
 * The results format is a public contract (README, Versioning): facts a result carries for the
 * other reports (its folder, what it tells the diagnosis) become fields of it only by decision.
 */
function published<T extends { folder: string; diagnostic?: unknown }>(item: T): Omit<T, 'folder' | 'diagnostic'> {
  const { folder: _folder, diagnostic: _diagnostic, ...rest } = item;
  return rest;
}

/** Machine-readable results: per-case summary plus every delivery with request and response. */
export function resultsDocument(run: RunResult, meta: JsonReportMeta) {
  const cases = summarizeCases(run.deliveries, run.retries);
  const failOn = meta.failOn ?? DEFAULT_FAIL_ON;
  return {
    tool: 'wxpay-notify' as const,
    config: meta.config,
    collection: meta.collection,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    aborted: run.aborted,
    failOn,
    totals: totals(cases, failOn),
    addedControls: meta.addedControls ?? [],
    diagnoses: diagnoseRun(cases, run.deliveries),
    cases: cases.map(published),
    deliveries: run.deliveries.map(published),
    retries: run.retries ?? [],
  };
}

/** The JSON results format (`run --format json`, `--reporters json`, the runner library's results). */
export type ResultsDocument = ReturnType<typeof resultsDocument>;

export function renderJson(run: RunResult, meta: JsonReportMeta): string {
  return JSON.stringify(resultsDocument(run, meta), null, 2) + '\n';
}
