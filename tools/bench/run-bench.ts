/**
 * `npm run bench [-- --quick]`: measures the costs that decided the design
 * (docs/architecture.md#the-sandbox-constraint) on this machine and prints a markdown table. It
 * reports; it does not gate: the exit code is 0 unless a measurement itself crashed.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBenchContext, type BenchContext, type MeasureResult } from './harness.js';
import { loadAverage, machineFacts } from './machine.js';
import { measureEndToEnd } from './measure-end-to-end.js';
import { measureForge } from './measure-forge.js';
import { measureNative } from './measure-native.js';
import { measureScale } from './measure-scale.js';
import { measureScriptWeight } from './measure-script-weight.js';
import { measureSigningCost } from './measure-signing-cost.js';
import { measureStartup } from './measure-startup.js';
import { measureLoad } from './measure-load.js';
import { renderBench, type BenchSection } from './render-bench.js';
import { formatMs } from './stats.js';

const MEASURES: { title: string; run: (ctx: BenchContext) => Promise<MeasureResult> }[] = [
  { title: '1. Sandbox signing cost (v3 suite)', run: measureSigningCost },
  { title: '2. Sandbox signer vs node-forge in the sandbox', run: measureForge },
  { title: '3. Sandbox signer vs node:crypto', run: measureNative },
  { title: '4. Script weight', run: measureScriptWeight },
  { title: '5. Scale', run: measureScale },
  { title: '6. End to end', run: measureEndToEnd },
  { title: '7. CLI start-up', run: measureStartup },
  { title: '8. Load (wxpay-notify load)', run: measureLoad },
];

const USAGE = 'usage: npm run bench [-- --quick] [-- --only <section number, e.g. 8>]';

export function parseArgs(argv: readonly string[]): { quick: boolean; only?: number } {
  let only: number | undefined;
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') continue;
    if (a === '--only') {
      only = Number(argv[++i]);
      if (!Number.isInteger(only) || only < 1 || only > MEASURES.length)
        throw new Error(`--only takes a section number from 1 to ${MEASURES.length}; ${USAGE}`);
      continue;
    }
    unknown.push(a);
  }
  if (unknown.length > 0) throw new Error(`unknown argument(s): ${unknown.join(' ')}; ${USAGE}`);
  return { quick: argv.includes('--quick'), ...(only === undefined ? {} : { only }) };
}

async function main(): Promise<number> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const machine = machineFacts(quick);
  const ctx = await createBenchContext(quick);
  const sections: BenchSection[] = [];
  let crashed = false;
  try {
    for (const [index, measure] of MEASURES.entries()) {
      if (only !== undefined && index + 1 !== only) continue;
      const t0 = performance.now();
      process.stderr.write(`bench: ${measure.title}…`);
      try {
        const result = await measure.run(ctx);
        sections.push({ title: measure.title, ...result });
        process.stderr.write(` ${formatMs(performance.now() - t0)}\n`);
      } catch (error) {
        crashed = true;
        const message = error instanceof Error ? error.message : String(error);
        sections.push({
          title: measure.title,
          rows: [{ metric: measure.title, value: `error: ${message}`, target: '—', met: '—' }],
          notes: [],
        });
        process.stderr.write(` failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
      }
    }
  } finally {
    await ctx.close();
  }
  machine.push(['load average at end', loadAverage()], ['bench wall time', formatMs(performance.now() - started)]);
  process.stdout.write(renderBench({ title: 'wxpay-notify bench', machine, sections }));
  return crashed ? 1 : 0;
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `bench crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
