#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT, exitCodeFor, UserError, type ExitCode } from './shared/errors.js';
import { SEVERITIES, type Severity } from './cases/types.js';
import { processIO, type CommandIO } from './shared/command-io.js';
import { REPORTERS, type ReporterName } from './report/reporter-names.js';
import { OUTPUT_FORMATS, type OutputFormat } from './commands/output-formats.js';
import { DEFAULT_RETRY_SPEEDUP } from './runner/retry-schedule.js';
import { describeBounds } from './shared/limits.js';
import { KEY_MODES, type KeyMode } from './keys/key-mode.js';
import { CONFIG_FILE_NAMES, defaultConfigFile } from './config/config-file-name.js';
import { PACKAGE_VERSION } from './package-info.js';
import { LOAD_DEFAULTS, LOAD_REPORTERS, type LoadReporter } from './commands/load-options.js';

// Command modules are imported only once their command is chosen: `run` pulls in newman and
// postman-collection (most of a second and ~80 MB), which `--help` or `lint-url` must not pay for.

/** `--mix` of `load` and of `generate --format artillery`: the same kinds, weights and default. */
const MIX_DESCRIBE =
  "kinds and weights, e.g. v3.pay=4,v3.refund=1,v2.pay=1 (default: the config's newest version, 4 payments to 1 refund)";

const CONFIG_OPTION = {
  alias: 'c',
  type: 'string',
  defaultDescription: CONFIG_FILE_NAMES.join(', else '),
  describe: 'config file (JSON with comments, or YAML)',
} as const;

/** The config a command reads: `-c`, else the first of CONFIG_FILE_NAMES in the current folder. */
const configFile = (given: string | undefined): string => given ?? defaultConfigFile(process.cwd());

