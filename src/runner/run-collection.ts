import newman from 'newman';
import { HINTS, transportCause, type Cause } from '../judge/causes.js';
import { CATALOGUE } from '../cases/catalogue.js';
import type { Severity } from '../cases/types.js';
import { CASE_HEADER, type CaseSpec } from '../cases/case-header.js';
import { ANSWER_LIMIT_BYTES, REQUEST_DEADLINE_MS } from '../shared/limits.js';
import { boundedAgents, readCutMark } from './bounded-agents.js';
import { expectationText, judgeAnswer } from '../judge/answer.js';
import { hollowAcknowledgement, nameStack } from '../judge/name-stack.js';
import type { CheckResult, DeliveryResult, RunResult } from '../judge/types.js';

export interface RunOptions {
  collection: Record<string, unknown>;
  environment: Record<string, unknown>;
  /** One object per iteration; each overrides variables (order fields) for that row. */
  iterationData?: Record<string, unknown>[];
  /**
   * Per request, a wall-clock deadline for the whole answer (headers and body); a little above
   * WeChat's 5 s so a hung or trickling receiver cannot stall the run.
   */
  timeoutRequestMs?: number;
  /** Bytes of each answer's body kept; the rest is discarded. */
  answerLimitBytes?: number;
  /** Whole run. */
  timeoutMs?: number;
  /** Accept self-signed TLS certificates (test servers). */
  insecure?: boolean;
  /** Called as each delivery finishes (live progress). */
  onDelivery?: (delivery: DeliveryResult) => void;
  /**
   * Stops the run: nothing more is sent, what is in flight is dropped, and the run resolves at once
   * with the deliveries judged so far, marked aborted.
   */
  signal?: AbortSignal;
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

/**
 * How long the merchant took to answer, as WeChat's clock sees it: from the connection being ready
 * (the request goes out) to the end of the answer. Postman's responseTime also counts the runtime's
 * own work before it opens the connection (tens of ms on a busy machine), which would fail a handler
 * answering at 4.9 s. Falls back to responseTime where no timings were recorded.
 */
function answerTimeMs(history: any, responseTime: number): number {
  const t = history?.execution?.data?.at?.(-1)?.timings?.offset;
  const start = t?.connect ?? t?.socket;
  if (typeof t?.end !== 'number' || typeof start !== 'number') return responseTime;
  return Math.max(0, Math.round(t.end - start));
}

/** Checks of the copies a concurrent case fires from its scripts are named "concurrent copy N: …". */
const CONCURRENT_CHECK = /^concurrent copy (\d+): /;

function concurrentCopies(checks: readonly CheckResult[]): { copy: number; pass: boolean }[] {
  const copies = new Map<number, boolean>();
  for (const check of checks) {
    const match = CONCURRENT_CHECK.exec(check.name);
    if (match) copies.set(Number(match[1]), (copies.get(Number(match[1])) ?? true) && check.pass);
  }
  return [...copies].sort(([a], [b]) => a - b).map(([copy, pass]) => ({ copy, pass }));
}

/** Runs a generated collection with newman, in memory, and returns one result per delivery. */
export function runCollection(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const deliveries: DeliveryResult[] = [];
  const open = new Map<string, DeliveryResult & { skipReason?: string; sent: boolean }>();

  const deadlineMs = options.timeoutRequestMs ?? REQUEST_DEADLINE_MS;
  const agents = boundedAgents({ deadlineMs, limitBytes: options.answerLimitBytes ?? ANSWER_LIMIT_BYTES });

  return new Promise((resolve, reject) => {
    // Set once the run is over (or its time limit ran out): a request still in flight may finish
    // later, and must not add a delivery to a result that was already handed back.
    let settled = false;
    let runner: { abort(): void } | undefined;
    const stop = (): void => {
      if (settled) return;
      settled = true;
      runner?.abort();
      agents.close();
      resolve({
        deliveries,
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        aborted: true,
      });
    };
    const emitter = newman.run(
      {
        collection: options.collection as any,
        environment: options.environment as any,
        iterationData: options.iterationData as any,
        reporters: [],
        timeoutRequest: deadlineMs,
        requestAgents: { http: agents.http, https: agents.https },
        timeout: options.timeoutMs ?? 0,
        insecure: options.insecure ?? false,
        ignoreRedirects: true,
        // Request timings, so the 5 s clock starts when the request goes out (see answerTimeMs).
        verbose: true,
      } as any,
      (err: Error | null) => {
        options.signal?.removeEventListener('abort', stop);
        if (settled) return;
        settled = true;
        // A request still in flight (the run's bound ran out) must not keep the process alive.
        agents.close();
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
        resolve({
          deliveries,
          startedAt: new Date(started).toISOString(),
          durationMs: Date.now() - started,
          aborted: outOfTime,
        });
      },
    );

    emitter.on('start', (_err: unknown, args: any) => {
      runner = args.run;
      if (settled) runner?.abort();
    });
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });

    emitter.on('beforeItem', (_err: unknown, args: any) => {
      const spec = readSpec(args.item);
      if (!spec) return;
      // The one place a request is joined to its case: what the reports need travels on the result.
      const definition = CATALOGUE.find((c) => c.id === spec.id);
      open.set(args.cursor.ref, {
        caseId: spec.id,
        title: definition?.title ?? args.item.name,
        severity: spec.severity as Severity,
        expect: spec.expect,
        version: definition?.version ?? spec.version,
        kind: definition?.kind ?? spec.kind,
        folder: definition?.folder ?? 'other cases',
        ...(definition?.control ? { control: definition.control } : {}),
        ...(definition?.diagnostic ? { diagnostic: definition.diagnostic } : {}),
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
      record.timeMs = answerTimeMs(args.history, response.responseTime);
      record.response = {
        headers: headerMap(response.headers?.all?.()),
        body: response.stream ? Buffer.from(response.stream).toString('utf8') : '',
      };
      const { cutAtBytes } = readCutMark(String(response.status ?? ''));
      if (cutAtBytes !== undefined) record.response.truncatedAtBytes = cutAtBytes;
    });

    emitter.on('assertion', (err: any, args: any) => {
      const record = open.get(args.cursor?.ref);
      if (!record) return;
      record.checks.push({
        name: args.assertion,
        pass: !err && !args.skipped,
        message: err ? String(err.message ?? err) : '',
      });
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
  const answer = {
    code: record.status!,
    body: record.response!.body,
    headers: Object.fromEntries(Object.entries(record.response!.headers).map(([k, v]) => [k.toLowerCase(), v])),
    timeMs: record.timeMs!,
  };
  const checks = judgeAnswer(spec, answer);
  // The verdict is what the Postman tests decided, except the clock: the Node judge (the same code)
  // re-judges time on the request's own timing, names the cause and which failed check matters most
  // (a wrong answer before a slow one).
  const timeCheck = checks[0]!; // judgeResponse checks the clock first
  record.checks = record.checks.map((c) =>
    c.name === timeCheck.name ? { name: c.name, pass: timeCheck.pass, message: timeCheck.message } : c,
  );
  if (spec.concurrent) record.concurrentCopies = concurrentCopies(record.checks);
  const passed = record.checks.length > 0 && record.checks.every((c) => c.pass);
  record.verdict = passed ? 'pass' : 'fail';
  const hollow = passed && spec.expect === 'ack' ? hollowAcknowledgement(answer, expectationText(spec)) : undefined;
  if (hollow) {
    record.verdict = 'fail';
    record.cause = hollow.cause;
    record.hint = hollow.message;
    record.checks = record.checks.map((c) =>
      c.name === checks[1]?.name ? { ...c, pass: false, message: hollow.message } : c,
    );
    return;
  }
  if (passed) return;
  const cut = record.response!.truncatedAtBytes;
  const cutNote =
    cut === undefined
      ? ''
      : `The answer was longer than ${cut} bytes: only that much was kept and judged (an acknowledgement is a few hundred bytes). `;
  if (record.checks.length === 0) {
    record.hint = 'no test ran for this request: was the collection-level test script removed?';
    return;
  }
  const failing = checks.find((c) => !c.pass && c.cause !== 'slow') ?? checks.find((c) => !c.pass);
  // The request itself was judged fine, so one of its concurrent copies failed (judged in Postman only).
  record.cause = (failing?.cause ?? 'concurrent-copy') as Cause;
  const shown = record.checks.find((c) => !c.pass && c.name === failing?.name) ?? record.checks.find((c) => !c.pass);
  record.hint = cutNote + (shown?.message ?? '');
  // The judge named the answer's shape; the stack's fingerprint names whose answer it is and the fix.
  const named = failing ? nameStack(failing.cause, answer, expectationText(spec)) : undefined;
  if (named) {
    record.cause = named.cause;
    record.hint = cutNote + named.message;
  }
}
