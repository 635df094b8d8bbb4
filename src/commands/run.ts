import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { EXIT, type ExitCode } from '../config/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Severity } from '../cases/types.js';
import { selectCasesWithControls } from '../cases/select-cases.js';
import { buildCollection } from '../collection/build-collection.js';
import { buildEnvironment } from '../collection/build-environment.js';
import { secretValues } from '../collection/variables.js';
import { runCollection } from '../runner/run-collection.js';
import { readIterationData } from '../runner/iteration-data.js';
import { runBoundMs } from '../runner/answer-bounds.js';
import type { DeliveryResult, RunResult } from '../runner/types.js';
import { DEFAULT_FAIL_ON, summarizeCases, totals } from '../report/summarize.js';
import { renderTable } from '../report/render-table.js';
import { diagnoseRun } from '../report/diagnose-run.js';
import { renderJson } from '../report/render-json.js';
import { renderJunit } from '../report/render-junit.js';
import { renderHtml } from '../report/render-html.js';
import { redact, redactRun } from '../report/redact.js';
import { writeFilesAtomic } from '../output/write-atomic.js';
import { formatWechatOffset, renderTimeline, type RetryAttempt } from '../runner/retry-schedule.js';
import { replayFailures } from '../runner/replay-failures.js';
import { prepareOutputDir } from '../output/output-dir.js';
import type { CaseDefinition } from '../cases/types.js';
import type { CommandIO } from './io.js';

import { type ReporterName } from './reporters.js';

export { REPORTERS, type ReporterName } from './reporters.js';

export interface RunArgs {
  config: string;
  only?: string[];
  minSeverity?: Severity;
  format: 'table' | 'json';
  reporters: ReporterName[];
  reporterDir: string;
  insecure: boolean;
  data?: string;
  /** Replay failed genuine deliveries on WeChat's retry schedule, this many times faster. */
  retrySpeedup?: number;
  /** The lowest severity whose failures make the run exit 1 (default protocol; --strict = advisory). */
  failOn?: Severity;
}

function progressLine(d: DeliveryResult): string {
  const copy = d.copies > 1 ? ` #${d.copy}` : '';
  return `${d.verdict === 'pass' ? 'ok  ' : d.verdict === 'fail' ? 'FAIL' : 'skip'} ${d.caseId}${copy}${d.status ? ` ${d.status}` : ''}\n`;
}

/** Runs the suite for an already loaded config (the demo and the tests use this directly). */
export async function runSuite(config: ResolvedConfig, args: Omit<RunArgs, 'config'>, io: CommandIO, configLabel: string): Promise<ExitCode> {
  const secrets = secretValues(config);
  io.addSecrets(secrets);
  // A report folder that cannot be written is found now, not after every notification was sent.
  if (args.reporters.length > 0) prepareOutputDir(args.reporterDir, '--reporter-dir');
  const { cases, addedControls } = selectCasesWithControls(config, { only: args.only, minSeverity: args.minSeverity });
  const failOn = args.failOn ?? DEFAULT_FAIL_ON;
  const collection = buildCollection(config, cases);
  const environment = buildEnvironment(config, true);
  const iterationData = args.data ? readIterationData(args.data) : undefined;
  const deliveries: DeliveryResult[] = [];
  const started = Date.now();

  const report = (raw: RunResult): ExitCode => {
    // Masked before anything is rendered: reports quote, escape and cut what receivers answered.
    const run = redactRun(raw, secrets);
    const summaries = summarizeCases(run.deliveries, run.retries);
    const meta = { config: configLabel, collection: config.name, failOn, addedControls };
    if (args.format === 'json') io.out(renderJson(run, meta));
    else {
      io.out(renderTable(summaries, { color: io.color, diagnoses: diagnoseRun(summaries, run.deliveries), failOn, addedControls }));
      for (const timeline of run.retries ?? []) io.out('\n' + renderTimeline(timeline));
    }
    const render: Record<ReporterName, () => { file: string; content: string }> = {
      junit: () => ({ file: `${config.name}.junit.xml`, content: renderJunit(run, config.name, failOn) }),
      json: () => ({ file: `${config.name}.results.json`, content: renderJson(run, meta) }),
      html: () => ({ file: `${config.name}.report.html`, content: renderHtml(run, { name: config.name, config: configLabel, secrets, failOn }) }),
    };
    const files = args.reporters.map((name) => {
      const { file, content } = render[name]();
      return { path: join(args.reporterDir, file), content: redact(content, secrets) };
    });
    if (files.length > 0) {
      writeFilesAtomic(files);
      for (const f of files) io.err(`report: ${f.path}\n`);
    }
    const t = totals(summaries, failOn);
    return t.failed + t.skipped + t.inconclusive > 0 || run.aborted ? EXIT.failed : EXIT.ok;
  };

  // Ctrl-C: say what was learnt so far instead of dying silently.
  const onInterrupt = (): void => {
    io.err('\ninterrupted: results so far\n');
    report({ deliveries, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, aborted: true });
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    const run = await runCollection({
      collection,
      environment,
      iterationData,
      insecure: args.insecure,
      // Bound the whole run: every delivery may take its full request deadline, plus slack.
      timeoutMs: runBoundMs(deliveriesPerIteration(cases) * (iterationData?.length ?? 1)),
      onDelivery: (d) => {
        deliveries.push(d);
        if (io.tty && args.format === 'table') io.err(progressLine(d));
      },
    });
    if (args.retrySpeedup) {
      // A compressed schedule still takes about a minute: show each attempt live on a terminal.
      const onAttempt = io.tty && args.format === 'table'
        ? (caseId: string, a: RetryAttempt) => io.err(`retry ${caseId} #${a.attempt} (${formatWechatOffset(a.wechatOffsetSeconds)} WeChat time) ${a.status ?? '-'} ${a.verdict === 'pass' ? 'PASS' : 'FAIL'}\n`)
        : undefined;
      run.retries = await replayFailures(run, cases, config, environment, { speedup: args.retrySpeedup, insecure: args.insecure, onAttempt });
    }
    return report(run);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

function deliveriesPerIteration(cases: readonly CaseDefinition[]): number {
  return cases.reduce((n, c) => n + (c.copies ?? 1) + (c.concurrent ?? 0), 0);
}

export async function runCommand(args: RunArgs, io: CommandIO): Promise<ExitCode> {
  const config = await loadConfig(args.config);
  return runSuite(config, args, io, args.config);
}
