import type { Severity } from '../cases/types.js';
import type { DeliveryResult, RunResult } from '../runner/types.js';
import type { RetryTimeline } from '../runner/retry-schedule.js';
import { DEFAULT_FAIL_ON, summarizeCases, totals, type CaseSummary, type RunTotals } from './case-verdicts.js';
import { diagnoseRun, type Diagnosis } from './diagnose-run.js';

/**
 * Everything decided about one run, once: each delivery (judged as it came back), each case's
 * verdict, the run-level notes and the totals the exit code is taken from. Every report renders
 * this one object, and the library returns it; none of them decides anything again.
 */
export interface RunJudgement {
  deliveries: DeliveryResult[];
  /** One verdict per case, in the order the cases ran; reject cases weighed against their controls. */
  cases: CaseSummary[];
  /** Notes about the run as a whole, each naming the cases it explains. */
  diagnoses: Diagnosis[];
  /** Counted against `failOn`: `failed + skipped + inconclusive > 0` fails the run. */
  totals: RunTotals;
  /** The lowest severity whose failures fail the run (--fail-on / --strict). */
  failOn: Severity;
  /** `run --retry-schedule`: failed deliveries replayed on WeChat's schedule. */
  retries?: RetryTimeline[];
  startedAt: string;
  durationMs: number;
  /** Stopped before the end (Ctrl-C, or the run's time limit): the verdicts cover what was judged. */
  aborted: boolean;
}

/** Judges a finished (or stopped) run: case verdicts, then the run's notes, then the totals. */
export function judgeRun(run: RunResult, options: { failOn?: Severity } = {}): RunJudgement {
  const failOn = options.failOn ?? DEFAULT_FAIL_ON;
  const cases = summarizeCases(run.deliveries, run.retries);
  return {
    deliveries: run.deliveries,
    cases,
    diagnoses: diagnoseRun(cases, run.deliveries),
    totals: totals(cases, failOn),
    failOn,
    ...(run.retries ? { retries: run.retries } : {}),
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    aborted: run.aborted,
  };
}

/** Whether the run fails (exit 1): a case failed the run, or the run was cut short. */
export function runFailed(judgement: Pick<RunJudgement, 'totals' | 'aborted'>): boolean {
  const t = judgement.totals;
  return t.failed + t.skipped + t.inconclusive > 0 || judgement.aborted;
}
