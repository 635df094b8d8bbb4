import newman from 'newman';
import { HINTS, transportCause, type Cause } from '../cases/hints.js';
import { CATALOGUE } from '../cases/catalogue.js';
import type { Severity } from '../cases/types.js';
import type { CaseSpec } from '../collection/case-spec.js';
import { CASE_HEADER, REQUEST_TIMEOUT_MS } from '../collection/sandbox-scripts.js';
import { judgeInNode } from './judge-in-node.js';
import type { DeliveryResult, RunResult } from './types.js';

export interface RunOptions {
  collection: Record<string, unknown>;
  environment: Record<string, unknown>;
  /** One object per iteration; each overrides variables (order fields) for that row. */
  iterationData?: Record<string, unknown>[];
  /** Per request; a little above WeChat's 5 s so a hung receiver cannot stall the run. */
  timeoutRequestMs?: number;
  /** Whole run. */
  timeoutMs?: number;
  /** Accept self-signed TLS certificates (test servers). */
  insecure?: boolean;
  /** Called as each delivery finishes (live progress). */
  onDelivery?: (delivery: DeliveryResult) => void;
}

type Header = { key: string; value: string; disabled?: boolean };

function headerMap(list: Header[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list ?? []) if (!h.disabled) out[h.key] = h.value;
  return out;
}

function readSpec(item: any): CaseSpec | undefined {
  const headers: Header[] = item?.request?.headers?.all?.() ?? [];
  const header = headers.find((h) => h.key.toLowerCase() === CASE_HEADER.toLowerCase());
  if (!header) return undefined;
  try {
    return JSON.parse(header.value) as CaseSpec;
  } catch {
    return undefined;
  }
}

function titleOf(id: string, fallback: string): string {
  return CATALOGUE.find((c) => c.id === id)?.title ?? fallback;
}

/** Runs a generated collection with newman, in memory, and returns one result per delivery. */
export function runCollection(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const deliveries: DeliveryResult[] = [];
  const open = new Map<string, DeliveryResult & { skipReason?: string; sent: boolean }>();

  return new Promise((resolve, reject) => {
    // Set once the run is over (or its time limit ran out): a request still in flight may finish
    // later, and must not add a delivery to a result that was already handed back.
    let settled = false;
    const emitter = newman.run(
      {
        collection: options.collection as any,
        environment: options.environment as any,
        iterationData: options.iterationData as any,
        reporters: [],
        timeoutRequest: options.timeoutRequestMs ?? REQUEST_TIMEOUT_MS,
        timeout: options.timeoutMs ?? 0,
        insecure: options.insecure ?? false,
        ignoreRedirects: true,
      } as any,
      (err: Error | null) => {
        if (settled) return;
        settled = true;
        // The whole-run bound (`timeout`) ends the run with this error. That is a result, not a
        // crash: hand back what was learnt, the delivery in flight as failed, marked aborted.
        const outOfTime = err?.message === 'callback timed out';
        if (err && !outOfTime) {
          reject(err);
          return;
        }
        if (outOfTime) {
          for (const record of open.values()) {
            const { skipReason: _s, sent: _sent, ...result } = record;
            result.verdict = 'fail';
            result.cause = 'timeout';
            result.error = `the run's time limit (${options.timeoutMs} ms) ran out before this delivery finished`;
            result.hint = HINTS.timeout;
            deliveries.push(result);
            options.onDelivery?.(result);
          }
          open.clear();
        }
        resolve({ deliveries, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, aborted: outOfTime });
      },
    );

    emitter.on('beforeItem', (_err: unknown, args: any) => {
      const spec = readSpec(args.item);
      if (!spec) return;
      open.set(args.cursor.ref, {
        caseId: spec.id,
        title: titleOf(spec.id, args.item.name),
        severity: spec.severity as Severity,
        expect: spec.expect,
        copy: spec.copy ?? 1,
        copies: spec.copies ?? 1,
        iteration: args.cursor.iteration + 1,
        verdict: 'fail',
        cause: 'ok',
        hint: '',
        checks: [],
        sent: false,
      });
    });

    emitter.on('console', (_err: unknown, args: any) => {
      const record = open.get(args.cursor?.ref);
      const text = (args.messages ?? []).join(' ');
      if (record && args.level === 'error' && text.startsWith('[wxpay-notify]')) {
        record.skipReason = text.replace(/^\[wxpay-notify\]\s*/, '');
      }
    });

    emitter.on('request', (err: any, args: any) => {
      const record = open.get(args.cursor?.ref);
      if (!record) return;
      record.sent = true;
      const request = args.request;
      record.request = {
        url: request?.url?.toString?.() ?? '',
        headers: headerMap(request?.headers?.all?.()),
        body: request?.body?.raw ?? '',
      };
      if (err) {
        record.cause = transportCause(err);
        record.error = `${err.code ?? 'error'}: ${err.message ?? String(err)}`;
        return;
      }
      const response = args.response;
      record.status = response.code;
      record.timeMs = response.responseTime;
      record.response = { headers: headerMap(response.headers?.all?.()), body: response.stream ? Buffer.from(response.stream).toString('utf8') : '' };
    });

    emitter.on('assertion', (err: any, args: any) => {
      const record = open.get(args.cursor?.ref);
      if (!record) return;
      record.checks.push({ name: args.assertion, pass: !err && !args.skipped, message: err ? String(err.message ?? err) : '' });
    });

    emitter.on('item', (_err: unknown, args: any) => {
      const record = open.get(args.cursor?.ref);
      if (!record || settled) return;
      open.delete(args.cursor.ref);
      const spec = readSpec(args.item)!;
      finish(record, spec);
      const { skipReason: _s, sent: _sent, ...result } = record;
      deliveries.push(result);
      options.onDelivery?.(result);
    });
  });
}

