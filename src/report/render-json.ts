import type { RunResult } from '../runner/types.js';
import { summarizeCases, totals } from './summarize.js';
import { diagnoseRun } from './diagnose-run.js';

/** Machine-readable results: per-case summary plus every delivery with request and response. */
export function renderJson(run: RunResult, meta: { config: string; collection: string }): string {
  const cases = summarizeCases(run.deliveries, run.retries);
  return JSON.stringify(
    {
      tool: 'wxpay-notify',
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
    },
    null,
    2,
  ) + '\n';
}
