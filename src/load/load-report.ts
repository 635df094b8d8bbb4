import { HINTS } from '../judge/causes.js';
import { inert as escapeControl } from '../shared/inert-text.js';
import { ACK_TIME_LIMIT_MS } from '../protocol/constants.js';
import type { AggregateSnapshot, CauseSummary } from './aggregate.js';
import type { Finding } from './reconcile.js';

/** What the user asked for. */
export interface LoadTarget {
  origin: string;
  mix: Record<string, number>;
  rate: number;
  durationS: number;
  rampS: number;
  timeoutMs: number;
  workers: number;
  connections: number;
  duplicates: number;
  concurrent: number;
  retrySpeedup: number | null;
  presign: boolean;
}

export interface Thresholds {
  /** Percent of deliveries acknowledged, at least. */
  minAck: number;
  /** p99 latency in ms, at most. */
  maxP99Ms: number;
}

export interface ThresholdResult {
  name: string;
  limit: string;
  actual: string;
  pass: boolean;
}

export interface ReconciliationSummary {
  lookup: string;
  checked: number;
  recorded: number;
  lost: Finding[];
  duplicated: Finding[];
  wrongAmount: Finding[];
  lookupErrors: Finding[];
}

/** The JSON results of a load run (also what the HTML report and the summary are drawn from). */
export interface LoadReport {
  tool: 'wxpay-notify load';
  startedAt: string;
  durationMs: number;
  interrupted: boolean;
  target: LoadTarget;
  /** Notifications (orders and refunds) sent, and how many of them some delivery got acknowledged. */
  orders: { sent: number; acknowledged: number; notAcknowledged: number };
  deliveries: {
    sent: number;
    acknowledged: number;
    failed: number;
    /** Percent of deliveries acknowledged. */
    ackRate: number;
    duplicates: number;
    concurrent: number;
    retries: number;
    /** The schedule called for them, but every connection was still waiting for an answer. */
    notSent: number;
    /** Deliveries per second actually sent over the sending time. */
    achievedRate: number;
  };
  /** From the intended send time (no coordinated omission); WeChat's limit is 5,000 ms. */
  latencyMs: AggregateSnapshot['latencyMs'];
  /** From the actual send (what the "answered within 5 s" check judges). */
  serviceMs: AggregateSnapshot['serviceMs'];
  /** Building and signing one delivery. */
  generatorMs: AggregateSnapshot['generatorMs'];
  timeouts: number;
  connectionErrors: number;
  failures: (CauseSummary & { hint: string })[];
  perSecond: AggregateSnapshot['perSecond'];
  histogram: AggregateSnapshot['histogram'];
  reconciliation?: ReconciliationSummary;
  thresholds: ThresholdResult[];
  /** pass: every threshold met, nothing lost, duplicated or recorded with a wrong amount. */
  verdict: 'pass' | 'fail';
}