function listOption(value: string[] | undefined): string[] | undefined {
  const items = (value ?? [])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

function reporterList(value: string[] | undefined): ReporterName[] {
  const names = listOption(value) ?? [];
  for (const name of names) {
    if (!REPORTERS.includes(name as ReporterName))
      throw new UserError(`unknown reporter "${name}"; choose from ${REPORTERS.join(', ')}`);
  }
  return names as ReporterName[];
}

function loadReporterList(value: string[] | undefined): LoadReporter[] {
  const names = listOption(value) ?? [];
  for (const name of names) {
    if (!LOAD_REPORTERS.includes(name as LoadReporter))
      throw new UserError(`unknown load reporter "${name}"; choose from ${LOAD_REPORTERS.join(', ')}`);
  }
  return names as LoadReporter[];
}

function positiveSpeedup(value: number): number {
  if (!Number.isFinite(value) || value < 1)
    throw new UserError(`--retry-speedup must be a number ≥ 1 (1 = real time), got ${value}`);
  return value;
}

/** The exit code after Ctrl-C stopped a run: 128 + SIGINT, what a shell reports for a process Ctrl-C ended. */
export const EXIT_INTERRUPTED = 130;
export type CliExitCode = ExitCode | typeof EXIT_INTERRUPTED;

/**
 * Ctrl-C while a run sends (run, demo, load) stops the run: its reports say what was judged so far, and
 * the CLI exits 130. Decided here only: the commands and the library get a signal, never the process.
 */
async function interruptible(work: (signal: AbortSignal) => Promise<ExitCode>): Promise<CliExitCode> {
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  try {
    const code = await work(controller.signal);
    return controller.signal.aborted ? EXIT_INTERRUPTED : code;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}

/** Parses argv and runs one command; returns the exit code (only main() exits). */
export async function cli(argv: string[], io: CommandIO): Promise<CliExitCode> {
  // Handlers only choose the work; it starts once parsing succeeded (yargs calls a handler even when
  // strict mode then rejects the command line).
  let pending: (() => Promise<CliExitCode>) | undefined;
  let usageError: string | undefined;
  const parser = yargs(argv)
    .scriptName('wxpay-notify')
    .usage('$0 <command> [options]\n\nProve that a WeChat Pay (微信支付) notify_url acknowledges callbacks correctly.')
    .command(
      'init',
      'write an example config, fresh TEST keys and the merchant trust kit',
      (y) =>
        y
          .option('dir', { type: 'string', default: '.', describe: 'folder to write into' })
          .option('force', { type: 'boolean', default: false, describe: 'replace existing files' })
          .option('key-mode', {
            choices: KEY_MODES,
            default: 'both' as KeyMode,
            describe:
              'what your test server verifies v3 callbacks with: the WeChat Pay public key (微信支付公钥), the platform certificate (平台证书), or both (switch-over; adds the key-mode cases)',
          })
          .example('$0 init --dir wxpay-test', '')
          .example(
            '$0 init --dir wxpay-test --key-mode certificate',
            'a merchant that still verifies with platform certificates',
          ),
      (a) => {
        pending = async () =>
          (await import('./commands/init.js')).initCommand(
            { dir: a.dir, force: a.force, keyMode: a['key-mode'] as KeyMode },
            io,
          );
      },
    )
    .command(
      'generate',
      'write the Postman (or Bruno) collection and environment',
      (y) =>
        y
          .option('config', CONFIG_OPTION)
          .option('out', { alias: 'o', type: 'string', default: 'collections', describe: 'output folder' })
          .option('check', { type: 'boolean', default: false, describe: 'exit 1 if the files on disk are stale' })
          .option('secrets', {
            type: 'boolean',
            default: true,
            describe: 'write secrets into the environment (--no-secrets leaves them empty)',
          })
          .option('only', { type: 'string', array: true, describe: 'case ids or globs, e.g. v2.* or v3.refund' })
          .option('min-severity', { choices: SEVERITIES, describe: 'leave out cases below this severity' })
          .option('mix', { type: 'string', describe: `with --format artillery: ${MIX_DESCRIBE}` })
          .option('format', {
            choices: OUTPUT_FORMATS,
            default: 'postman' as OutputFormat,
            describe:
              'postman: collection + environment JSON; bruno: a Bruno collection folder + environment; artillery: a load scenario + processor for Artillery 2 (docs/artillery.md)',
          })
          .example('$0 generate -c wxpay-notify.jsonc -o collections/', '')
          .example('$0 generate -c wxpay-notify.jsonc -o collections/ --format bruno', '')
          .example('$0 generate -c wxpay-notify.jsonc -o load/ --format artillery', ''),
      (a) => {
        pending = async () =>
          (await import('./commands/generate.js')).generateCommand(
            {
              config: configFile(a.config),
              out: a.out,
              check: a.check,
              secrets: a.secrets,
              only: listOption(a.only),
              minSeverity: a['min-severity'] as Severity | undefined,
              format: a.format as OutputFormat,
              mix: a.mix,
            },
            io,
          );
      },
    )
    .command(
      'run',
      'send every case to the notify URLs with newman and judge the answers',
      (y) =>
        y
          .option('config', CONFIG_OPTION)
          .option('only', { type: 'string', array: true, describe: 'case ids or globs, e.g. v2.* or v3.refund' })
          .option('min-severity', { choices: SEVERITIES, describe: 'leave out cases below this severity' })
          .option('format', {
            choices: ['table', 'json'] as const,
            default: 'table' as const,
            describe: 'stdout format',
          })
          .option('reporters', { type: 'string', array: true, describe: `report files: ${REPORTERS.join(',')}` })
          .option('reporter-dir', { type: 'string', default: 'reports', describe: 'folder for report files' })
          .option('insecure', {
            type: 'boolean',
            default: false,
            describe: 'accept self-signed TLS certificates (test servers only)',
          })
          .option('data', {
            type: 'string',
            describe: 'CSV or JSON rows; each row overrides order fields (one notification per row)',
          })
          .option('retry-schedule', {
            type: 'boolean',
            default: false,
            describe:
              "replay failed deliveries on WeChat's retry schedule (15s, 15s, 30s, 3m … 6h), re-signed each time",
          })
          .option('retry-speedup', {
            type: 'number',
            default: DEFAULT_RETRY_SPEEDUP,
            describe: 'how many times faster than real time (default: the 24h4m schedule in about a minute)',
          })
          .option('fail-on', {
            choices: SEVERITIES,
            default: 'protocol' as Severity,
            describe:
              'lowest severity whose failures make the run exit 1; advisory findings below it are reported only',
          })
          .option('strict', {
            type: 'boolean',
            default: false,
            describe: 'exit 1 on advisory findings too (same as --fail-on advisory)',
          })
          .example('$0 run -c wxpay-notify.jsonc --reporters junit --reporter-dir reports', '')
          .epilogue(
            `Exit codes: 0 every protocol and security case passed; 1 a protocol or security case failed, was skipped or could not be judged (inconclusive), or, with --strict, an advisory case failed; 2 bad usage or config.\n\n${describeBounds()}`,
          ),
      (a) => {
        pending = () =>
          interruptible(async (signal) =>
            (await import('./commands/run.js')).runCommand(
              {
                config: configFile(a.config),
                only: listOption(a.only),
                minSeverity: a['min-severity'] as Severity | undefined,
                format: a.format,
                reporters: reporterList(a.reporters),
                reporterDir: a['reporter-dir'],
                insecure: a.insecure,
                data: a.data,
                retrySpeedup: a['retry-schedule'] ? positiveSpeedup(a['retry-speedup']) : undefined,
                failOn: a.strict ? 'advisory' : (a['fail-on'] as Severity),
              },
              io,
              signal,
            ),
          );
      },
    )
    .command(
      'load',
      'send distinct signed notifications at a target rate, judge every answer, and check nothing was lost',
      (y) =>
        y
          .option('config', CONFIG_OPTION)
          .option('rate', {
            alias: 'r',
            type: 'number',
            default: LOAD_DEFAULTS.rate,
            describe: 'deliveries per second (arrival rate)',
          })
          .option('duration', {
            alias: 'd',
            type: 'number',
            default: LOAD_DEFAULTS.duration,
            describe: 'seconds of sending (the ramp included)',
          })
          .option('ramp', {
            type: 'number',
            default: LOAD_DEFAULTS.ramp,
            describe: 'seconds to rise from zero to --rate',
          })
          .option('mix', { type: 'string', describe: MIX_DESCRIBE })
          .option('duplicates', {
            type: 'number',
            default: LOAD_DEFAULTS.duplicates,
            describe: 'share of notifications WeChat delivers twice (0–1)',
          })
          .option('concurrent', {
            type: 'number',
            default: LOAD_DEFAULTS.concurrent,
            describe: 'share of those second copies sent at the same instant (0–1)',
          })
          .option('retry', {
            type: 'boolean',
            default: false,
            describe: "retry what is not acknowledged on WeChat's schedule (15s, 15s, 30s, 3m …), re-signed",
          })
          .option('retry-speedup', {
            type: 'number',
            default: DEFAULT_RETRY_SPEEDUP,
            describe: 'how many times faster than real time the retries come',
          })
          .option('timeout', {
            type: 'number',
            default: LOAD_DEFAULTS.timeoutMs,
            describe: 'ms to wait for an answer before counting a timeout',
          })
          .option('workers', {
            type: 'number',
            describe: 'signing threads (default: 2 above 300/s, else the main thread)',
          })
          .option('connections', {
            type: 'number',
            describe: 'connections to keep open (default: the rate, at most 256)',
          })
          .option('presign', {
            type: 'boolean',
            default: false,
            describe: 'sign every delivery before the burst (≥ 10,000/s for short bursts; at most 60 s)',
          })
          .option('format', {
            choices: ['summary', 'json'] as const,
            default: 'summary' as const,
            describe: 'stdout format',
          })
          .option('reporters', { type: 'string', array: true, describe: 'report files: json,html' })
          .option('reporter-dir', { type: 'string', default: 'reports', describe: 'folder for report files' })
          .option('min-ack', {
            type: 'number',
            default: LOAD_DEFAULTS.minAck,
            describe: 'exit 1 below this % of deliveries acknowledged',
          })
          .option('max-p99', {
            type: 'number',
            default: LOAD_DEFAULTS.maxP99,
            describe: 'exit 1 above this p99 latency (ms)',
          })
          .option('lookup', {
            alias: 'lookup-url',
            type: 'string',
            describe:
              'after the burst, look every acknowledged notification up: URL template, e.g. http://127.0.0.1:8080/orders/{out_trade_no}',
          })
          .option('lookup-command', {
            type: 'string',
            describe: 'or a command template run per notification (no shell), e.g. "psql -tAc … {out_trade_no}"',
          })
          .option('lookup-concurrency', { type: 'number', describe: 'lookups in flight at once (default 8)' })
          .option('insecure', {
            type: 'boolean',
            default: false,
            describe: 'accept an https receiver whose certificate WeChat Pay would refuse (test servers only)',
          })
          .example('$0 load -c wxpay-notify.jsonc --rate 300 --duration 60 --ramp 10', '')
          .example(
            '$0 load -c wxpay-notify.jsonc --rate 1500 --duration 60 --lookup "http://127.0.0.1:8080/orders/{out_trade_no}" --reporters json,html',
            '',
          )
          .epilogue(
            'Exit codes: 0 every threshold met (and, with a lookup, nothing lost, duplicated or recorded with a wrong amount); 1 a threshold failed or a finding; 2 bad usage or config (or the receiver cannot be reached); 130 Ctrl-C. Manual: docs/load.md',
          ),
      (a) => {
        pending = () =>
          interruptible(async (signal) =>
            (await import('./commands/load.js')).loadCommand(
              {
                config: configFile(a.config),
                rate: a.rate,
                duration: a.duration,
                ramp: a.ramp,
                mix: a.mix,
                duplicates: a.duplicates,
                concurrent: a.concurrent,
                retrySpeedup: a.retry ? a['retry-speedup'] : undefined,
                timeoutMs: a.timeout,
                workers: a.workers,
                connections: a.connections,
                presign: a.presign,
                format: a.format,
                reporters: loadReporterList(a.reporters),
                reporterDir: a['reporter-dir'],
                minAck: a['min-ack'],
                maxP99: a['max-p99'],
                lookup: a.lookup || a['lookup-command'] ? { url: a.lookup, command: a['lookup-command'] } : undefined,
                lookupConcurrency: a['lookup-concurrency'],
                insecure: a.insecure,
              },
              io,
              signal,
            ),
          );
      },
    )
    .command(
      'serve',
      'run the reference merchant receiver (a correct notify endpoint)',
      (y) =>
        y
          .option('config', CONFIG_OPTION)
          .option('port', {
            alias: 'p',
            type: 'string',
            describe: "TCP port, 0 to 65535 (0 picks a free one); default: the port of the config's notify URLs",
          })
          .option('host', { type: 'string', default: '127.0.0.1' })
          .option('quiet', {
            type: 'boolean',
            default: false,
            describe: 'no line per acknowledged notification (refusals and faults still print): for load',
          })
          .option('drop-every', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'acknowledge, then lose the record of every Nth processed notification',
          })
          .option('drop-share', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'acknowledge, then lose this share of records (0.01 or 1%), picked by --fault-seed',
          })
          .option('fault-seed', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'seed of --drop-share (default 1): same seed, same records lost',
          })
          .option('slow-at', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'slow down with the arrival rate: answers take 5.5 s at this many notifications/s',
          })
          .option('slow-delay', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'answer time in ms at --slow-at (default 5500)',
          })
          .option('race-window', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'processing takes this many ms; a copy arriving meanwhile gets 500 (unique key)',
          })
          .option('not-idempotent', {
            type: 'boolean',
            group: 'Fault switches (for load):',
            describe: 'process every copy again (the lookup counts times_processed)',
          })
          .option('max-connections', {
            type: 'string',
            group: 'Fault switches (for load):',
            describe: 'close connections beyond this many open at once',
          })
          .example(
            '$0 serve -c wxpay-notify.jsonc',
            'listens where the notify URLs point (e.g. http://127.0.0.1:8080/wxpay/v3/notify)',
          )
          .example(
            '$0 serve -c wxpay-notify.jsonc --quiet --drop-share 1%',
            'a handler that loses 1% of what it acknowledges (load reconciles and names them)',
          ),
      (a) => {
        pending = async () =>
          (await import('./commands/serve.js')).serveCommand(
            {
              config: configFile(a.config),
              port: a.port,
              host: a.host,
              quiet: a.quiet,
              dropEvery: a['drop-every'],
              dropShare: a['drop-share'],
              faultSeed: a['fault-seed'],
              slowAt: a['slow-at'],
              slowDelay: a['slow-delay'],
              raceWindow: a['race-window'],
              notIdempotent: a['not-idempotent'],
              maxConnections: a['max-connections'],
            },
            io,
          );
      },
    )
    .command(
      'doctor',
      'walk through why WeChat Pay callbacks might not arrive: config, URL rules, reachability',
      (y) =>
        y
          .option('config', CONFIG_OPTION)
          .option('allow-private', { type: 'boolean', default: false, describe: 'check loopback/private test servers' })
          .option('insecure', {
            type: 'boolean',
            default: false,
            describe: 'accept self-signed TLS (test servers only)',
          })
          .option('format', { choices: ['table', 'json'] as const, default: 'table' as const })
          .option('skip-network', { type: 'boolean', default: false, describe: 'rules only, no DNS/TCP/TLS/probe' })
          .example('$0 doctor -c wxpay-notify.jsonc', '')
          .example('$0 doctor -c wxpay-notify.jsonc --allow-private --insecure', 'a test server on a private network'),
      (a) => {
        pending = async () =>
          (await import('./commands/doctor.js')).doctorCommand(
            {
              config: configFile(a.config),
              allowPrivate: a['allow-private'],
              insecure: a.insecure,
              format: a.format,
              skipNetwork: a['skip-network'],
            },
            io,
          );
      },
    )
    .command(
      'lint-url <url>',
      "check one notify_url against WeChat Pay's rules (no network)",
      (y) =>
        y
          .positional('url', { type: 'string', demandOption: true, describe: 'the notify_url' })
          .option('allow-private', {
            type: 'boolean',
            default: false,
            describe: 'accept loopback/private hosts (test servers)',
          })
          .option('format', { choices: ['table', 'json'] as const, default: 'table' as const })
          .example('$0 lint-url "https://shop.example.com/wxpay/notify"', ''),
      (a) => {
        pending = async () =>
          (await import('./commands/lint-url.js')).lintUrlCommand(
            { url: a.url, allowPrivate: a['allow-private'], format: a.format },
            io,
          );
      },
    )
    .command(
      'demo',
      'run the whole suite against the built-in reference receiver (npm start)',
      (y) => y,
      () => {
        pending = () =>
          interruptible(async (signal) => (await import('./commands/demo.js')).demoCommand(io, { signal }));
      },
    )
    .demandCommand(1, 'name a command: init, generate, run, load, serve, doctor, lint-url or demo')
    .strict()
    .recommendCommands()
    .help()
    // Our own version: yargs would otherwise report the nearest package.json, i.e. the host project's.
    .version(PACKAGE_VERSION)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      usageError = message;
    });
  try {
    await parser.parseAsync();
    if (usageError) {
      io.err(`wxpay-notify: ${usageError}\nrun \`wxpay-notify --help\` for the commands and options\n`);
      return EXIT.usage;
    }
    return pending ? await pending() : EXIT.ok;
  } catch (error) {
    if (error instanceof UserError) io.err(`wxpay-notify: ${error.message.split('\n').join('\nwxpay-notify: ')}\n`);
    else
      io.err(
        `wxpay-notify: internal error (a bug, please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    return exitCodeFor(error);
  }
}

// Run only when executed (directly or through the npm bin link), not when imported by tests.
const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  void cli(hideBin(process.argv), processIO()).then((code) => {
    // Interrupted: the reports are out; what the stopped run still had under way is abandoned.
    if (code === EXIT_INTERRUPTED) process.exit(code);
    process.exitCode = code;
  });
}
