import { CATALOGUE } from './catalogue.js';
import type { CaseDefinition } from './types.js';

export const CASE_TABLE_START = '<!-- case-table:start (generated from src/cases/catalogue.ts by `npm run docs`) -->';
export const CASE_TABLE_END = '<!-- case-table:end -->';

/** What a config needs for this case to be generated, e.g. `v3 certificate signer`. */
export function configNeeds(c: CaseDefinition): string {
  const needs = c.requires.map(
    (r) =>
      ({
        v2: 'v2',
        v3: 'v3',
        'v2-hmac': 'v2 HMAC-SHA256',
        'v3-two-signers': 'v3 certificate signer',
        combine: 'combine',
      })[r],
  );
  return needs.join(' + ');
}

/** The case table of docs/cases.md, from the catalogue: ids, what is sent, expectation, severity. */
export function renderCaseTable(catalogue: readonly CaseDefinition[] = CATALOGUE): string {
  const rows = catalogue.map((c) => {
    const copies =
      c.copies && c.copies > 1 ? ` (${c.copies} deliveries)` : c.concurrent ? ` (${c.concurrent + 1} deliveries)` : '';
    const thin = c.caveat ? ' (thin evidence, see below)' : '';
    return `| \`${c.id}\` | ${c.title}${copies}${thin} | ${c.expect === 'ack' ? 'acknowledge' : '**reject**'} | ${c.severity} | ${configNeeds(c)} |`;
  });
  const caveats = catalogue.filter((c) => c.caveat).map((c) => `- \`${c.id}\`: ${c.caveat}`);
  const notes =
    caveats.length > 0
      ? [
          '',
          'Where the evidence is thin (what these cases send rests on less than a documented or captured notification):',
          '',
          ...caveats,
        ]
      : [];
  return [
    CASE_TABLE_START,
    '| case id | what is sent | a correct merchant must | severity | generated when the config has |',
    '|---|---|---|---|---|',
    ...rows,
    ...notes,
    CASE_TABLE_END,
  ].join('\n');
}

/** A docs page (docs/cases.md) with its case table replaced by a fresh one. */
export function updateCaseTable(readme: string): string {
  const start = readme.indexOf(CASE_TABLE_START);
  const end = readme.indexOf(CASE_TABLE_END);
  if (start < 0 || end < start) throw new Error('this page has no case-table markers');
  return readme.slice(0, start) + renderCaseTable() + readme.slice(end + CASE_TABLE_END.length);
}
