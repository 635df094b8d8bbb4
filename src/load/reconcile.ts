import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { spawn } from 'node:child_process';
import {
  checkLookupSpec,
  lookupPlaceholders,
  lookupUrl,
  lookupArgv,
  lookupEnv,
  unsafeCommandValue,
  type CheckedLookup,
  type LookupSpec,
} from './lookup-spec.js';
import { readLookupAnswer, type LookupAnswer } from './lookup-answer.js';
import { quoteInert } from './inert-text.js';
import type { SentRecord } from './sent-record.js';

export type { SentRecord };

export type { LookupSpec } from './lookup-spec.js';

export interface Finding {
  record: SentRecord;
  /** One line, inert on a terminal: what the lookup said, and what that means. */
  detail: string;
}

export interface ReconcileReport {
  /** Acknowledged notifications looked up (unacknowledged ones are WeChat's to retry, not checked). */
  checked: number;
  /** Of those, the ones the lookup says were recorded. */
  recorded: number;
  /** Acknowledged but not recorded: "应答成功, 但回调数据丢失". */
  lost: Finding[];
  /** Recorded more than once (when the lookup says how often: times_processed, or several rows). */
  duplicated: Finding[];
  /** Recorded with another amount than WeChat notified. */
  wrongAmount: Finding[];
  /** The lookup could not answer for this notification (the finding says why); it was not judged. */
  lookupErrors: Finding[];
}

export interface ReconcileOptions {
  /** Lookups in flight at once; default 8. */
  concurrency?: number;
  /** Per lookup, including a command's run; default 5,000 ms. */
  timeoutMs?: number;
  /** Stops starting lookups and cancels those in flight; the report covers what was checked. */
  signal?: AbortSignal;
}

/** An answer (body or a command's output) longer than this is refused: a lookup answers one order. */
export const MAX_LOOKUP_ANSWER_BYTES = 64 * 1024;
/** After this many lookup failures in a row with no answer at all, the rest is not looked up. */
export const CONSECUTIVE_FAILURES_TO_STOP = 25;
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_TIMEOUT_MS = 5_000;

/** What asking the lookup about one record produced: an answer to read, or why there is none. */
type Asked = { ok: true; answer: LookupAnswer } | { ok: false; detail: string };

/**
 * Checks every acknowledged notification against the merchant's own record of it, through the
 * lookup (docs/load-lookup.md): lost, processed more than once, recorded with a wrong amount.
 * Bounded: `concurrency` lookups at once, each within `timeoutMs` and MAX_LOOKUP_ANSWER_BYTES; a
 * lookup that keeps failing stops the checking instead of waiting out every record. Whatever the
 * lookup answers is data: parsed as JSON, quoted escaped and shortened, never run or printed raw.
 */
