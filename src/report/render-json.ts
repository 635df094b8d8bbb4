import type { RunJudgement } from '../judge/judge-run.js';

export interface JsonReportMeta {
  config: string;
  collection: string;
  /** Controls the case filter left out and the run added back (see selectCasesWithControls). */
  addedControls?: readonly { id: string; for: string[] }[];
}

/**
 * The results format is a public contract (README, Versioning): facts a result carries for the
 * other reports (its folder, what it tells the diagnosis) become fields of it only by decision.
 */
function published<T extends { folder: string; diagnostic?: unknown }>(item: T): Omit<T, 'folder' | 'diagnostic'> {
  const { folder: _folder, diagnostic: _diagnostic, ...rest } = item;
  return rest;
}

/** Machine-readable results: the run's judgement (per-case verdicts, every delivery with request and response). */
export function resultsDocument(run: RunJudgement, meta: JsonReportMeta) {
  return {
    tool: 'wxpay-notify' as const,
    config: meta.config,
    collection: meta.collection,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    aborted: run.aborted,
    failOn: run.failOn,
    totals: run.totals,
    addedControls: meta.addedControls ?? [],
    diagnoses: run.diagnoses,
    cases: run.cases.map(published),
    deliveries: run.deliveries.map(published),
    retries: run.retries ?? [],
  };
}

/** The JSON results format (`run --format json`, `--reporters json`, the runner library's results). */
export type ResultsDocument = ReturnType<typeof resultsDocument>;

export function renderJson(run: RunJudgement, meta: JsonReportMeta): string {
  return JSON.stringify(resultsDocument(run, meta), null, 2) + '\n';
}
