import { createReadStream, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EXIT, UserError, type ExitCode } from '../shared/errors.js';
import { loadConfig } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/types.js';
import { secretValues } from '../collection/variables.js';
import { prepareOutputDir } from '../output/output-dir.js';
import { writeFilesAtomic, type OutputFile } from '../output/write-atomic.js';
import { redact } from '../shared/redact.js';
import { RETRY_SCHEDULE_SECONDS, TIMESTAMP_WINDOW_SECONDS } from '../protocol/constants.js';
import { identifyStack, stackHint } from '../judge/fingerprints.js';
import { defaultReachabilityDeps, tcpConnect, tlsHandshake } from '../doctor/net-steps.js';
import { classifyTls, type TlsFacts } from '../doctor/classify.js';
import { bareHost } from '../doctor/host-kind.js';
import { LoadAggregate } from '../load/aggregate.js';
import { runLoad } from '../load/engine.js';
import {
  buildLoadReport,
  progressLine,
  renderLoadSummary,
  type LoadReport,
  type LoadTarget,
  type ReconciliationSummary,
} from '../load/load-report.js';
import { defaultMix, notifierConfig, parseMix } from '../load/mix.js';
import { checkLookupSpec } from '../load/lookup-spec.js';
import { reconcile, type LookupSpec, type SentRecord } from '../load/reconcile.js';
import { renderLoadHtml } from '../load/render-load-html.js';
import type { CommandIO } from '../shared/command-io.js';

import type { LoadReporter } from './load-options.js';

export interface LoadArgs {
  config: string;
  rate: number;
  duration: number;
  ramp: number;
  mix?: string;
  /** Share of notifications delivered twice (0–1), and of those the share sent at the same instant. */
  duplicates: number;
  concurrent: number;
  /** Retry what is not acknowledged on WeChat's schedule, this many times faster; undefined: no retries. */
  retrySpeedup?: number;
  timeoutMs: number;
  workers?: number;
  connections?: number;
  /** Sign every delivery before the first one goes out (short bursts above the signing rate). */
  presign: boolean;
  format: 'summary' | 'json';
  reporters: LoadReporter[];
  reporterDir: string;
  /** Percent of deliveries acknowledged, at least; p99 latency in ms, at most. */
  minAck: number;
  maxP99: number;
  lookup?: LookupSpec;
  lookupConcurrency?: number;
  /** Accept an https receiver whose certificate WeChat Pay would refuse (a test server). */
  insecure?: boolean;
}

/** Above this arrival rate signing moves to two worker threads (one thread signs ~700–900 v3/s here). */
const WORKERS_ABOVE_RATE = 300;
/** Default cap on connections: enough for 1,500/s at 150 ms; more with --connections. */
const DEFAULT_MAX_CONNECTIONS = 256;
/** A pre-signed burst must be sent well inside WeChat's 5-minute timestamp window. */
const PRESIGN_MAX_SECONDS = 60;
const PRESIGN_MAX_DELIVERIES = 1_000_000;

function check(condition: boolean, message: string): void {
  if (!condition) throw new UserError(message);
}

export function checkLoadArgs(args: LoadArgs): void {
  check(
    Number.isFinite(args.rate) && args.rate >= 1 && args.rate <= 100_000,
    `--rate must be notifications per second from 1 to 100000, got ${args.rate}`,
  );
  check(
    Number.isFinite(args.duration) && args.duration > 0 && args.duration <= 3600,
    `--duration must be seconds from 1 to 3600, got ${args.duration}`,
  );
  check(
    Number.isFinite(args.ramp) && args.ramp >= 0 && args.ramp < args.duration,
    `--ramp must be seconds from 0 up to less than --duration (${args.duration}), got ${args.ramp}`,
  );
  check(
    args.rate * (args.duration - args.ramp / 2) >= 1,
    '--rate × --duration sends less than one notification; raise either',
  );
  check(
    args.duplicates >= 0 && args.duplicates <= 1,
    `--duplicates must be a share from 0 to 1 (e.g. 0.05 for 5%), got ${args.duplicates}`,
  );
  check(
    args.concurrent >= 0 && args.concurrent <= 1,
    `--concurrent must be a share from 0 to 1 of the duplicates, got ${args.concurrent}`,
  );
  check(
    Number.isFinite(args.timeoutMs) && args.timeoutMs >= 1000 && args.timeoutMs <= 120_000,
    `--timeout must be milliseconds from 1000 to 120000, got ${args.timeoutMs}`,
  );
  check(args.minAck >= 0 && args.minAck <= 100, `--min-ack must be a percentage from 0 to 100, got ${args.minAck}`);
  check(args.maxP99 > 0, `--max-p99 must be milliseconds above 0, got ${args.maxP99}`);
  if (args.workers !== undefined)
    check(
      Number.isInteger(args.workers) && args.workers >= 0 && args.workers <= 64,
      `--workers must be a whole number from 0 (main thread) to 64, got ${args.workers}`,
    );
  if (args.connections !== undefined)
    check(
      Number.isInteger(args.connections) && args.connections >= 1 && args.connections <= 20_000,
      `--connections must be a whole number from 1 to 20000, got ${args.connections}`,
    );
  if (args.retrySpeedup !== undefined)
    check(args.retrySpeedup >= 1, `--retry-speedup must be a number ≥ 1 (1 = real time), got ${args.retrySpeedup}`);
  if (args.presign) {
    check(
      args.duration <= PRESIGN_MAX_SECONDS,
      `--presign sends notifications signed before the burst: keep --duration at most ${PRESIGN_MAX_SECONDS} s so every timestamp stays inside WeChat's ${TIMESTAMP_WINDOW_SECONDS / 60}-minute window`,
    );
    check(
      args.rate * args.duration <= PRESIGN_MAX_DELIVERIES,
      `--presign holds every delivery in memory: --rate × --duration must stay at most ${PRESIGN_MAX_DELIVERIES}`,
    );
  }
}

