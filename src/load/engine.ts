import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { BroadcastChannel } from 'node:worker_threads';
import type { SentRecord } from './reconcile.js';
import type { DeliveryRecord } from './aggregate.js';
import { writeHookModule, type AutocannonHookOptions, type NotifierConfig } from './hook-module.js';

/**
 * Drives autocannon (https://github.com/mcollina/autocannon) with the hook module: autocannon owns
 * the connections, the per-connection rate and the worker threads; the hooks build, sign and judge
 * each delivery and stream what happened back here over a BroadcastChannel.
 *
 * What autocannon does and what we correct (read in autocannon 9's lib/httpClient.js and lib/run.js):
 * - `overallRate` is a per-connection quota per second; each connection is closed-loop (one request
 *   in flight). Its own latency starts at the actual send, and its coordinated-omission correction
 *   uses an expected interval of ceil(1/rate) = 1 ms. The hooks therefore time each delivery from its
 *   intended send time on a smooth schedule (or its actual send when that was earlier).
 * - With `workers`, every worker gets the whole `overallRate`: we pass each its share.
 * - No ramp: the hooks raise each connection's quota over the ramp.
 * - At the end of `duration` in-flight requests are dropped: each connection is instead given its
 *   number of deliveries (`responseMax`), so it stops after its last answer; `duration` is only the
 *   safety net (sending time + one request deadline).
 */

export interface LoadPlan {
  /** Origin every delivery goes to (one server; mix.ts checks). */
  origin: string;
  /** First request's path (the hooks set each one's). */
  path: string;
  /** Deliveries per second at full rate. */
  rate: number;
  durationMs: number;
  rampMs: number;
  /** Per-request deadline. */
  timeoutMs: number;
  /** 0: everything on the main thread. */
  workers: number;
  connections: number;
  duplicateShare: number;
  concurrentShare: number;
  retrySchedule: number[] | null;
  /** Sign every delivery before sending (burst mode). */
  presign: boolean;
}

export interface LoadListener {
  /** When the first worker began its schedule (its first request): the run's second 0. */
  started?(atMs: number): void;
  delivery(record: DeliveryRecord): void;
  order(record: SentRecord): void;
}

export interface EngineResult {
  startedAt: number;
  endedAt: number;
  /** Ctrl-C (the signal) stopped sending early. */
  interrupted: boolean;
  /** Deliveries the schedule called for that never went out (every connection was still waiting). */
  planned: number;
  /** The engine's own counters, to cross-check ours. */
  engine: { requests: number; timeouts: number; errors: number };
}

interface AutocannonResult {
  requests: { total: number };
  timeouts: number;
  errors: number;
}
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (error: Error | null, result: AutocannonResult) => void,
) => { stop(): void };

const requireHere = createRequire(import.meta.url);

/**
 * Young generation of each signing thread's heap, in MB per semi-space. V8's default lets a busy
 * isolate's young generation grow to ~32 MB; a delivery's garbage dies young, so 4 MB costs no
 * measurable CPU (scavenges copy only what survives) and keeps ~25 MB per thread out of the peak RSS
 * (bench row 8: 318 → 265 MB for the pre-signed burst). autocannon creates the workers, so no
 * `resourceLimits` can be passed: the V8 flag is set while they start (new isolates read it) and
 * put back to V8's default (0: sized by V8) when the run ends.
 */
const WORKER_SEMI_SPACE_MB = 4;

