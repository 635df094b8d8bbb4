import type { RunResult } from '../runner/types.js';
import { summarizeCases, totals } from './summarize.js';
import { diagnoseRun } from './diagnose-run.js';

/** Machine-readable results: per-case summary plus every delivery with request and response. */
export function resultsDocument(run: RunResult, meta: { config: string; collection: string }) {
  const cases = summarizeCases(run.deliveries, run.retries);
  return {
    tool: 'wxpay-notify' as const,
    config: meta.config,
    collection: meta.collection,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    aborted: run.aborted,
    totals: totals(cases),
    diagnoses: diagnoseRun(cases),
    cases,
    deliveries: run.deliveries,
    retries: run.retries ?? [],
  };
}

/** The JSON results format (`run --format json`, `--reporters json`, the runner library's results). */
export type ResultsDocument = ReturnType<typeof resultsDocument>;

export function renderJson(run: RunResult, meta: { config: string; collection: string }): string {
  return JSON.stringify(resultsDocument(run, meta), null, 2) + '\n';
}
