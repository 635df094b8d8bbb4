import { EventEmitter } from 'node:events';
import type { Severity } from '../cases/types.js';
import { judgeRun, type RunJudgement } from '../judge/judge-run.js';
import { redactRun } from '../shared/redact.js';
import { replayFailures, type ReplaySource } from './replay-failures.js';
import type { RetryAttempt } from '../judge/types.js';
import { runCollection } from './run-collection.js';
import type { DeliveryResult, RunResult } from '../judge/types.js';

/**
 * What a run tells its listeners (the reporters), in this order: each delivery as it is judged,
 * each retry attempt, `interrupted` if it was stopped, then `done` exactly once. Every result is
 * masked (secrets replaced) before it is handed on.
 */
export interface RunEventMap {
  delivery: [delivery: DeliveryResult];
  /** `run --retry-schedule`: a failed delivery was sent again on WeChat's schedule. */
  retryAttempt: [caseId: string, attempt: RetryAttempt];
  /** The run was stopped (Ctrl-C): `done` follows at once with what was judged so far. */
  interrupted: [];
  /**
   * The run is over: finished, out of time, or interrupted (`aborted` for the last two), and judged
   * once: every listener renders this same judgement.
   */
  done: [judgement: RunJudgement];
}

/** The run as its listeners see it: subscribe only (as a newman reporter does to newman's run). */
export type RunEvents = Pick<EventEmitter<RunEventMap>, 'on' | 'once'>;

export interface SuiteRunOptions {
  collection: Record<string, unknown>;
  environment: Record<string, unknown>;
  iterationData?: Record<string, unknown>[];
  insecure: boolean;
  /** The whole run's time limit (the replay comes after it). */
  timeoutMs: number;
  /** Masked in every result before any listener sees it. */
  secrets: readonly string[];
  /** The lowest severity whose failures fail the run (the judgement's totals count against it). */
  failOn?: Severity;
  /** Replay failed genuine deliveries on WeChat's retry schedule, this many times faster. */
  retry?: { speedup: number } & ReplaySource;
  /** Stops the run: `interrupted`, then `done` with the deliveries judged so far; nothing more is sent. */
  signal?: AbortSignal;
}

/**
 * One run of the suite as an event source: it sends and judges (runCollection), replays failures
 * on WeChat's schedule, and says what happened; what becomes of it is the listeners' business.
 * It never touches the process: whoever owns the signal decides what Ctrl-C means.
 */
export class SuiteRun extends EventEmitter<RunEventMap> {
  private readonly deliveries: DeliveryResult[] = [];
  private result: RunJudgement | undefined;

  constructor(private readonly options: SuiteRunOptions) {
    super();
  }

  /** Runs once (listeners are attached before) and resolves with the judgement `done` carried. */
  start(): Promise<RunJudgement> {
    const { signal } = this.options;
    const started = Date.now();
    return new Promise<RunJudgement>((resolve, reject) => {
      const finish = (run: Omit<RunResult, 'deliveries'>, interrupted = false): void => {
        if (this.result) return;
        signal?.removeEventListener('abort', interrupt);
        try {
          this.result = judgeRun({ deliveries: [...this.deliveries], ...run }, { failOn: this.options.failOn });
          if (interrupted) this.emit('interrupted');
          this.emit('done', this.result);
          resolve(this.result);
        } catch (error) {
          reject(error);
        }
      };
      const interrupt = (): void =>
        finish({ startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, aborted: true }, true);
      if (signal?.aborted) {
        interrupt();
        return;
      }
      signal?.addEventListener('abort', interrupt, { once: true });
      this.send().then(
        ({ deliveries: _raw, ...run }) => finish(run),
        (error: unknown) => {
          // Once stopped, whatever was still under way no longer matters.
          if (this.result) return;
          signal?.removeEventListener('abort', interrupt);
          reject(error);
        },
      );
    });
  }

  private async send(): Promise<RunResult> {
    const { secrets, retry, signal } = this.options;
    const run = await runCollection({
      collection: this.options.collection,
      environment: this.options.environment,
      iterationData: this.options.iterationData,
      insecure: this.options.insecure,
      timeoutMs: this.options.timeoutMs,
      signal,
      onDelivery: (raw) => {
        // Masked before anyone renders it: reports quote, escape and cut what receivers answered.
        const delivery = redactRun(raw, secrets);
        this.deliveries.push(delivery);
        this.emit('delivery', delivery);
      },
    });
    if (retry) {
      // The replay repeats the notification exactly as first sent: it reads the unmasked results.
      const retries = await replayFailures(run, retry, this.options.environment, {
        speedup: retry.speedup,
        insecure: this.options.insecure,
        signal,
        onAttempt: (caseId, attempt) => this.emit('retryAttempt', caseId, attempt),
      });
      run.retries = redactRun(retries, secrets);
    }
    return run;
  }
}
