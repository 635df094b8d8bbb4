import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { EXIT, type ExitCode } from '../shared/errors.js';
import type { Severity } from '../cases/types.js';
import { secretValues } from '../collection/variables.js';
import { hasInterruptedCommit, writeFilesAtomic } from '../output/write-atomic.js';
import { prepareOutputDir } from '../output/output-dir.js';
import { generateFiles, staleFiles, strayFiles, type OutputFormat } from './generate-files.js';
import { brunoPaths } from '../collection/build-bruno.js';
import { artilleryPaths } from '../load/artillery/render-artillery.js';
import type { CommandIO } from '../shared/command-io.js';

export interface GenerateArgs {
  config: string;
  out: string;
  check: boolean;
  secrets: boolean;
  only?: string[];
  minSeverity?: Severity;
  format?: OutputFormat;
  /** `--mix` (with --format artillery): the load's kinds and weights. */
  mix?: string;
}

export async function generateCommand(args: GenerateArgs, io: CommandIO): Promise<ExitCode> {
  const config = await loadConfig(args.config, process.env, { readKeys: args.secrets });
  io.addSecrets(secretValues(config));
  const options = {
    outDir: args.out,
    withSecrets: args.secrets,
    only: args.only,
    minSeverity: args.minSeverity,
    format: args.format,
    mix: args.mix,
  };
  const files = generateFiles(config, options);
  const stray = strayFiles(config, options, files);
  const shown = (path: string): string => relative(process.cwd(), path) || path;
  if (args.check) {
    if (hasInterruptedCommit(args.out)) {
      io.err(
        `stale: a write into ${shown(args.out)} was interrupted between its files; run \`wxpay-notify generate -c ${shown(args.config)}${args.secrets ? '' : ' --no-secrets'} -o ${shown(args.out)}\` again\n`,
      );
      return EXIT.failed;
    }
    const stale = [...staleFiles(files), ...stray];
    if (stale.length === 0) {
      io.out(`up to date: ${files.map((f) => shown(f.path)).join(', ')}\n`);
      return EXIT.ok;
    }
    for (const path of stale)
      io.err(
        `stale: ${shown(path)} differs from what ${shown(args.config)} generates; run \`wxpay-notify generate -c ${shown(args.config)}${args.format && args.format !== 'postman' ? ` --format ${args.format}` : ''}${args.mix ? ` --mix ${args.mix}` : ''}${args.secrets ? '' : ' --no-secrets'} -o ${shown(args.out)}\` and commit the result\n`,
      );
    return EXIT.failed;
  }
  prepareOutputDir(args.out, '--out');
  writeFilesAtomic(files);
  for (const path of stray) {
    rmSync(path, { force: true });
    // A folder whose last request went goes too: Bruno would show it empty.
    if (readdirSync(dirname(path)).length === 0) rmdirSync(dirname(path));
  }
  for (const f of files) io.out(`wrote ${shown(f.path)}\n`);
  for (const path of stray) io.out(`removed ${shown(path)} (no longer generated)\n`);
  if (args.format === 'artillery') {
    const paths = artilleryPaths(config.name, args.out);
    io.out(
      (args.secrets
        ? `${shown(paths.env)} holds the test keys (mode 0600): do not commit it.\n`
        : `Secrets left empty (--no-secrets): fill them in ${shown(paths.env)}, or set the WXPAY_* variables it names.\n`) +
        `Run it with Artillery 2 (not a dependency of wxpay-notify): npx artillery run --dotenv ${shown(paths.env)} ${shown(paths.scenario)}\n` +
        'Distributed (run-fargate, run-lambda, run-aci) and the metrics: docs/artillery.md\n',
    );
    return EXIT.ok;
  }
  if (args.format === 'bruno') {
    const paths = brunoPaths(config.name, args.out);
    io.out(
      (args.secrets
        ? 'The environment file holds the test secrets (mode 0600) and stays outside the collection folder: do not commit it.\n'
        : 'Secrets left empty (--no-secrets): fill them in the environment file before a run.\n') +
        `Run it: cd ${shown(paths.collectionDir)} && npx @usebruno/cli run -r --env-file ../${basename(paths.environment)}\n`,
    );
    return EXIT.ok;
  }
  io.out(
    args.secrets
      ? 'The environment file holds the test secrets (mode 0600): import both files into Postman; do not commit the environment.\n'
      : 'Secrets left empty (--no-secrets): safe to commit; `wxpay-notify run` fills them from the config.\n',
  );
  return EXIT.ok;
}