export function buildLoadReport(input: {
  startedAt: number;
  endedAt: number;
  interrupted: boolean;
  target: LoadTarget;
  snapshot: AggregateSnapshot;
  orders: { sent: number; acknowledged: number };
  notSent: number;
  reconciliation?: ReconciliationSummary;
  thresholds: Thresholds;
  /**
   * Names the stack that wrote a refusal (an HTML wall, a crash page), in words for the report:
   * `load` passes src/judge/fingerprints.ts's identifyStack + stackHint.
   */
  identify?: (answer: { status: number; headers: Record<string, string>; body: string }) => string | undefined;
}): LoadReport {
  const s = input.snapshot;
  const ackRate = s.sent ? Math.floor((s.acknowledged / s.sent) * 10_000) / 100 : 0;
  // Sends fall in one more bucket than whole seconds when the run does not start on a second.
  const sendSeconds = Math.max(input.target.durationS, s.perSecond.filter((b) => b.sent > 0).length - 1, 1);
  const thresholds: ThresholdResult[] = [
    {
      name: 'acknowledged',
      limit: `≥ ${input.thresholds.minAck}%`,
      actual: `${ackRate}%`,
      pass: s.sent > 0 && ackRate >= input.thresholds.minAck,
    },
    s.latencyMs.max > 0
      ? {
          name: 'p99 latency',
          limit: `≤ ${input.thresholds.maxP99Ms} ms`,
          actual: `${s.latencyMs.p99} ms`,
          pass: s.latencyMs.p99 <= input.thresholds.maxP99Ms,
        }
      : { name: 'p99 latency', limit: `≤ ${input.thresholds.maxP99Ms} ms`, actual: 'no answers', pass: false },
  ];
  const r = input.reconciliation;
  if (r) {
    const bad = r.lost.length + r.duplicated.length + r.wrongAmount.length;
    thresholds.push({
      name: 'reconciliation',
      limit: 'nothing lost, duplicated or wrong',
      actual: bad === 0 ? 'all recorded' : `${bad} finding${bad === 1 ? '' : 's'}`,
      pass: bad === 0 && r.lookupErrors.length === 0,
    });
  }
  return {
    tool: 'wxpay-notify load',
    startedAt: new Date(input.startedAt).toISOString(),
    durationMs: input.endedAt - input.startedAt,
    interrupted: input.interrupted,
    target: input.target,
    orders: {
      sent: input.orders.sent,
      acknowledged: input.orders.acknowledged,
      notAcknowledged: input.orders.sent - input.orders.acknowledged,
    },
    deliveries: {
      sent: s.sent,
      acknowledged: s.acknowledged,
      failed: s.failed,
      ackRate,
      duplicates: s.duplicatesSent,
      concurrent: s.concurrentSent,
      retries: s.retriesSent,
      notSent: input.notSent,
      achievedRate: Math.round(s.sent / sendSeconds),
    },
    latencyMs: s.latencyMs,
    serviceMs: s.serviceMs,
    generatorMs: s.generatorMs,
    timeouts: s.timeouts,
    connectionErrors: s.connectionErrors,
    // The answers themselves stay out of the report: only what they tell (the stack) goes in.
    failures: s.causes.map((c) => ({
      ...c,
      hint: causeHint(c.cause),
      examples: c.examples.map(({ evidence, ...e }) => {
        const stack = evidence && e.status > 0 ? input.identify?.({ status: e.status, ...evidence }) : undefined;
        return stack ? { ...e, stack } : e;
      }),
    })),
    perSecond: s.perSecond,
    histogram: s.histogram,
    reconciliation: r,
    thresholds,
    verdict: thresholds.every((t) => t.pass) && !input.interrupted ? 'pass' : 'fail',
  };
}

const LOAD_HINTS: Record<string, string> = {
  stopped:
    'Still unanswered when sending stopped (Ctrl-C, or the run ended while every connection waited): the handler is slower than the arrival rate.',
  'conn-reset': HINTS['conn-reset'] ?? '',
};

function causeHint(cause: string): string {
  return LOAD_HINTS[cause] ?? (HINTS as Record<string, string>)[cause] ?? '';
}

const n = (x: number): string => x.toLocaleString('en-US');
const ms = (x: number): string => `${n(x)} ms`;

