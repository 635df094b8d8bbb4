import type { ResolvedConfig } from '../config/types.js';
import { CATALOGUE } from './catalogue.js';
import { SEVERITIES, type CaseDefinition, type Requirement, type Severity } from './types.js';
import { UserError } from '../shared/errors.js';

function meets(requirement: Requirement, config: ResolvedConfig): boolean {
  switch (requirement) {
    case 'v2':
      return config.v2 !== undefined;
    case 'v3':
      return config.v3 !== undefined;
    case 'v2-hmac':
      return config.v2?.signType === 'HMAC-SHA256';
    case 'v3-two-signers':
      return config.v3?.platform !== undefined && config.v3.platformCertificate !== undefined;
    case 'combine':
      return config.combine !== undefined;
  }
}

/** `*` matches within a dot-separated segment, `**` across segments; `v3.forged` matches its whole group. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^.]*'),
    )
    .join('.*');
  return new RegExp(`^${body}(\\..*)?$`);
}

export interface CaseFilter {
  only?: readonly string[];
  minSeverity?: Severity;
}

export interface Selection {
  /** In catalogue order, so a control runs before the cases judged against it. */
  cases: CaseDefinition[];
  /** Controls the filter left out and the selection put back, with the cases that need them. */
  addedControls: { id: string; for: string[] }[];
}

/**
 * The cases this config can send, in catalogue order, filtered by --only and --min-severity, plus
 * the genuine control of every selected reject case: without it a rejection proves nothing.
 */
export function selectCasesWithControls(
  config: ResolvedConfig,
  filter: CaseFilter = {},
  catalogue: readonly CaseDefinition[] = CATALOGUE,
): Selection {
  const filtered = filterCases(config, filter, catalogue);
  const chosen = new Set(filtered.map((c) => c.id));
  const added = new Map<string, string[]>();
  for (const c of filtered) {
    // Only a rejection needs its twin to mean anything; an ack variant stands on its own.
    if (c.expect !== 'reject' || !c.control || chosen.has(c.control)) continue;
    added.set(c.control, [...(added.get(c.control) ?? []), c.id]);
  }
  const cases = catalogue.filter((c) => chosen.has(c.id) || added.has(c.id));
  return { cases, addedControls: [...added].map(([id, forIds]) => ({ id, for: forIds })) };
}

export function selectCases(
  config: ResolvedConfig,
  filter: CaseFilter = {},
  catalogue: readonly CaseDefinition[] = CATALOGUE,
): CaseDefinition[] {
  return selectCasesWithControls(config, filter, catalogue).cases;
}

function filterCases(
  config: ResolvedConfig,
  filter: CaseFilter,
  catalogue: readonly CaseDefinition[],
): CaseDefinition[] {
  const applicable = catalogue.filter((c) => c.requires.every((r) => meets(r, config)));
  let selected = applicable;
  if (filter.only && filter.only.length > 0) {
    const patterns = filter.only.map(globToRegExp);
    selected = selected.filter((c) => patterns.some((p) => p.test(c.id)));
    if (selected.length === 0) {
      throw new UserError(
        `--only ${filter.only.join(',')} matches no case; cases for this config: ${applicable.map((c) => c.id).join(', ')}`,
        'E_NO_CASE',
      );
    }
  }
  if (filter.minSeverity) {
    const floor = SEVERITIES.indexOf(filter.minSeverity);
    selected = selected.filter((c) => SEVERITIES.indexOf(c.severity) >= floor);
  }
  checkAmountsAddUp(config, selected);
  return selected;
}

/** A coupon pays at least 1 fen and the payer at least 1 fen (the sandbox's notifyAmountVariables). */
export const MIN_TOTAL_WITH_COUPON = 2;

/** Refuses to build coupon cases whose amounts cannot add up, naming the field to change. */
function checkAmountsAddUp(config: ResolvedConfig, cases: readonly CaseDefinition[]): void {
  const coupon = cases.filter((c) => c.coupon).map((c) => c.id);
  const total = config.order.total;
  if (coupon.length === 0 || total >= MIN_TOTAL_WITH_COUPON) return;
  throw new UserError(
    `order.total is ${total} fen, too little for ${coupon.join(' and ')}: they pay part of the order with a coupon (cash_fee = total_fee − coupon_fee, at least 1 fen each); set order.total to ${MIN_TOTAL_WITH_COUPON} or more (e.g. 100), or leave them out with --only`,
    'E_CONFIG',
  );
}