export async function reconcile(
  records: AsyncIterable<SentRecord> | Iterable<SentRecord>,
  lookup: LookupSpec,
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const checked = checkLookupSpec(lookup);
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY));
  const timeoutMs = Math.max(1, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const ask = checked.kind === 'url' ? httpAsker(checked, concurrency, timeoutMs) : commandAsker(checked, timeoutMs);

  type Indexed = { index: number; finding: Finding };
  const found = {
    lost: [] as Indexed[],
    duplicated: [] as Indexed[],
    wrongAmount: [] as Indexed[],
    lookupErrors: [] as Indexed[],
  };
  let count = 0;
  let recorded = 0;
  let failuresInARow = 0;
  let stopped: string | undefined;

  const iterator = (
    Symbol.asyncIterator in records
      ? records[Symbol.asyncIterator]()
      : (records as Iterable<SentRecord>)[Symbol.iterator]()
  ) as AsyncIterator<SentRecord> | Iterator<SentRecord>;
  let index = 0;
  let exhausted = false;
  // One reader hands out records to the workers, so an async source is read in order, once.
  let reading: Promise<unknown> = Promise.resolve();
  const nextRecord = (): Promise<{ record: SentRecord; index: number } | undefined> => {
    const next = reading.then(async () => {
      while (!exhausted && !opts.signal?.aborted) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          return undefined;
        }
        if (step.value.acknowledged) return { record: step.value, index: index++ };
      }
      return undefined;
    });
    reading = next.catch(() => undefined);
    return next;
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const item = await nextRecord();
      if (!item) return;
      const { record } = item;
      count++;
      if (stopped) {
        found.lookupErrors.push({ index: item.index, finding: { record, detail: stopped } });
        continue;
      }
      const asked = await ask(record, opts.signal);
      if (opts.signal?.aborted) {
        count--; // cut short by the caller: not checked
        return;
      }
      if (!asked.ok) {
        found.lookupErrors.push({ index: item.index, finding: { record, detail: asked.detail } });
        if (++failuresInARow >= CONSECUTIVE_FAILURES_TO_STOP && !stopped) {
          stopped = `not looked up: the lookup failed ${failuresInARow} times in a row (last: ${asked.detail}); fix it and reconcile again`;
        }
        continue;
      }
      failuresInARow = 0;
      const verdict = judgeRecord(record, asked.answer);
      if (verdict.recorded) recorded++;
      for (const [list, detail] of verdict.findings)
        found[list].push({ index: item.index, finding: { record, detail } });
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    ask.close?.();
    if (!exhausted) await (iterator as AsyncIterator<SentRecord>).return?.();
  }
  const ordered = (list: Indexed[]): Finding[] => list.sort((a, b) => a.index - b.index).map((i) => i.finding);
  return {
    checked: count,
    recorded,
    lost: ordered(found.lost),
    duplicated: ordered(found.duplicated),
    wrongAmount: ordered(found.wrongAmount),
    lookupErrors: ordered(found.lookupErrors),
  };
}

type FindingList = 'lost' | 'duplicated' | 'wrongAmount' | 'lookupErrors';

/** What one lookup answer says about one record. Pure. */
export function judgeRecord(
  record: SentRecord,
  answer: LookupAnswer,
): { recorded: boolean; findings: [FindingList, string][] } {
  const what =
    record.kind === 'pay'
      ? `payment ${record.outTradeNo}`
      : `refund ${record.outRefundNo ?? '?'} of ${record.outTradeNo}`;
  if (answer.problem) return { recorded: false, findings: [['lookupErrors', answer.problem]] };
  if (!answer.recorded)
    return {
      recorded: false,
      findings: [['lost', `acknowledged, but the lookup says ${what} was not recorded (${answer.how})`]],
    };
  const findings: [FindingList, string][] = [];
  if (answer.timesProcessed !== undefined && answer.timesProcessed > 1) {
    findings.push([
      'duplicated',
      `${what} was processed ${answer.timesProcessed} times (${answer.timesHow}); delivered ${record.deliveries} time${record.deliveries === 1 ? '' : 's'}`,
    ]);
  }
  const wrong: string[] = [];
  if (record.kind === 'pay' && answer.total !== undefined && answer.total !== record.total)
    wrong.push(`total ${answer.total} fen (分), notified ${record.total}`);
  if (record.kind === 'refund') {
    if (answer.refund !== undefined && record.refund !== undefined && answer.refund !== record.refund)
      wrong.push(`refund ${answer.refund} fen (分), notified ${record.refund}`);
    if (answer.total !== undefined && answer.total !== record.total)
      wrong.push(`order total ${answer.total} fen (分), notified ${record.total}`);
  }
  if (wrong.length > 0) findings.push(['wrongAmount', `${what} recorded with ${wrong.join(' and ')}`]);
  return { recorded: true, findings };
}

type Asker = ((record: SentRecord, signal?: AbortSignal) => Promise<Asked>) & { close?: () => void };

