import type { RetryTimeline } from './retry-schedule.js';
import type { Cause } from '../judge/causes.js';
import type { Diagnostic, Severity } from '../cases/types.js';

export type Verdict = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  name: string;
  pass: boolean;
  message: string;
}

/**
 * One delivery of one case in one iteration, as the run saw it. It carries the facts of its case
 * that later stages need (title to diagnostic), so no report looks a case up in the catalogue.
 */
export interface DeliveryResult {
  caseId: string;
  title: string;
  severity: Severity;
  expect: 'ack' | 'reject';
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  /** The collection folder the case is in: the HTML report groups by it. */
  folder: string;
  /** Reject cases: the genuine case whose acknowledgement makes this case's rejection mean something. */
  control?: string;
  /** What the case's outcome tells the run diagnosis (see CaseDefinition). */
  diagnostic?: Diagnostic;
  /** 1-based copy number for cases that deliver several copies. */
  copy: number;
  copies: number;
  /** 1-based iteration (data row). */
  iteration: number;
  verdict: Verdict;
  status?: number;
  timeMs?: number;
  cause: Cause;
  hint: string;
  checks: CheckResult[];
  /**
   * Copies fired at the same instant from inside this request's scripts (concurrent redelivery):
   * each is a delivery the receiver saw, judged like the request itself.
   */
  concurrentCopies?: { copy: number; pass: boolean }[];
  /** What went wrong before an answer came back (transport error or the signer's reason). */
  error?: string;
  request?: { url: string; headers: Record<string, string>; body: string };
  /** `truncatedAtBytes`: the answer was longer; only its first bytes were kept (see answer-bounds.ts). */
  response?: { headers: Record<string, string>; body: string; truncatedAtBytes?: number };
}

export interface RunResult {
  deliveries: DeliveryResult[];
  /** `run --retry-schedule`: failed deliveries replayed on WeChat's schedule. */
  retries?: RetryTimeline[];
  startedAt: string;
  durationMs: number;
  aborted: boolean;
}