function finish(record: DeliveryResult & { skipReason?: string; sent: boolean }, spec: CaseSpec): void {
  // The pre-request script says why it did not sign; a runtime that cannot skip a request sends it
  // to an unresolvable decoy instead, and that failure is not the merchant's.
  if (!record.sent || record.skipReason) {
    record.verdict = 'skipped';
    record.cause = 'skipped';
    record.error = record.skipReason ?? 'the pre-request script skipped this request';
    record.hint = HINTS.skipped;
    return;
  }
  if (record.error) {
    // No answer at all: WeChat counts that as a failed delivery, whatever the case expected.
    record.verdict = 'fail';
    record.hint = HINTS[record.cause as keyof typeof HINTS] ?? HINTS.transport;
    return;
  }
  const checks = judgeInNode(spec, {
    code: record.status!,
    body: record.response!.body,
    headers: Object.fromEntries(Object.entries(record.response!.headers).map(([k, v]) => [k.toLowerCase(), v])),
    timeMs: record.timeMs!,
  });
  // The verdict is what the Postman tests decided; the Node judge (the same code) names the cause
  // and which failed check matters most: a wrong answer before a slow one.
  const passed = record.checks.length > 0 && record.checks.every((c) => c.pass);
  record.verdict = passed ? 'pass' : 'fail';
  if (passed) return;
  if (record.checks.length === 0) {
    record.hint = 'no test ran for this request: was the collection-level test script removed?';
    return;
  }
  const failing = checks.find((c) => !c.pass && c.cause !== 'slow') ?? checks.find((c) => !c.pass);
  // The request itself was judged fine, so one of its concurrent copies failed (judged in Postman only).
  record.cause = (failing?.cause ?? 'concurrent-copy') as Cause;
  const shown = record.checks.find((c) => !c.pass && c.name === failing?.name) ?? record.checks.find((c) => !c.pass);
  record.hint = shown?.message ?? '';
}
