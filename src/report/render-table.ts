import { padEnd, displayWidth } from './text-width.js';
import { totals, type CaseSummary } from './summarize.js';
import type { Diagnosis } from './diagnose-run.js';

const VERDICT = {
  pass: { text: 'PASS', color: 32 },
  fail: { text: 'FAIL', color: 31 },
  skipped: { text: 'SKIP', color: 33 },
} as const;

function statusText(c: CaseSummary): string {
  if (c.statuses.length > 0) return c.statuses.join(',');
  return c.verdict === 'skipped' ? 'not sent' : 'no answer';
}

function verdictText(c: CaseSummary): string {
  const base = VERDICT[c.verdict].text;
  return c.deliveries > 1 ? `${base} ${c.passed}/${c.deliveries}` : base;
}

function hintText(c: CaseSummary): string {
  if (c.verdict === 'pass') return '';
  return [c.error, c.hint].filter(Boolean).join(' — ');
}

/** The closing line CI parses. Skipped cases are listed apart: nothing proved they work. */
export function totalsLine(cases: readonly CaseSummary[]): string {
  const t = totals(cases);
  return `${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ''}`;
}

/** The per-case table: ASCII-aligned (CJK counts as two columns); colour only when asked. */
export function renderTable(cases: readonly CaseSummary[], options: { color: boolean; diagnoses?: readonly Diagnosis[] }): string {
  const diagnoses = options.diagnoses ?? [];
  const explained = new Map(diagnoses.flatMap((d, i) => d.caseIds.map((id) => [id, i + 1] as const)));
  const header = ['case', 'HTTP', 'time', 'verdict'];
  const rows = cases.map((c) => [c.caseId, statusText(c), c.maxTimeMs === undefined ? '-' : `${c.maxTimeMs} ms`, verdictText(c)]);
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
  const format = (cells: string[], hint: string, color?: number): string => {
    const padded = cells.map((cell, i) => padEnd(cell, widths[i]!));
    if (color !== undefined && options.color) padded[3] = `\u001b[${color}m${padded[3]}\u001b[0m`;
    return [...padded, hint].join('  ').trimEnd();
  };
  const lines = [format(header, 'hint'), format(widths.map((w) => '-'.repeat(w)), '----')];
  cases.forEach((c, i) => {
    const note = explained.get(c.caseId);
    lines.push(format(rows[i]!, note && c.verdict !== 'pass' ? `see note ${note} above` : hintText(c), VERDICT[c.verdict].color));
  });
  lines.push('', totalsLine(cases));
  if (diagnoses.length > 0) {
    lines.unshift(...diagnoses.map((d, i) => `Note ${i + 1}: ${d.message}`), '');
  }
  return lines.join('\n') + '\n';
}
