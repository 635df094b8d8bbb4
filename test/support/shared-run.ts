import type { ResolvedConfig } from '../../src/config/types.js';
import { selectCasesWithControls, type Selection } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { secretValues } from '../../src/collection/variables.js';
import { judgeRun, type RunJudgement } from '../../src/judge/judge-run.js';
import { runBoundMs } from '../../src/shared/limits.js';
import { SuiteRun } from '../../src/runner/suite-run.js';

/** One receiver's share of a shared run: its config (aimed at its own port) and the cases it gets. */
export interface SharedRunPart {
  name: string;
  config: ResolvedConfig;
  only: string[];
}

export interface SharedRunResult {
  /** This part's deliveries, judged on their own: what a run against this receiver alone decides. */
  judgement: RunJudgement;
  addedControls: Selection['addedControls'];
}

const portOf = (url: string): string => new URL(url).port;

/**
 * ONE Newman run for many receivers (issue 21: a run's start costs as much as several requests).
 * Each part's collection is built from its own config as `run` builds it, its cases selected as
 * `run --only` selects them (controls added); the parts become one folder each, with the URL
 * variables ({{v2_notify_url}}, …) written out as the part's URLs, since one environment serves all.
 * The deliveries are split by port and each part's share is judged on its own (judgeRun): a case's
 * verdict depends only on its own deliveries and its control's, which went to the same receiver.
 * The configs must differ in their URLs alone (checked).
 */
export async function runShared(
  parts: readonly SharedRunPart[],
  options: { failOn?: RunJudgement['failOn'] } = {},
): Promise<Map<string, SharedRunResult>> {
  const built = parts.map((part) => {
    const selection = selectCasesWithControls(part.config, { only: part.only });
    return { ...part, ...selection, collection: buildCollection(part.config, selection.cases) };
  });
  const first = built[0];
  if (!first) return new Map();
  const partOfPort = new Map<string, string>();
  const folders = built.map(({ name, config, collection }) => {
    const ports = new Set(
      [config.v2!.notifyUrl, config.v2!.refundNotifyUrl, config.v3!.notifyUrl, config.v3!.refundNotifyUrl].map(portOf),
    );
    if (ports.size !== 1) throw new Error(`shared run: ${name}'s URLs are not on one port`);
    const [port] = ports;
    if (partOfPort.has(port!)) throw new Error(`shared run: ${name} and ${partOfPort.get(port!)} share port ${port}`);
    partOfPort.set(port!, name);
    if (JSON.stringify(collection.variable) !== JSON.stringify(first.collection.variable))
      throw new Error(`shared run: ${name}'s collection variables differ from ${first.name}'s (run it alone)`);
    let json = JSON.stringify(collection.item);
    const urls = {
      v2_notify_url: config.v2!.notifyUrl,
      v2_refund_notify_url: config.v2!.refundNotifyUrl,
      v3_notify_url: config.v3!.notifyUrl,
      v3_refund_notify_url: config.v3!.refundNotifyUrl,
    };
    for (const [variable, url] of Object.entries(urls))
      json = json.replaceAll(`"{{${variable}}}"`, JSON.stringify(url));
    // Item, event and script ids of its own: the same case appears once per part.
    json = json.replaceAll(/"id":"([^"]*)"/g, (_m, id: string) => `"id":${JSON.stringify(`${name}/${id}`)}`);
    return { id: `part/${name}`, name, item: JSON.parse(json) as unknown[] };
  });
  const deliveries = built.reduce(
    (n, p) => n + p.cases.reduce((m, c) => m + (c.copies ?? 1) + (c.concurrent ?? 0), 0),
    0,
  );
  const all = await new SuiteRun({
    collection: { ...first.collection, item: folders },
    environment: buildEnvironment(first.config, true),
    insecure: false,
    timeoutMs: runBoundMs(deliveries),
    secrets: [...new Set(built.flatMap((p) => secretValues(p.config)))],
    failOn: options.failOn,
  }).start();
  const stray = all.deliveries.filter((d) => !partOfPort.has(portOf(d.request?.url ?? 'http://unsent')));
  if (stray.length > 0)
    throw new Error(`shared run: deliveries that went to no part: ${stray.map((d) => d.caseId).join(', ')}`);
  const results = new Map<string, SharedRunResult>();
  for (const { name, addedControls } of built) {
    const own = all.deliveries.filter((d) => partOfPort.get(portOf(d.request!.url)) === name);
    const judgement = judgeRun(
      { deliveries: own, startedAt: all.startedAt, durationMs: all.durationMs, aborted: all.aborted },
      { failOn: options.failOn },
    );
    results.set(name, { judgement, addedControls });
  }
  return results;
}
