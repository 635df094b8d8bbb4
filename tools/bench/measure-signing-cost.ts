import type { ResolvedConfig } from '../../src/config/types.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import {
  literalItem,
  perRequestMs,
  plainCollection,
  runTimed,
  type BenchContext,
  type CapturedRequest,
  type MeasureResult,
} from './harness.js';
import { metFrom, type BenchRow } from './render-bench.js';
import { formatMs, formatRatio, median } from './stats.js';

/** The v3 cases a merchant must acknowledge, without concurrent copies (those go via pm.sendRequest). */
export const V3_ACK_SUITE = ['v3.pay.*', 'v3.refund.*', 'v3.keys.*'];
export const SIGNING_TARGET = 1.5;

function orderRows(count: number): Record<string, string>[] {
  return Array.from({ length: count }, (_, i) => ({ out_trade_no: `BENCH${String(i + 1).padStart(8, '0')}` }));
}

/** The requests of iteration 1, literally, as items in the scripted collection's order. */
function plainFrom(captured: readonly CapturedRequest[], perIteration: number): Record<string, unknown> {
  return plainCollection(
    'bench: no scripts',
    captured.slice(0, perIteration).map((r, i) => literalItem(r, `plain-${i + 1}`)),
  );
}

const acked = (captured: readonly CapturedRequest[]): number =>
  captured.filter((r) => r.status === 200 || r.status === 204).length;

interface Comparison {
  scripted: number[];
  plain: number[];
  perIteration: number;
  requests: number;
  scriptedAcks: number;
  plainAcks: number;
}

async function compare(config: ResolvedConfig, iterations: number, rounds: number): Promise<Comparison> {
  const cases = selectCases(config, { only: V3_ACK_SUITE }).filter((c) => c.expect === 'ack' && !c.concurrent);
  const collection = buildCollection(config, cases);
  const environment = buildEnvironment(config, true);
  const iterationData = orderRows(iterations);
  const out: Comparison = { scripted: [], plain: [], perIteration: 0, requests: 0, scriptedAcks: 0, plainAcks: 0 };

  // Warm-up both sides (JIT, sockets, newman's first-run costs); the capture sizes the baseline.
  const warm = await runTimed({ collection, environment, iterationData: orderRows(2), capture: true });
  out.perIteration = warm.requests / 2;
  if (!Number.isInteger(out.perIteration) || warm.transportErrors > 0)
    throw new Error('signing-cost warm-up: requests were skipped or failed');
  await runTimed({
    collection: plainFrom(warm.captured, out.perIteration),
    environment,
    iterationData: orderRows(2),
    capture: true,
  });

  for (let round = 0; round < rounds; round++) {
    // Alternate sides so drift on a noisy machine hits both; each baseline replays the requests the
    // scripted run just signed, so timestamps are fresh for the reference receiver too.
    const scripted = await runTimed({ collection, environment, iterationData, capture: true });
    const plain = await runTimed({
      collection: plainFrom(scripted.captured, out.perIteration),
      environment,
      iterationData,
      capture: true,
    });
    if (scripted.requests !== plain.requests)
      throw new Error(`signing cost: ${scripted.requests} scripted vs ${plain.requests} plain requests`);
    out.scripted.push(perRequestMs(scripted));
    out.plain.push(perRequestMs(plain));
    out.requests = scripted.requests;
    out.scriptedAcks += acked(scripted.captured);
    out.plainAcks += acked(plain.captured);
  }
  return out;
}

function rowsFor(label: string, c: Comparison): BenchRow[] {
  const scripted = median(c.scripted);
  const plain = median(c.plain);
  // Each round pairs two adjacent runs: the median of their ratios resists drift on a busy machine.
  const ratio = median(c.scripted.map((s, i) => s / c.plain[i]!));
  return [
    {
      metric: `1. v3 suite, scripted ÷ no-script, ${label}`,
      value: `${formatRatio(ratio)} (${formatMs(scripted)} vs ${formatMs(plain)} per request, +${formatMs(scripted - plain)})`,
      target: `≤ ${SIGNING_TARGET}×`,
      met: metFrom(ratio <= SIGNING_TARGET),
    },
  ];
}

export async function measureSigningCost(ctx: BenchContext): Promise<MeasureResult> {
  const iterations = ctx.quick ? 3 : 15;
  const rounds = ctx.quick ? 1 : 3;
  const trivial = await compare(ctx.trivialConfig, iterations, rounds);
  ctx.trivial.bodies.length = 0;
  const reference = await compare(ctx.receiverConfig, iterations, rounds);
  const total = reference.requests * rounds;
  return {
    rows: [...rowsFor('trivial 204 server', trivial), ...rowsFor('reference receiver', reference)],
    notes: [
      `Suite: the v3 acknowledgement cases (${V3_ACK_SUITE.join(', ')}), ${trivial.perIteration} requests per iteration, ` +
        `${iterations} iterations of order data per run, ${rounds === 1 ? 'one round' : `${rounds} rounds; the ratio is the median of the per-round ratios, the times the medians of the rounds`}.`,
      'Scripted: the generated collection (collection-level pre-request signer + test judge) as `run` sends it. ' +
        "No-script: the requests that scripted run just sent (captured from newman's request event: URL, headers, body, " +
        'without the headers newman adds itself), as literal items with no events, run with the same iteration data, ' +
        'so item count, iterations, body sizes and server work are the same on both sides; only the two scripts differ.',
      'Both sides go through the same thin newman.run wrapper in this process (no reporters, no Node-side judging); ' +
        'per request = first item start to last item end, divided by requests (newman start-up excluded). Rounds alternate scripted/no-script.',
      "Trivial server: answers 204 without reading headers, so the ratio is the scripts' cost against the fastest possible merchant (the strictest view). " +
        `Reference receiver: verifies RSA and decrypts AES-GCM for both sides (the replayed copies are seconds old, well inside its 300 s window; ` +
        `it acknowledged ${reference.scriptedAcks}/${total} scripted and ${reference.plainAcks}/${total} replayed requests).`,
      'Reading the ratio: newman runs every script, even an empty one, in its sandbox; section 4\'s "empty scripts ÷ no script" is the floor ' +
        'this ratio can reach with any collection-level pre-request + test script on the same machine.',
    ],
  };
}