/** The words a user reads at the end of a run (stdout). Text from outside is made inert. */
export function renderLoadSummary(report: LoadReport): string {
  const t = report.target;
  const d = report.deliveries;
  const l = report.latencyMs;
  const mix = Object.entries(t.mix)
    .map(([k, w]) => `${k} ${w}`)
    .join(' : ');
  const lines: string[] = [];
  lines.push(
    `wxpay-notify load: ${t.durationS} s at ${n(t.rate)}/s${t.rampS ? ` (ramp ${t.rampS} s)` : ''} to ${t.origin} (${mix})${t.presign ? ', pre-signed burst' : ''}${report.interrupted ? ' — interrupted (Ctrl-C)' : ''}`,
  );
  lines.push(
    `  sent          ${n(d.sent)} deliveries of ${n(report.orders.sent)} notifications (${n(d.duplicates)} delivered twice, ${n(d.concurrent)} of them at once; ${n(d.retries)} retries) at ${n(d.achievedRate)}/s`,
  );
  if (d.notSent > 0 || (!report.interrupted && d.achievedRate < t.rate * 0.9)) {
    lines.push(
      `  ! the sender fell behind: ${n(d.achievedRate)}/s of ${n(t.rate)}/s (generator p99 ${ms(report.generatorMs.p99)}); latency from the intended send time includes that delay: add --workers or --connections, or send from a faster machine`,
    );
  }
  if (d.notSent > 0)
    lines.push(
      `  not sent      ${n(d.notSent)} deliveries the schedule called for: every connection was still waiting for an answer (raise --connections to keep the rate)`,
    );
  lines.push(
    `  acknowledged  ${d.ackRate}% of deliveries (${n(d.acknowledged)}; ${n(d.failed)} failed); ${n(report.orders.notAcknowledged)} notifications never acknowledged`,
  );
  lines.push(
    `  latency       p50 ${ms(l.p50)} · p95 ${ms(l.p95)} · p99 ${ms(l.p99)} · max ${ms(l.max)} from the intended send time; ${n(l.overLimit)} over WeChat's ${ACK_TIME_LIMIT_MS / 1000} s limit (超时)`,
  );
  lines.push(
    `  timeouts      ${n(report.timeouts)} (no answer within ${ms(t.timeoutMs)}) · connection errors ${n(report.connectionErrors)}`,
  );
  lines.push(`  generator     p99 ${ms(report.generatorMs.p99)} to build and sign one delivery`);
  if (report.failures.length > 0) {
    lines.push('', 'Failures by cause (原因):');
    for (const f of report.failures) {
      lines.push(`  ${f.cause.padEnd(22)} ${n(f.count).padStart(7)}  ${f.hint}`);
      for (const e of f.examples.slice(0, 3)) {
        const what = e.status ? `HTTP ${e.status}` : 'no answer';
        const which = [e.copy > 1 ? `copy ${e.copy}` : '', e.attempt > 1 ? `retry ${e.attempt - 1}` : '']
          .filter(Boolean)
          .join(', ');
        lines.push(
          `      e.g. ${inert(e.outTradeNo)}${which ? ` (${which})` : ''}: ${what}${e.answer ? ` — ${inert(e.answer).slice(0, 200)}` : ''}`,
        );
        if (e.stack) lines.push(`        ${inert(e.stack)}`);
      }
    }
  }
  const r = report.reconciliation;
  if (r) {
    lines.push(
      '',
      `Reconciliation (对账) via ${inert(r.lookup)}: ${n(r.checked)} acknowledged notifications looked up, ${n(r.recorded)} recorded`,
    );
    const list = (label: string, findings: Finding[], words: string): void => {
      if (findings.length === 0) {
        lines.push(`  ${label.padEnd(14)} 0`);
        return;
      }
      lines.push(`  ${label.padEnd(14)} ${n(findings.length)} ${words}:`);
      for (const f of findings.slice(0, 10)) lines.push(`      ${orderName(f)}: ${inert(f.detail)}`);
      if (findings.length > 10) lines.push(`      … and ${n(findings.length - 10)} more (all in the JSON report)`);
    };
    list('lost', r.lost, 'acknowledged but not recorded (应答成功, 但回调数据丢失)');
    list('duplicated', r.duplicated, 'processed more than once (重复处理)');
    list('wrong amount', r.wrongAmount, 'recorded with another amount (金额不符)');
    list('lookup errors', r.lookupErrors, 'could not be looked up');
  }
  lines.push(
    '',
    `Thresholds: ${report.thresholds.map((t) => `${t.name} ${t.limit}: ${t.pass ? 'PASS' : 'FAIL'} (${t.actual})`).join(' · ')}`,
  );
  lines.push(report.verdict === 'pass' ? 'PASS' : 'FAIL');
  return lines.join('\n') + '\n';
}

function orderName(f: Finding): string {
  const r = f.record;
  return r.kind === 'refund' && r.outRefundNo
    ? `${r.version} refund ${inert(r.outRefundNo)} (order ${inert(r.outTradeNo)})`
    : `${r.version} order ${inert(r.outTradeNo)}`;
}

function inert(text: string): string {
  return escapeControl(String(text));
}

/** The live progress line (stderr, on a terminal only). */
export function progressLine(p: {
  sent: number;
  acknowledged: number;
  p99: number;
  elapsedMs: number;
  durationS: number;
}): string {
  const pct = p.sent ? Math.floor((p.acknowledged / p.sent) * 1000) / 10 : 0;
  return `sent ${n(p.sent)} · acknowledged ${n(p.acknowledged)} (${pct}%) · p99 ${ms(p.p99)} · ${Math.floor(p.elapsedMs / 1000)}/${p.durationS} s`;
}