/**
 * The server must answer before we start: otherwise one clear line, not a flood of errors. An https
 * receiver's certificate is checked here, once, as `doctor` checks it: autocannon's TLS connections
 * accept any certificate (lib/httpClient.js in autocannon 9 sets rejectUnauthorized: false), so a
 * certificate WeChat Pay would refuse (self-signed, incomplete chain, expired, another host's) stops
 * the run unless --insecure says it is a test server.
 */
async function checkReachable(origin: string, insecure: boolean, io: CommandIO): Promise<void> {
  const url = new URL(origin);
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = bareHost(url.hostname);
  const deps = { ...defaultReachabilityDeps, timeoutMs: 3000 };
  try {
    await tcpConnect(deps, host, port);
  } catch (error) {
    const problem = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UserError(
      `cannot reach ${origin} (${problem === 'ETIMEDOUT' ? 'no answer to a TCP connect within 3 s' : problem}): start the receiver first (e.g. wxpay-notify serve), or check the notify URLs in the config`,
    );
  }
  if (!secure) return;
  const started = Date.now();
  let facts: TlsFacts;
  try {
    facts = await tlsHandshake(deps, host, port, host);
  } catch (error) {
    const problem = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UserError(`no TLS handshake with ${origin} (${problem}): is the receiver serving https on that port?`);
  }
  const verdict = classifyTls(facts, { host, insecure, nowMs: Date.now(), timeMs: Date.now() - started });
  if (verdict.level === 'error') throw new UserError(`${origin}: ${verdict.message}`);
  if (verdict.level === 'warning') io.err(`warning: ${origin}: ${verdict.message}\n`);
}

export async function loadCommand(args: LoadArgs, io: CommandIO, signal?: AbortSignal): Promise<ExitCode> {
  const config = await loadConfig(args.config);
  return loadSuite(config, args, io, signal);
}

