import type { Cause } from './causes.js';
import { SEVERITIES, type Diagnostic, type Severity } from '../cases/types.js';
import type { DeliveryResult } from './types.js';
import type { RetryTimeline } from './types.js';

/**
 * A case's verdict. `inconclusive`: a reject case whose genuine control was not acknowledged, so its
 * rejection proves nothing (a handler that rejects everything would get it too).
 */
export type CaseVerdict = 'pass' | 'fail' | 'skipped' | 'inconclusive';

/** One line of the report: a case, over all its copies and data rows. */
export interface CaseSummary {
  caseId: string;
  title: string;
  severity: Severity;
  expect: 'ack' | 'reject';
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  folder: string;
  diagnostic?: Diagnostic;
  verdict: CaseVerdict;
  /** Every request the receiver got for this case, concurrent copies included. */
  deliveries: number;
  /** Of those, how many were answered as the case expects (acknowledged, or rejected). */
  passed: number;
  statuses: number[];
  maxTimeMs?: number;
  cause: Cause | 'inconclusive';
  hint: string;
  error?: string;
  /** Reject cases: the genuine control and how it fared in this run. */
  control?: { caseId: string; verdict: CaseVerdict };
  /** With --retry-schedule: the attempt that was finally acknowledged (WeChat would stop there). */
  acknowledgedOnAttempt?: number;
}

/**
 * One summary per case. A case whose failed delivery was acknowledged on a WeChat-schedule retry
 * counts as passed: WeChat would have delivered it, later (the timeline says when). A reject case
 * is then weighed against its control.
 */
export function summarizeCases(
  deliveries: readonly DeliveryResult[],
  retries: readonly RetryTimeline[] = [],
): CaseSummary[] {
  const cases = summarizeFirstAttempts(deliveries).map((c) => {
    const timeline = retries.find((t) => t.caseId === c.caseId);
    if (!timeline?.acknowledged || c.deliveries !== 1) return c;
    return {
      ...c,
      verdict: 'pass' as const,
      passed: 1,
      cause: 'ok' as const,
      hint: '',
      acknowledgedOnAttempt: timeline.attempts.length,
    };
  });
  return cases.map((c) => weighAgainstControl(c, cases, deliveries));
}

/** How a delivery of this case is described: "acknowledged" for genuine ones, "rejected" for forgeries. */
export function answeredAsExpected(expect: 'ack' | 'reject'): string {
  return expect === 'ack' ? 'acknowledged' : 'rejected';
}

function weighAgainstControl(
  c: CaseSummary,
  cases: readonly CaseSummary[],
  deliveries: readonly DeliveryResult[],
): CaseSummary {
  const controlId = deliveries.find((d) => d.caseId === c.caseId)?.control;
  const control = controlId ? cases.find((x) => x.caseId === controlId) : undefined;
  if (!control) return c;
  const withControl = { ...c, control: { caseId: control.caseId, verdict: control.verdict } };
  if (c.expect === 'ack')
    return failsLikeControl(c, control)
      ? { ...withControl, hint: `(same failure as ${control.caseId}) ${control.hint}` }
      : withControl;
  // Acknowledging a forgery is a fault whatever happened to the genuine notification. A control
  // acknowledged late was still acknowledged: lateness fails the clock check, not the forgery's proof.
  if (control.verdict === 'pass' || control.cause === 'slow' || c.cause === 'acked-forged') return withControl;
  return {
    ...withControl,
    verdict: 'inconclusive',
    cause: 'inconclusive',
    hint: `could not judge: the genuine notification ${signedWith(control, deliveries)} ${control.verdict === 'skipped' ? 'was not sent either' : 'was rejected too'}; fix that first, then this case means something.`,
  };
}

/**
 * A variation (non-ASCII, other layout, redelivery, …) that fails with the same cause and status as
 * its plain case has not shown anything about the variation: the plain case's hint is the one to fix.
 */
