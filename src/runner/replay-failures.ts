import { setTimeout as delay } from 'node:timers/promises';
import { CASE_HEADER } from '../cases/case-header.js';
import type { CaseDefinition } from '../cases/types.js';
import type { DeliveryResult, RetryAttempt, RetryTimeline, RunResult } from '../judge/types.js';
import { replayOnSchedule } from './retry-schedule.js';
import { runCollection } from './run-collection.js';

/** The redelivery group whose stored notification a retry repeats (the sandbox reads it by this name). */
const RETRY_GROUP = 'retry';

/**
 * The collection of one case turned into a repeat of `body`, the notification as first sent: the
 * pre-request script re-signs it (v3: same id and resource, new timestamp, nonce and signature;
 * v2: the same body), as WeChat does on every retry.
 */
export function repeatCollection(collection: Record<string, unknown>, body: string): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(collection)) as {
    variable?: unknown[];
    item: { item: { request: { header: { key: string; value: string }[] } }[] }[];
  };
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

/**
 * What the replay needs from whoever built the run: the cases it sent, and the collection of one of
 * them alone (the command builds it as it built the run's). The runner never builds collections.
 */
export interface ReplaySource {
  cases: readonly CaseDefinition[];
  collectionOf(def: CaseDefinition): Record<string, unknown>;
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
export async function replayFailures(
  run: RunResult,
  source: ReplaySource,
  environment: Record<string, unknown>,
  options: ReplayOptions,
): Promise<RetryTimeline[]> {
  const timelines: RetryTimeline[] = [];
  for (const def of source.cases) {
    const first = run.deliveries.find((d) => d.caseId === def.id);
    if (
      !first ||
      first.verdict !== 'fail' ||
      def.expect !== 'ack' ||
      (def.copies ?? 1) > 1 ||
      def.concurrent ||
      !first.request
    )
      continue;
    const collection = repeatCollection(source.collectionOf(def), first.request.body);
    const send = async (): Promise<DeliveryResult> => {
      const again = await runCollection({
        collection,
        environment,
        insecure: options.insecure,
        signal: options.signal,
      });
      options.signal?.throwIfAborted();
      return again.deliveries[0]!;
    };
    const onAttempt = options.onAttempt && ((a: RetryAttempt) => options.onAttempt!(def.id, a));
    const sleep = (ms: number): Promise<void> => delay(ms, undefined, { signal: options.signal });
    timelines.push(await replayOnSchedule(first, send, { speedup: options.speedup, onAttempt, sleep }));
  }
  return timelines;
}
