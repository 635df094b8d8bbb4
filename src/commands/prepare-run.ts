import type { ResolvedConfig } from '../config/types.js';
import type { CaseDefinition, Severity } from '../cases/types.js';
import { selectCasesWithControls, type Selection } from '../cases/select-cases.js';
import { buildCollection } from '../collection/build-collection.js';
import { buildEnvironment } from '../collection/build-environment.js';
import { secretValues } from '../collection/variables.js';
import { readIterationData } from '../runner/iteration-data.js';
import { runBoundMs } from '../shared/limits.js';
import { SuiteRun } from '../runner/suite-run.js';

/** What a run of the suite is asked to do (the CLI's `run` flags; the library's RunSuiteOptions). */
export interface RunPlan {
  only?: string[];
  minSeverity?: Severity;
  insecure: boolean;
  /** A CSV or JSON file of order rows: one notification per row. */
  data?: string;
  /** Replay failed genuine deliveries on WeChat's retry schedule, this many times faster. */
  retrySpeedup?: number;
  /** The lowest severity whose failures fail the run (default protocol; --strict = advisory). */
  failOn?: Severity;
}

export interface PreparedRun {
  /** Not started yet: attach listeners, then `start()`; it resolves with the run's judgement. */
  run: SuiteRun;
  /** Controls the case filter left out and the run added back (see selectCasesWithControls). */
  addedControls: Selection['addedControls'];
  /** Every secret of the run: masked in what the run hands on; mask anything else quoted. */
  secrets: string[];
}

/**
 * The suite for a loaded config as a run ready to start: the cases it selects (with their
 * controls), the collection and environment built from them, and the run's bound. `run` and the
 * runner library both start it; nothing here prints or touches the process.
 */
export function prepareRun(config: ResolvedConfig, plan: RunPlan, signal?: AbortSignal): PreparedRun {
  const secrets = secretValues(config);
  const { cases, addedControls } = selectCasesWithControls(config, { only: plan.only, minSeverity: plan.minSeverity });
  const iterationData = plan.data ? readIterationData(plan.data, { order: config.order, secrets }) : undefined;
  const run = new SuiteRun({
    collection: buildCollection(config, cases),
    environment: buildEnvironment(config, true),
    iterationData,
    insecure: plan.insecure,
    // Bound the whole run: every delivery may take its full request deadline, plus slack.
    timeoutMs: runBoundMs(deliveriesPerIteration(cases) * (iterationData?.length ?? 1)),
    secrets,
    failOn: plan.failOn,
    // The replay resends one case alone, in a collection built as this one was.
    retry: plan.retrySpeedup
      ? { speedup: plan.retrySpeedup, cases, collectionOf: (def) => buildCollection(config, [def]) }
      : undefined,
    signal,
  });
  return { run, addedControls, secrets };
}

function deliveriesPerIteration(cases: readonly CaseDefinition[]): number {
  return cases.reduce((n, c) => n + (c.copies ?? 1) + (c.concurrent ?? 0), 0);
}
