import { setTimeout as delay } from 'node:timers/promises';
import type { CaseDefinition } from '../cases/types.js';
import type { ResolvedConfig } from '../config/types.js';
import { buildCollection } from '../collection/build-collection.js';
import { CASE_HEADER } from '../collection/sandbox-scripts.js';
import { replayOnSchedule, type RetryAttempt, type RetryTimeline } from './retry-schedule.js';
import { runCollection } from './run-collection.js';
import type { DeliveryResult, RunResult } from '../judge/types.js';

/** The redelivery group whose stored notification a retry repeats (the sandbox reads it by this name). */
const RETRY_GROUP = 'retry';

/**
 * The collection of one case turned into a repeat of `body`, the notification as first sent: the
 * pre-request script re-signs it (v3: same id and resource, new timestamp, nonce and signature;
 * v2: the same body), as WeChat does on every retry.
 */
export function repeatCollection(collection: Record<string, unknown>, body: string): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(collection)) as { variable?: unknown[]; item: { item: { request: { header: { key: string; value: string }[] } }[] }[] };
  for (const folder of copy.item) {
    for (const item of folder.item) {
      const header = item.request.header.find((h) => h.key === CASE_HEADER);
      if (!header) continue;
      header.value = JSON.stringify({ ...JSON.parse(header.value), redelivery: { group: RETRY_GROUP, copy: 2 } });
    }
  }
  copy.variable = [...(copy.variable ?? []), { key: `wxpay_redelivery_${RETRY_GROUP}`, value: body, type: 'string' }];
  return copy;
}

export interface ReplayOptions {
  speedup: number;
  insecure: boolean;
  onAttempt?: (caseId: string, attempt: RetryAttempt) => void;
  /** Stops the replay: the wait or the send under way rejects, and nothing more is sent. */
  signal?: AbortSignal;
}

/**
 * `run --retry-schedule`: each failed genuine single delivery is sent again on WeChat's schedule
 * until WeChat would stop. Forged cases are not retried: WeChat retries what the merchant failed
 * to accept, and a rejected forgery is the right answer.
 */
export async function replayFailures(run: RunResult, cases: readonly CaseDefinition[], config: ResolvedConfig, environment: Record<string, unknown>, options: ReplayOptions): Promise<RetryTimeline[]> {
  const timelines: RetryTimeline[] = [];
  for (const def of cases) {
    const first = run.deliveries.find((d) => d.caseId === def.id);
    if (!first || first.verdict !== 'fail' || def.expect !== 'ack' || (def.copies ?? 1) > 1 || def.concurrent || !first.request) continue;
    const collection = repeatCollection(buildCollection(config, [def]), first.request.body);
    const send = async (): Promise<DeliveryResult> => {
      const again = await runCollection({ collection, environment, insecure: options.insecure, signal: options.signal });
      options.signal?.throwIfAborted();
      return again.deliveries[0]!;
    };
    const onAttempt = options.onAttempt && ((a: RetryAttempt) => options.onAttempt!(def.id, a));
    const sleep = (ms: number): Promise<void> => delay(ms, undefined, { signal: options.signal });
    timelines.push(await replayOnSchedule(first, send, { speedup: options.speedup, onAttempt, sleep }));
  }
  return timelines;
}
