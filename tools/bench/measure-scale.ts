import { fileURLToPath } from 'node:url';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { runCollection } from '../../src/runner/run-collection.js';
import { toIterationData } from '../../src/runner/iteration-data.js';
import { hasGnuTime, runChild } from './child.js';
import type { BenchContext, MeasureResult } from './harness.js';
import { infoRow } from './render-bench.js';
import type { ScaleSample } from './scale-child.js';
import { formatBytes, formatMs, median } from './stats.js';

const CHILD = fileURLToPath(new URL('./scale-child.js', import.meta.url));

interface SizeResult {
  sample: ScaleSample;
  ms: number;
  peakKb: number;
}

/** Generates at one size in fresh child processes; the median time and the largest peak of `repeat` runs. */
async function generateAt(cases: number, repeat: number): Promise<SizeResult> {
  const samples: { sample: ScaleSample; peakKb: number }[] = [];
  for (let i = 0; i < repeat; i++) {
    const run = await runChild(process.execPath, [CHILD, String(cases)]);
    if (run.code !== 0)
      throw new Error(`generate at ${cases} cases failed: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const sample = JSON.parse(run.stdout.trim().split('\n').pop()!) as ScaleSample;
    samples.push({ sample, peakKb: run.maxRssKb ?? sample.maxRssKb });
  }
  return {
    sample: samples[0]!.sample,
    ms: median(samples.map((s) => s.sample.ms)),
    peakKb: Math.max(...samples.map((s) => s.peakKb)),
  };
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

export async function measureScale(ctx: BenchContext): Promise<MeasureResult> {
  const sizes = ctx.quick ? [1, 100] : [1, 100, 10_000];
  const repeat = (n: number): number => (ctx.quick || n >= 10_000 ? 1 : 3);
  const baseline = await generateAt(0, 1);
  const results: SizeResult[] = [];
  for (const n of sizes) results.push(await generateAt(n, repeat(n)));

  const rows = results.map((r) =>
    infoRow(
      `5. generate ${r.sample.cases.toLocaleString('en-US')} case${r.sample.cases === 1 ? '' : 's'} (${r.sample.items.toLocaleString('en-US')} request${r.sample.items === 1 ? '' : 's'})`,
      `${formatMs(r.ms)}, peak RSS ${mb(r.peakKb)}, collection ${formatBytes(r.sample.bytes)}`,
    ),
  );
  const small = results.find((r) => r.sample.cases === 100)!;
  const large = results.find((r) => r.sample.cases === 10_000);
  if (large) {
    const perCaseSmall = small.ms / 100;
    const perCaseLarge = large.ms / 10_000;
    rows.push(
      infoRow(
        '5. growth 100 → 10,000 cases (×100)',
        `time ×${(large.ms / small.ms).toFixed(0)} (${formatMs(perCaseSmall)} → ${formatMs(perCaseLarge)} per case); ` +
          `peak RSS +${mb(large.peakKb - baseline.peakKb)} over an empty generate (${((large.peakKb - baseline.peakKb) / 10_000).toFixed(1)} KB per case, ` +
          `${(((large.peakKb - baseline.peakKb) * 1024) / large.sample.bytes).toFixed(1)}× the file size)`,
      ),
    );
  }

  // Data-driven: one v3 case, one notification per data row, against the reference receiver.
  const notifications = ctx.quick ? 100 : 1000;
  const config = ctx.receiverConfig;
  const collection = buildCollection(config, selectCases(config, { only: ['v3.pay.success'] }));
  const environment = buildEnvironment(config, true);
  const iterationData = toIterationData(
    Array.from({ length: notifications }, (_, i) => ({
      out_trade_no: `DATA${String(i + 1).padStart(10, '0')}`,
      total: String(100 + i),
    })),
    'bench',
  );
  const started = performance.now();
  const run = await runCollection({ collection, environment, iterationData });
  const seconds = (performance.now() - started) / 1000;
  const passed = run.deliveries.filter((d) => d.verdict === 'pass').length;
  rows.push(
    infoRow(
      `5. data-driven run, ${notifications.toLocaleString('en-US')} notifications (v3.pay.success)`,
      `${(run.deliveries.length / seconds).toFixed(1)} notifications/s (${seconds.toFixed(1)} s; ${passed}/${notifications} acknowledged and judged pass)`,
    ),
  );
  return {
    rows,
    notes: [
      `generate = selectCases over a large catalogue (the demo config's applicable cases, then clones with new ids) + buildCollection + serialize of collection and environment, ` +
        `each size alone in a fresh child process (\`node dist-tools/tools/bench/scale-child.js N\`); time measured inside it with performance.now() ` +
        (ctx.quick ? '(one run each); ' : '(median of 3 runs for 1 and 100 cases, one run for 10,000); ') +
        `peak RSS = ${hasGnuTime() ? '`/usr/bin/time -v` Maximum resident set size' : 'process.resourceUsage().maxRSS'} of the whole process, ` +
        `which includes Node, the modules and key generation: an empty generate (0 cases) peaks at ${mb(baseline.peakKb)}.` +
        (ctx.quick ? ' --quick skips 10,000.' : ''),
      `Data-driven: runCollection (what \`run --data\` calls) with ${notifications} iteration-data rows (distinct out_trade_no and total) on v3.pay.success, ` +
        'in this process against the reference receiver (also in this process): every notification is signed, sent, verified, decrypted and judged. ' +
        'Throughput = notifications / wall time of the whole run including newman start-up.',
    ],
  };
}
