import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { sandboxScripts } from '../../src/collection/sandbox-scripts.js';
import {
  literalItem,
  perRequestMs,
  plainCollection,
  runTimed,
  scriptEvent,
  type BenchContext,
  type MeasureResult,
} from './harness.js';
import { infoRow, metFrom } from './render-bench.js';
import { formatBytes, formatMs, formatRatio, median } from './stats.js';

export const SCRIPT_SIZE_TARGET_BYTES = 20 * 1024;

export async function measureScriptWeight(ctx: BenchContext): Promise<MeasureResult> {
  const scripts = sandboxScripts();
  const sizes = { prerequest: Buffer.byteLength(scripts.prerequest), test: Buffer.byteLength(scripts.test) };

  const iterations = ctx.quick ? 15 : 60;
  const rounds = ctx.quick ? 1 : 3;
  const config = ctx.trivialConfig;
  const ours = buildCollection(config, selectCases(config, { only: ['v3.pay.success'] }));
  const environment = buildEnvironment(config, true);
  // The baseline items send what our scripts produced, so the bytes on the wire are the same.
  const signed = await runTimed({ collection: ours, environment, iterationCount: 2, capture: true });
  const item = literalItem(signed.captured[0]!, 'v3.pay.success (literal)');
  const variants: Record<string, Record<string, unknown>> = {
    none: plainCollection('bench: no script', [item]),
    empty: plainCollection(
      'bench: empty scripts',
      [item],
      [scriptEvent('prerequest', '// empty'), scriptEvent('test', '// empty')],
    ),
    ours,
  };
  const times: Record<string, number[]> = { none: [], empty: [], ours: [] };
  for (const collection of Object.values(variants)) await runTimed({ collection, environment, iterationCount: 3 });
  for (let round = 0; round < rounds; round++) {
    for (const [name, collection] of Object.entries(variants)) {
      const run = await runTimed({ collection, environment, iterationCount: iterations });
      times[name]!.push(perRequestMs(run));
    }
  }
  ctx.trivial.bodies.length = 0;
  const none = median(times.none!);
  const empty = median(times.empty!);
  const our = median(times.ours!);
  return {
    rows: [
      {
        metric: '4. pre-request script size',
        value: `${formatBytes(sizes.prerequest)} (${sizes.prerequest} B)`,
        target: `≤ ${formatBytes(SCRIPT_SIZE_TARGET_BYTES)}`,
        met: metFrom(sizes.prerequest <= SCRIPT_SIZE_TARGET_BYTES),
      },
      {
        metric: '4. test script size',
        value: `${formatBytes(sizes.test)} (${sizes.test} B)`,
        target: `≤ ${formatBytes(SCRIPT_SIZE_TARGET_BYTES)}`,
        met: metFrom(sizes.test <= SCRIPT_SIZE_TARGET_BYTES),
      },
      infoRow('4. per request, no script', formatMs(none)),
      infoRow(
        '4. per request overhead, empty pre-request + test scripts',
        `+${formatMs(empty - none)} (empty scripts ÷ no script = ${formatRatio(empty / none)}: the floor for 1.)`,
      ),
      infoRow(
        '4. per request overhead, our pre-request + test scripts',
        `+${formatMs(our - none)} (${((our - none) / Math.max(empty - none, 1e-9)).toFixed(1)}× the empty scripts' overhead)`,
      ),
    ],
    notes: [
      'Sizes: UTF-8 bytes of the collection-level scripts exactly as generated (sandboxScripts()), constants and hint catalogue included; 1 KB = 1024 B.',
      `Overhead: one v3.pay.success request to the trivial 204 server, ${iterations} iterations per run, ${rounds === 1 ? 'one round' : `${rounds} rounds`} alternating the three variants, median per request. ` +
        '"No script" and "empty" send the literal request our scripts produced (same bytes); "empty" has a collection-level pre-request and test event holding only a comment, ' +
        'which newman still runs through its sandbox — that is the price of having any script at all.',
    ],
  };
}
