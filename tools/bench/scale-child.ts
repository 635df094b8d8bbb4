/**
 * One `generate` at a given size, alone in its process so its peak memory is its own:
 * `node dist-tools/tools/bench/scale-child.js <cases>` prints one JSON line (ScaleSample).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectCases } from '../../src/cases/select-cases.js';
import type { CaseDefinition } from '../../src/cases/types.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { demoConfig } from '../../src/commands/demo.js';
import { serialize } from '../../src/commands/generate-files.js';
import { generateTestKeys } from '../../src/keys/generate-keys.js';

export interface ScaleSample {
  cases: number;
  /** Requests in the collection (some cases deliver several copies). */
  items: number;
  /** selectCases + buildCollection + serialize (collection and environment). */
  ms: number;
  /** Size of the serialized collection. */
  bytes: number;
  /** Resident set before the work (imports and keys loaded) and the process's peak (getrusage). */
  rssBeforeKb: number;
  maxRssKb: number;
  heapUsedAfter: number;
}

/** A catalogue of `count` cases: the applicable ones, then clones of them under new ids. */
export function largeCatalogue(base: readonly CaseDefinition[], count: number): CaseDefinition[] {
  return Array.from({ length: count }, (_, i) => {
    const source = base[i % base.length]!;
    return i < base.length ? source : { ...source, id: `${source.id}.clone${Math.floor(i / base.length)}` };
  });
}

function countItems(node: unknown): number {
  const items = (node as { item?: unknown[] }).item;
  if (!Array.isArray(items)) return 1;
  return items.reduce<number>((n, child) => n + countItems(child), 0);
}

export function generateAtSize(count: number): ScaleSample {
  const config = demoConfig(generateTestKeys(), 'http://127.0.0.1:9', '/tmp/wxpay-notify-bench');
  const catalogue = largeCatalogue(selectCases(config), count);
  const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
  const start = performance.now();
  const collection = buildCollection(config, selectCases(config, {}, catalogue));
  const text = serialize(collection);
  serialize(buildEnvironment(config, true));
  const ms = performance.now() - start;
  return {
    cases: count,
    items: countItems(collection),
    ms,
    bytes: Buffer.byteLength(text),
    rssBeforeKb,
    maxRssKb: process.resourceUsage().maxRSS,
    heapUsedAfter: process.memoryUsage().heapUsed,
  };
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? '1');
  process.stdout.write(JSON.stringify(generateAtSize(count)) + '\n');
}
