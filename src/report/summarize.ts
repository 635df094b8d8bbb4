import type { Cause } from '../cases/hints.js';
import type { Severity } from '../cases/types.js';
import type { DeliveryResult } from '../runner/types.js';
import type { RetryTimeline } from '../runner/retry-schedule.js';

/** One line of the report: a case, over all its copies and data rows. */
export interface CaseSummary {
  caseId: string;
  title: string;
  severity: Severity;
  expect: 'ack' | 'reject';
  verdict: 'pass' | 'fail' | 'skipped';
  deliveries: number;
  passed: number;
  statuses: number[];
  maxTimeMs?: number;
  cause: Cause;
  hint: string;
  error?: string;
  /** With --retry-schedule: the attempt that was finally acknowledged (WeChat would stop there). */
  acknowledgedOnAttempt?: number;
}

/**
 * One summary per case. A case whose failed delivery was acknowledged on a WeChat-schedule retry
 * counts as passed: WeChat would have delivered it, later (the timeline says when).
 */
export function summarizeCases(deliveries: readonly DeliveryResult[], retries: readonly RetryTimeline[] = []): CaseSummary[] {
  return summarizeFirstAttempts(deliveries).map((c) => {
    const timeline = retries.find((t) => t.caseId === c.caseId);
    if (!timeline?.acknowledged || c.deliveries !== 1) return c;
    return { ...c, verdict: 'pass', passed: 1, acknowledgedOnAttempt: timeline.attempts.length };
  });
}

function summarizeFirstAttempts(deliveries: readonly DeliveryResult[]): CaseSummary[] {
  const byCase = new Map<string, DeliveryResult[]>();
  for (const d of deliveries) byCase.set(d.caseId, [...(byCase.get(d.caseId) ?? []), d]);
  return [...byCase.values()].map((list) => {
    const first = list[0]!;
    const failed = list.find((d) => d.verdict === 'fail');
    const skipped = list.find((d) => d.verdict === 'skipped');
    const worst = failed ?? skipped;
    const times = list.map((d) => d.timeMs).filter((t): t is number => t !== undefined);
    return {
      caseId: first.caseId,
      title: first.title,
      severity: first.severity,
      expect: first.expect,
      verdict: failed ? 'fail' : skipped ? 'skipped' : 'pass',
      deliveries: list.length,
      passed: list.filter((d) => d.verdict === 'pass').length,
      statuses: [...new Set(list.map((d) => d.status).filter((s): s is number => s !== undefined))],
      maxTimeMs: times.length ? Math.max(...times) : undefined,
      cause: worst?.cause ?? 'ok',
      hint: worst?.hint ?? '',
      error: worst?.error,
    };
  });
}

export interface RunTotals {
  passed: number;
  failed: number;
  skipped: number;
}

/** Skipped cases count as failed for the exit code: nothing proved they work. */
export function totals(cases: readonly CaseSummary[]): RunTotals {
  return {
    passed: cases.filter((c) => c.verdict === 'pass').length,
    failed: cases.filter((c) => c.verdict === 'fail').length,
    skipped: cases.filter((c) => c.verdict === 'skipped').length,
  };
}
