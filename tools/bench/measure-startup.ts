import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { hasGnuTime, runChild } from './child.js';
import type { BenchContext, MeasureResult } from './harness.js';
import { infoRow, metFrom, type BenchRow } from './render-bench.js';
import { formatMs, formatRatio, median } from './stats.js';

/** The product as users run it (npm run bench builds dist/ first). */
const CLI = join(PACKAGE_ROOT, 'dist', 'cli.js');

/** Commands that must feel instant: they load neither Newman nor postman-collection. */
export const STARTUP_TARGET = { ratio: 4, rssMb: 80 } as const;

export interface StartupSample {
  wallMs: number;
  rssKb?: number;
}

/** One row: a command's median start-up against bare Node's, and its peak memory. */
export function startupRow(label: string, command: readonly StartupSample[], bare: readonly StartupSample[]): BenchRow {
  const ms = median(command.map((s) => s.wallMs));
  const baseMs = median(bare.map((s) => s.wallMs));
  const rss = command.every((s) => s.rssKb !== undefined) ? median(command.map((s) => s.rssKb!)) / 1024 : undefined;
  const ratio = ms / baseMs;
  return {
    metric: `7. ${label} ÷ \`node -e 0\`, wall time; peak RSS`,
    value: `${formatRatio(ratio)} (${formatMs(ms)} vs ${formatMs(baseMs)}); ${rss === undefined ? 'RSS n/a' : `${rss.toFixed(0)} MB`}`,
    target: `≤ ${STARTUP_TARGET.ratio}×, < ${STARTUP_TARGET.rssMb} MB`,
    met: metFrom(rss === undefined ? undefined : ratio <= STARTUP_TARGET.ratio && rss < STARTUP_TARGET.rssMb),
  };
}

async function sample(args: readonly string[]): Promise<StartupSample> {
  const run = await runChild(process.execPath, args);
  if (run.code !== 0)
    throw new Error(`node ${args.join(' ')} exited ${run.code}: ${run.stderr.trim().split('\n').pop() ?? ''}`);
  return { wallMs: run.wallMs, rssKb: run.maxRssKb };
}

export async function measureStartup(ctx: BenchContext): Promise<MeasureResult> {
  const rounds = ctx.quick ? 5 : 15;
  const commands = {
    bare: ['-e', '0'],
    help: [CLI, '--help'],
    lintUrl: [CLI, 'lint-url', 'https://shop.example.com/wxpay/notify'],
    runHelp: [CLI, 'run', '--help'],
  };
  const samples: Record<keyof typeof commands, StartupSample[]> = { bare: [], help: [], lintUrl: [], runHelp: [] };
  // Interleaved, so a burst of load on the machine hits every command alike.
  for (let i = 0; i < rounds; i++) {
    for (const [name, args] of Object.entries(commands) as [keyof typeof commands, string[]][])
      samples[name].push(await sample(args));
  }
  return {
    rows: [
      startupRow('`wxpay-notify --help`', samples.help, samples.bare),
      startupRow('`wxpay-notify lint-url <url>`', samples.lintUrl, samples.bare),
      infoRow(
        '7. `wxpay-notify run --help` (parses only; `run` itself loads Newman when it starts)',
        `${formatMs(median(samples.runHelp.map((s) => s.wallMs)))}`,
      ),
    ],
    notes: [
      `Each command spawned ${rounds} times, interleaved with a bare \`node -e 0\`; median wall time from spawn to exit` +
        (hasGnuTime()
          ? ', peak RSS from `/usr/bin/time -v` (median over the runs).'
          : '; peak RSS needs /usr/bin/time, absent here.'),
      "The CLI imports each command's modules only when that command runs: `--help` and `lint-url` load yargs and a few small modules, never Newman or postman-collection.",
    ],
  };
}
