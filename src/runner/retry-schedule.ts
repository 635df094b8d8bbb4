import { RETRY_SCHEDULE_SECONDS } from '../protocol/constants.js';
import type { DeliveryResult } from './types.js';

/** One attempt of a replayed delivery, on WeChat's clock (+seconds since the first attempt). */
export interface RetryAttempt {
  attempt: number;
  wechatOffsetSeconds: number;
  status?: number;
  verdict: DeliveryResult['verdict'];
  cause: string;
}

export interface RetryTimeline {
  caseId: string;
  speedup: number;
  attempts: RetryAttempt[];
  acknowledged: boolean;
}

/** Default speed-up: the whole 24 h 4 min schedule in about a minute. */
export const DEFAULT_RETRY_SPEEDUP = Math.round(RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0) / 60);

/**
 * Replays a failed delivery as WeChat would: up to 15 retries at 15 s, 15 s, 30 s, 3 m … 6 h
 * (protocol.md §5.3), each re-signed at send time, stopping at the first correct acknowledgement.
 * `send` runs one fresh delivery of the case; `sleep` is injected so tests need not wait.
 */
export async function replayOnSchedule(
  first: DeliveryResult,
  send: () => Promise<DeliveryResult>,
  options: { speedup: number; sleep?: (ms: number) => Promise<void>; schedule?: readonly number[]; onAttempt?: (attempt: RetryAttempt) => void },
): Promise<RetryTimeline> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const schedule = options.schedule ?? RETRY_SCHEDULE_SECONDS;
  const attempts: RetryAttempt[] = [{ attempt: 1, wechatOffsetSeconds: 0, status: first.status, verdict: first.verdict, cause: first.cause }];
  let offset = 0;
  for (const gap of schedule) {
    offset += gap;
    await sleep((gap * 1000) / options.speedup);
    const result = await send();
    const attempt: RetryAttempt = { attempt: attempts.length + 1, wechatOffsetSeconds: offset, status: result.status, verdict: result.verdict, cause: result.cause };
    attempts.push(attempt);
    options.onAttempt?.(attempt);
    if (result.verdict === 'pass') return { caseId: first.caseId, speedup: options.speedup, attempts, acknowledged: true };
  }
  return { caseId: first.caseId, speedup: options.speedup, attempts, acknowledged: false };
}

export function formatWechatOffset(seconds: number): string {
  if (seconds < 60) return `+${seconds}s`;
  if (seconds < 3600) return `+${Math.floor(seconds / 60)}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `+${h}h${m ? `${m}m` : ''}`;
}

/** The timeline under the table: when WeChat would have sent each attempt, and what came back. */
export function renderTimeline(t: RetryTimeline): string {
  const head = `Retry timeline for ${t.caseId} (WeChat's schedule, ${t.speedup}x faster): ${t.acknowledged ? `acknowledged on attempt ${t.attempts.length}` : `never acknowledged in ${t.attempts.length} attempts; WeChat stops here and the merchant must query the order`}`;
  const rows = t.attempts.map((a) => `  #${String(a.attempt).padEnd(3)}${formatWechatOffset(a.wechatOffsetSeconds).padEnd(10)}${String(a.status ?? '-').padEnd(5)}${a.verdict === 'pass' ? 'PASS' : 'FAIL'}${a.verdict === 'pass' ? '' : `  ${a.cause}`}`);
  return [head, ...rows].join('\n') + '\n';
}