function httpAsker(lookup: CheckedLookup & { kind: 'url' }, concurrency: number, timeoutMs: number): Asker {
  const https = lookup.template.startsWith('https:');
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency })
    : new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const ask: Asker = (record, signal) =>
    new Promise<Asked>((resolve) => {
      const url = lookupUrl(lookup, record);
      const shown = quoteInert(url, 200);
      let settled = false;
      const finish = (asked: Asked): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(asked);
      };
      const req = (https ? httpsRequest : httpRequest)(url, {
        method: 'GET',
        agent,
        headers: { accept: 'application/json', 'user-agent': 'wxpay-notify-reconcile' },
      });
      // One deadline for the whole exchange, so an answer trickling in byte by byte is cut too.
      const timer = setTimeout(() => {
        finish({ ok: false, detail: `GET ${shown}: no complete answer within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      const onAbort = (): void => {
        finish({ ok: false, detail: 'cancelled' });
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error: NodeJS.ErrnoException) =>
        finish({
          ok: false,
          detail: `GET ${shown}: ${error.code ?? quoteInert(error.message, 120)}${error.code === 'ECONNREFUSED' ? ' (nothing listens there: is the lookup running?)' : ''}`,
        }),
      );
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_LOOKUP_ANSWER_BYTES) {
            finish({
              ok: false,
              detail: `GET ${shown}: answer larger than ${MAX_LOOKUP_ANSWER_BYTES / 1024} KiB; answer with this one order's fields`,
            });
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', () => finish({ ok: false, detail: `GET ${shown}: the connection broke during the answer` }));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (status === 404) return finish({ ok: true, answer: { recorded: false, how: 'HTTP 404' } });
          if (status !== 200) {
            const location =
              status >= 300 && status < 400 && res.headers.location
                ? ` to ${quoteInert(res.headers.location, 120)}; lookups do not follow redirects, give the final URL`
                : '';
            return finish({
              ok: false,
              detail: `GET ${shown}: answered HTTP ${status}${location}${body ? ` ${quoteInert(body, 120)}` : ''}; the lookup answers 200 with the record or 404`,
            });
          }
          finish({ ok: true, answer: readLookupAnswer(body, record, { rowsAllowed: false, source: `GET ${shown}` }) });
        });
      });
      req.end();
    });
  ask.close = () => agent.destroy();
  return ask;
}

function commandAsker(lookup: CheckedLookup & { kind: 'command' }, timeoutMs: number): Asker {
  return (record, signal) =>
    new Promise<Asked>((resolve) => {
      const unsafe = unsafeCommandValue(record);
      if (unsafe) return resolve({ ok: false, detail: unsafe });
      const argv = lookupArgv(lookup, record);
      const shown = quoteInert(argv[0]!, 80);
      let settled = false;
      const finish = (asked: Asked): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(asked);
      };
      // No shell: the template was split into argv once, values went into argv elements and the
      // environment, so no value is ever parsed as shell syntax.
      const child = spawn(argv[0]!, argv.slice(1), {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...lookupEnv(record) },
        windowsHide: true,
      });
      const stop = (detail: string): void => {
        finish({ ok: false, detail });
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop(`${shown}: did not finish within ${timeoutMs} ms`), timeoutMs);
      const onAbort = (): void => stop('cancelled');
      signal?.addEventListener('abort', onAbort, { once: true });
      const out: Buffer[] = [];
      let outSize = 0;
      const err: Buffer[] = [];
      let errSize = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        outSize += chunk.length;
        if (outSize > MAX_LOOKUP_ANSWER_BYTES)
          return stop(
            `${shown}: printed more than ${MAX_LOOKUP_ANSWER_BYTES / 1024} KiB; print this one order's row(s) only`,
          );
        out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (errSize < 4096) err.push(chunk);
        errSize += chunk.length;
      });
      child.on('error', (error: NodeJS.ErrnoException) =>
        finish({
          ok: false,
          detail:
            error.code === 'ENOENT'
              ? `${shown}: no such program (the command runs without a shell: name the program, or its full path)`
              : `${shown}: cannot run (${error.code ?? quoteInert(error.message, 120)})`,
        }),
      );
      child.on('close', (code, killedBy) => {
        if (code !== 0) {
          const said = Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? '';
          return finish({
            ok: false,
            detail: `${shown}: exited with ${code ?? `signal ${killedBy}`}${said ? `: ${quoteInert(said, 160)}` : ''}`,
          });
        }
        finish({
          ok: true,
          answer: readLookupAnswer(Buffer.concat(out).toString('utf8'), record, { rowsAllowed: true, source: shown }),
        });
      });
    });
}

export { lookupPlaceholders };