function failsLikeControl(c: CaseSummary, control: CaseSummary): boolean {
  return (
    c.verdict === 'fail' &&
    control.verdict === 'fail' &&
    c.cause === control.cause &&
    c.statuses.join() === control.statuses.join() &&
    c.hint !== control.hint
  );
}

/** "(v3.pay.success, signed with PUB_KEY_ID_…)": what a person needs to find the control's failure. */
function signedWith(control: CaseSummary, deliveries: readonly DeliveryResult[]): string {
  const sent = deliveries.find((d) => d.caseId === control.caseId && d.request);
  const serial = Object.entries(sent?.request?.headers ?? {}).find(
    ([k]) => k.toLowerCase() === 'wechatpay-serial',
  )?.[1];
  if (serial) return `signed with ${serial} (${control.caseId})`;
  return control.version === 'v2'
    ? `signed with the same APIv2 key (APIv2密钥) (${control.caseId})`
    : `(${control.caseId})`;
}

/** The request's own answer was right (a concurrent case can fail on a copy alone). */
function requestItselfPassed(d: DeliveryResult): boolean {
  if (d.verdict === 'pass') return true;
  if (d.verdict !== 'fail' || !d.concurrentCopies?.length || d.error) return false;
  const own = d.checks.filter((c) => !/^concurrent copy \d+: /.test(c.name));
  return own.length > 0 && own.every((c) => c.pass);
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
    // A concurrent case is one request that fires its copies from its scripts: count each copy.
    const copies = list.flatMap((d) => d.concurrentCopies ?? []);
    const passedRequests = list.filter(requestItselfPassed);
    return {
      caseId: first.caseId,
      title: first.title,
      severity: first.severity,
      expect: first.expect,
      version: first.version,
      kind: first.kind,
      folder: first.folder,
      ...(first.diagnostic ? { diagnostic: first.diagnostic } : {}),
      verdict: failed ? 'fail' : skipped ? 'skipped' : 'pass',
      deliveries: list.length + copies.length,
      passed: passedRequests.length + copies.filter((c) => c.pass).length,
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
  /** Failed at or above the --fail-on severity (skipped and inconclusive are counted apart): these fail the run. */
  failed: number;
  skipped: number;
  inconclusive: number;
  /** Failed below the --fail-on severity: reported, not failing the run (inconclusive ones are not findings). */
  advisory: number;
  /** Inconclusive or skipped below the --fail-on severity: nothing found, nothing proved, not failing the run. */
  advisoryNotJudged: number;
}

/** The lowest severity whose failures fail the run; `--strict` lowers it to advisory. */
export const DEFAULT_FAIL_ON: Severity = 'protocol';

export function failsRun(c: CaseSummary, failOn: Severity = DEFAULT_FAIL_ON): boolean {
  return c.verdict !== 'pass' && SEVERITIES.indexOf(c.severity) >= SEVERITIES.indexOf(failOn);
}

/**
 * Skipped and inconclusive cases count as failed for the exit code (nothing proved them), except
 * findings below the --fail-on severity, which are counted apart as advisory.
 */
export function totals(cases: readonly CaseSummary[], failOn: Severity = DEFAULT_FAIL_ON): RunTotals {
  const blocking = cases.filter((c) => failsRun(c, failOn));
  return {
    passed: cases.filter((c) => c.verdict === 'pass').length,
    failed: blocking.filter((c) => c.verdict === 'fail').length,
    skipped: blocking.filter((c) => c.verdict === 'skipped').length,
    inconclusive: blocking.filter((c) => c.verdict === 'inconclusive').length,
    // Only failures are findings: an inconclusive or skipped case below --fail-on found nothing.
    advisory: cases.filter((c) => c.verdict === 'fail' && !failsRun(c, failOn)).length,
    advisoryNotJudged: cases.filter(
      (c) => (c.verdict === 'inconclusive' || c.verdict === 'skipped') && !failsRun(c, failOn),
    ).length,
  };
}