/** `load` for an already loaded config (the tests use this directly). Nothing here touches the process. */
export async function loadSuite(
  config: ResolvedConfig,
  args: LoadArgs,
  io: CommandIO,
  signal?: AbortSignal,
): Promise<ExitCode> {
  io.addSecrets(secretValues(config));
  checkLoadArgs(args);
  const mix = args.mix ? parseMix(args.mix) : defaultMix(config);
  const notifier = notifierConfig(config, mix);
  const lookup = args.lookup && (args.lookup.url || args.lookup.command) ? args.lookup : undefined;
  if (lookup) checkLookupSpec(lookup);
  if (args.reporters.length > 0) prepareOutputDir(args.reporterDir, '--reporter-dir');
  const first = new URL(notifier.mix[0]!.url);
  await checkReachable(first.origin, args.insecure ?? false, io);

  const workers = args.workers ?? (args.rate > WORKERS_ABOVE_RATE ? Math.min(2, availableParallelism()) : 0);
  const connections = args.connections ?? Math.min(DEFAULT_MAX_CONNECTIONS, Math.ceil(args.rate));
  const target: LoadTarget = {
    origin: first.origin,
    mix: mix as Record<string, number>,
    rate: args.rate,
    durationS: args.duration,
    rampS: args.ramp,
    timeoutMs: args.timeoutMs,
    workers,
    connections,
    duplicates: args.duplicates,
    concurrent: args.concurrent,
    retrySpeedup: args.retrySpeedup ?? null,
    presign: args.presign,
  };

  // Notifications stream to a private file as they settle: reconciliation reads them back, and
  // memory holds only the histograms.
  const scratch = mkdtempSync(join(tmpdir(), 'wxpay-notify-load-records-'));
  const recordsPath = join(scratch, 'sent.ndjson');
  writeFileSync(recordsPath, '', { mode: 0o600 });
  let pending: string[] = [];
  const flushRecords = (): void => {
    if (pending.length === 0) return;
    appendFileSync(recordsPath, pending.join(''));
    pending = [];
  };
  let aggregate: LoadAggregate | undefined;
  const orders = { sent: 0, acknowledged: 0 };
  const startedAt = Date.now();
  let progress: NodeJS.Timeout | undefined;
  try {
    const sendController = new AbortController();
    const onAbort = (): void => sendController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) sendController.abort();
    if (io.tty) {
      progress = setInterval(() => {
        const c = aggregate?.counts ?? { sent: 0, acknowledged: 0, p99: 0 };
        io.err(`\r${progressLine({ ...c, elapsedMs: Date.now() - startedAt, durationS: args.duration })}\u001b[K`);
      }, 1000);
    }
    const result = await runLoad(
      notifier,
      {
        origin: first.origin,
        path: first.pathname + first.search,
        rate: args.rate,
        durationMs: args.duration * 1000,
        rampMs: args.ramp * 1000,
        timeoutMs: args.timeoutMs,
        workers,
        connections,
        duplicateShare: args.duplicates,
        concurrentShare: args.concurrent,
        retrySchedule: args.retrySpeedup ? RETRY_SCHEDULE_SECONDS.map((s) => s / args.retrySpeedup!) : null,
        presign: args.presign,
      },
      {
        started: (ms) => {
          aggregate ??= new LoadAggregate(ms);
        },
        delivery: (d) => {
          aggregate ??= new LoadAggregate(d.intendedAt);
          aggregate.add(d);
        },
        order: (o) => {
          orders.sent++;
          if (o.acknowledged) orders.acknowledged++;
          pending.push(JSON.stringify(o) + '\n');
          if (pending.length >= 1000) flushRecords();
        },
      },
      sendController.signal,
    );
    signal?.removeEventListener('abort', onAbort);
    if (progress) {
      clearInterval(progress);
      progress = undefined;
      io.err('\n');
    }
    flushRecords();
    if (result.interrupted) io.err('interrupted: stopped sending; results so far\n');

    let reconciliation: ReconciliationSummary | undefined;
    if (lookup && !result.interrupted) {
      const report = await reconcile(readRecords(recordsPath), lookup, { concurrency: args.lookupConcurrency, signal });
      reconciliation = { lookup: lookup.url ?? lookup.command ?? '', ...report };
    } else if (lookup) {
      io.err('reconciliation skipped: the run was interrupted\n');
    }

    const report: LoadReport = buildLoadReport({
      startedAt: result.startedAt,
      endedAt: result.endedAt,
      interrupted: result.interrupted,
      target,
      snapshot: (aggregate ?? new LoadAggregate(startedAt)).snapshot(),
      orders,
      notSent: result.planned,
      reconciliation,
      thresholds: { minAck: args.minAck, maxP99Ms: args.maxP99 },
      // The stack that wrote a refusal (a CSRF page, a WAF, a crash page), named as `run` names it.
      identify: (answer) => {
        const match = identifyStack(answer);
        return match && `${match.saw}: ${stackHint(match)}`;
      },
    });
    const json = JSON.stringify(report, null, 2) + '\n';
    io.out(args.format === 'json' ? json : renderLoadSummary(report));
    const secrets = secretValues(config);
    const files: OutputFile[] = args.reporters.map((name) => ({
      path: join(args.reporterDir, `${config.name}.load.${name}`),
      content: redact(name === 'json' ? json : renderLoadHtml(report), secrets),
    }));
    if (files.length > 0) {
      writeFilesAtomic(files);
      for (const f of files) io.err(`report: ${f.path}\n`);
    }
    return report.verdict === 'pass' ? EXIT.ok : EXIT.failed;
  } finally {
    if (progress) clearInterval(progress);
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function* readRecords(path: string): AsyncIterable<SentRecord> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield JSON.parse(line) as SentRecord;
}