export async function runLoad(
  notifier: NotifierConfig,
  plan: LoadPlan,
  listener: LoadListener,
  signal?: AbortSignal,
): Promise<EngineResult> {
  const autocannon = requireHere('autocannon') as Autocannon;
  const hooks = writeHookModule();
  const channelName = `wxpay-notify-load-${process.pid}-${randomBytes(6).toString('hex')}`;
  const channel = new BroadcastChannel(channelName);
  const threads = Math.max(1, plan.workers);
  const ratePerWorker = plan.rate / threads;
  const perWorkerDeliveries = Math.max(1, Math.round(ratePerWorker * ((plan.durationMs - plan.rampMs / 2) / 1000)));
  const options: AutocannonHookOptions = {
    notifier,
    channel: channelName,
    ratePerWorker,
    rampMs: plan.rampMs,
    sendMs: plan.durationMs,
    timeoutMs: plan.timeoutMs,
    duplicateShare: plan.duplicateShare,
    concurrentShare: plan.concurrentShare,
    retrySchedule: plan.retrySchedule,
    presigned: plan.presign ? perWorkerDeliveries : 0,
    host: new URL(plan.origin).host,
  };
  const ended = new Set<number>();
  let endedAll: () => void = () => undefined;
  const allEnded = new Promise<void>((resolve) => (endedAll = resolve));
  let sent = 0;
  channel.onmessage = (event: unknown) => {
    const data = (
      event as {
        data: { type: string; thread: number; start?: number; deliveries?: DeliveryRecord[]; orders?: SentRecord[] };
      }
    ).data;
    if (data.type === 'batch') {
      if (data.start) listener.started?.(data.start);
      for (const d of data.deliveries ?? []) {
        sent++;
        listener.delivery(d);
      }
      for (const o of data.orders ?? []) listener.order(o);
    } else if (data.type === 'end') {
      ended.add(data.thread);
      if (ended.size >= threads) endedAll();
    }
  };
  const connectionsPerThread = Math.max(1, Math.min(Math.floor(plan.connections / threads), Math.floor(ratePerWorker)));
  const common = {
    url: plan.origin,
    connections: connectionsPerThread * threads,
    overallRate: Math.max(1, Math.floor(ratePerWorker)),
    // The safety net only: connections stop on their own after their share (autocannon-hooks.cjs, responseMax).
    duration: (plan.durationMs + plan.timeoutMs) / 1000 + 3,
    timeout: plan.timeoutMs / 1000,
    pipelining: 1,
    excludeErrorStats: false,
    wxpayLoad: options,
  };
  let interrupted = false;
  let hardStop: NodeJS.Timeout | undefined;
  let instance: { stop(): void } | undefined;
  let forceEnd: () => void = () => undefined;
  const onAbort = (): void => {
    interrupted = true;
    channel.postMessage({ type: 'stop' });
    // In-flight deliveries get their deadline; then the engine is stopped whatever is left.
    hardStop = setTimeout(() => {
      instance?.stop();
      // A stopped autocannon with workers never calls back: settle with what was reported.
      setTimeout(() => forceEnd(), 3000).unref();
    }, plan.timeoutMs + 1000);
  };
  const startedAt = Date.now();
  if (plan.workers > 0) setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
  try {
    const result = await new Promise<AutocannonResult | undefined>((resolve, reject) => {
      const done = (error: Error | null, r: AutocannonResult): void => (error ? reject(error) : resolve(r));
      forceEnd = () => resolve(undefined);
      if (plan.workers > 0) {
        instance = autocannon(
          {
            ...common,
            workers: plan.workers,
            setupClient: hooks.setupClient,
            requests: [
              { method: 'POST', path: plan.path, setupRequest: hooks.setupRequest, onResponse: hooks.onResponse },
            ],
          },
          done,
        );
      } else {
        const module = requireHere(hooks.modulePath) as {
          createAutocannonHooks(o: AutocannonHookOptions): Record<string, (...args: unknown[]) => unknown>;
        };
        const h = module.createAutocannonHooks(options);
        instance = autocannon(
          {
            ...common,
            setupClient: h.setupClient,
            requests: [{ method: 'POST', path: plan.path, setupRequest: h.setupRequest, onResponse: h.onResponse }],
          },
          done,
        );
      }
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      // After a hard stop autocannon's workers never report: the hooks' own end messages settle it.
      void allEnded.then(() => setTimeout(() => resolve(undefined), 2000).unref());
    });
    // The hooks flush their last records when their connections are done.
    await Promise.race([allEnded, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    const planned = Math.max(0, Math.round(plan.rate * ((plan.durationMs - plan.rampMs / 2) / 1000)) - sent);
    return {
      startedAt,
      endedAt: Date.now(),
      interrupted,
      planned: interrupted ? 0 : planned,
      engine: {
        requests: result?.requests.total ?? sent,
        timeouts: result?.timeouts ?? 0,
        errors: result?.errors ?? 0,
      },
    };
  } finally {
    if (plan.workers > 0) setFlagsFromString('--max-semi-space-size=0');
    signal?.removeEventListener('abort', onAbort);
    if (hardStop) clearTimeout(hardStop);
    channel.close();
    hooks.remove();
  }
}
