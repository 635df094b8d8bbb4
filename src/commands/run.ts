import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { EXIT, type ExitCode } from '../config/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import type { CaseDefinition, Severity } from '../cases/types.js';
import { selectCasesWithControls } from '../cases/select-cases.js';
import { buildCollection } from '../collection/build-collection.js';
import { buildEnvironment } from '../collection/build-environment.js';
import { secretValues } from '../collection/variables.js';
import { readIterationData } from '../runner/iteration-data.js';
import { runBoundMs } from '../runner/answer-bounds.js';
import { SuiteRun } from '../runner/suite-run.js';
import { DEFAULT_FAIL_ON, summarizeCases, totals } from '../report/summarize.js';
import { redact } from '../report/redact.js';
import type { ReportMeta } from '../report/reporter.js';
import { FILE_REPORTERS, STDOUT_REPORTERS } from '../report/reporters/index.js';
import { writeFilesAtomic, type OutputFile } from '../output/write-atomic.js';
import { prepareOutputDir } from '../output/output-dir.js';
import type { CommandIO } from './io.js';
import type { ReporterName } from './reporters.js';

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

/**
 * Runs the suite for an already loaded config (the demo, the runner library and the tests use this
 * directly): the run is an event source, and the report on stdout (--format) and every report file
 * (--reporters) are listeners of it. `signal` stops the run (the CLI's Ctrl-C): the reports then
 * hold what was judged so far. Nothing here touches the process.
 */
export async function runSuite(config: ResolvedConfig, args: Omit<RunArgs, 'config'>, io: CommandIO, configLabel: string, signal?: AbortSignal): Promise<ExitCode> {
  const secrets = secretValues(config);
  io.addSecrets(secrets);
  // A report folder that cannot be written is found now, not after every notification was sent.
  if (args.reporters.length > 0) prepareOutputDir(args.reporterDir, '--reporter-dir');
  const { cases, addedControls } = selectCasesWithControls(config, { only: args.only, minSeverity: args.minSeverity });
  const failOn = args.failOn ?? DEFAULT_FAIL_ON;
  const collection = buildCollection(config, cases);
  const environment = buildEnvironment(config, true);
  const iterationData = args.data ? readIterationData(args.data, { order: config.order, secrets }) : undefined;
  const run = new SuiteRun({
    collection,
    environment,
    iterationData,
    insecure: args.insecure,
    // Bound the whole run: every delivery may take its full request deadline, plus slack.
    timeoutMs: runBoundMs(deliveriesPerIteration(cases) * (iterationData?.length ?? 1)),
    secrets,
    retry: args.retrySpeedup ? { speedup: args.retrySpeedup, cases, config } : undefined,
    signal,
  });

  const meta: ReportMeta = { config: configLabel, collection: config.name, failOn, addedControls, secrets };
  // Ctrl-C: say what was learnt so far instead of dying silently.
  run.on('interrupted', () => io.err('\ninterrupted: results so far\n'));
  STDOUT_REPORTERS[args.format].listen(run, { meta, io, write: (content) => io.out(content) });
  const files: OutputFile[] = [];
  for (const name of args.reporters) {
    const path = join(args.reporterDir, `${config.name}.${FILE_REPORTERS[name].file}`);
    FILE_REPORTERS[name].listen(run, { meta, io, write: (content) => files.push({ path, content: redact(content, secrets) }) });
  }

  const result = await run.start();
  if (files.length > 0) {
    writeFilesAtomic(files);
    for (const f of files) io.err(`report: ${f.path}\n`);
  }
  const t = totals(summarizeCases(result.deliveries, result.retries), failOn);
  return t.failed + t.skipped + t.inconclusive > 0 || result.aborted ? EXIT.failed : EXIT.ok;
}

function deliveriesPerIteration(cases: readonly CaseDefinition[]): number {
  return cases.reduce((n, c) => n + (c.copies ?? 1) + (c.concurrent ?? 0), 0);
}

export async function runCommand(args: RunArgs, io: CommandIO, signal?: AbortSignal): Promise<ExitCode> {
  const config = await loadConfig(args.config);
  return runSuite(config, args, io, args.config, signal);
}
