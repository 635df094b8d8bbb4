import { ACK_TIME_LIMIT_MS, RETRY_SCHEDULE_SECONDS } from '../protocol/constants.js';
import type { DeliveryResult, RetryAttempt, RetryStop, RetryTimeline } from '../judge/types.js';

/**
 * Whether WeChat sends this notification again after this answer. It stops at a correct
 * acknowledgement, and also at any v3 200/204 within 5 s whatever its body says: a 200 with
 * {"code":"FAIL"} counts as received (docs/protocol.md#v3-acknowledgement), so the merchant never
 * sees it again.
 */
export function wechatStopsAfter(
  delivery: Pick<DeliveryResult, 'verdict' | 'cause' | 'timeMs'>,
): Exclude<RetryStop, 'gave-up'> | undefined {
  if (delivery.verdict === 'pass') return 'acknowledged';
  if (delivery.cause === 'v3-200-code-fail' && (delivery.timeMs ?? Infinity) <= ACK_TIME_LIMIT_MS) return 'received';
  return undefined;
}

/** Default speed-up: the whole 24 h 4 min schedule in about a minute. */
export const DEFAULT_RETRY_SPEEDUP = Math.round(RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0) / 60);

/**
 * Replays a failed delivery as WeChat would: up to 15 retries at 15 s, 15 s, 30 s, 3 m … 6 h
 * (docs/protocol.md#retry-schedule), stopping where WeChat stops (wechatStopsAfter). `send`
 * delivers the same notification again, re-signed; `sleep` is injected so tests need not wait.
 */
export async function replayOnSchedule(
  first: DeliveryResult,
  send: () => Promise<DeliveryResult>,
  options: {
    speedup: number;
    sleep?: (ms: number) => Promise<void>;
    schedule?: readonly number[];
    onAttempt?: (attempt: RetryAttempt) => void;
  },
): Promise<RetryTimeline> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const schedule = options.schedule ?? RETRY_SCHEDULE_SECONDS;
  const attempts: RetryAttempt[] = [
    { attempt: 1, wechatOffsetSeconds: 0, status: first.status, verdict: first.verdict, cause: first.cause },
  ];
  const timeline = (stoppedBecause: RetryStop): RetryTimeline => ({
    caseId: first.caseId,
    speedup: options.speedup,
    attempts,
    acknowledged: stoppedBecause === 'acknowledged',
    stoppedBecause,
  });
  const firstStop = wechatStopsAfter(first);
  if (firstStop) return timeline(firstStop);
  let offset = 0;
  for (const gap of schedule) {
    offset += gap;
    await sleep((gap * 1000) / options.speedup);
    const result = await send();
    const attempt: RetryAttempt = {
      attempt: attempts.length + 1,
      wechatOffsetSeconds: offset,
      status: result.status,
      verdict: result.verdict,
      cause: result.cause,
    };
    attempts.push(attempt);
    options.onAttempt?.(attempt);
    const stop = wechatStopsAfter(result);
    if (stop) return timeline(stop);
  }
  return timeline('gave-up');
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
  const last = t.attempts.at(-1);
  const outcome: Record<RetryStop, string> = {
    acknowledged: `acknowledged on attempt ${t.attempts.length}`,
    received: `WeChat stops after attempt ${t.attempts.length}: HTTP ${last?.status ?? 200} counts as received even with {"code":"FAIL"} in the body, so this notification is never sent again and the case fails (answer 4xx/5xx when you want WeChat to retry)`,
    'gave-up': `never acknowledged in ${t.attempts.length} attempts; WeChat stops here and the merchant must query the order`,
  };
  const head = `Retry timeline for ${t.caseId} (WeChat's schedule, ${t.speedup}x faster): ${outcome[t.stoppedBecause]}`;
  const rows = t.attempts.map(
    (a) =>
      `  #${String(a.attempt).padEnd(3)}${formatWechatOffset(a.wechatOffsetSeconds).padEnd(10)}${String(a.status ?? '-').padEnd(5)}${a.verdict === 'pass' ? 'PASS' : 'FAIL'}${a.verdict === 'pass' ? '' : `  ${a.cause}`}`,
  );
  return [head, ...rows].join('\n') + '\n';
}
