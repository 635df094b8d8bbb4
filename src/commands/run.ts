import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { EXIT, type ExitCode } from '../shared/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import { secretValues } from '../collection/variables.js';
import { runFailed } from '../judge/judge-run.js';
import { redact } from '../shared/redact.js';
import type { ReportMeta } from '../report/reporter.js';
import { FILE_REPORTERS, STDOUT_REPORTERS } from '../report/reporters/index.js';
import { writeFilesAtomic, type OutputFile } from '../output/write-atomic.js';
import { prepareOutputDir } from '../output/output-dir.js';
import type { CommandIO } from '../shared/command-io.js';
import { prepareRun, type RunPlan } from './prepare-run.js';
import type { ReporterName } from '../report/reporter-names.js';

export { REPORTERS, type ReporterName } from '../report/reporter-names.js';

export interface RunArgs extends RunPlan {
  config: string;
  format: 'table' | 'json';
  reporters: ReporterName[];
  reporterDir: string;
}

/**
 * Runs the suite for an already loaded config (the demo and the tests use this directly): the run
 * is an event source, and the report on stdout (--format) and every report file (--reporters) are
 * listeners of it, each rendering the one judgement `done` carries. `signal` stops the run (the
 * CLI's Ctrl-C): the reports then hold what was judged so far. Nothing here touches the process.
 */
export async function runSuite(
  config: ResolvedConfig,
  args: Omit<RunArgs, 'config'>,
  io: CommandIO,
  configLabel: string,
  signal?: AbortSignal,
): Promise<ExitCode> {
  io.addSecrets(secretValues(config));
  // A report folder that cannot be written is found now, not after every notification was sent.
  if (args.reporters.length > 0) prepareOutputDir(args.reporterDir, '--reporter-dir');
  const { run, addedControls, secrets } = prepareRun(config, args, signal);

  const meta: ReportMeta = { config: configLabel, collection: config.name, addedControls, secrets };
  // Ctrl-C: say what was learnt so far instead of dying silently.
  run.on('interrupted', () => io.err('\ninterrupted: results so far\n'));
  STDOUT_REPORTERS[args.format].listen(run, { meta, io, write: (content) => io.out(content) });
  const files: OutputFile[] = [];
  for (const name of args.reporters) {
    const path = join(args.reporterDir, `${config.name}.${FILE_REPORTERS[name].file}`);
    FILE_REPORTERS[name].listen(run, {
      meta,
      io,
      write: (content) => files.push({ path, content: redact(content, secrets) }),
    });
  }

  const judgement = await run.start();
  if (files.length > 0) {
    writeFilesAtomic(files);
    for (const f of files) io.err(`report: ${f.path}\n`);
  }
  return runFailed(judgement) ? EXIT.failed : EXIT.ok;
}

export async function runCommand(args: RunArgs, io: CommandIO, signal?: AbortSignal): Promise<ExitCode> {
  const config = await loadConfig(args.config);
  return runSuite(config, args, io, args.config, signal);
}
