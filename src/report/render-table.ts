import { answeredAsExpected, type CaseSummary, type CaseVerdict, type RunTotals } from '../judge/case-verdicts.js';
import type { RunJudgement } from '../judge/judge-run.js';
import { inert } from '../shared/inert-text.js';

export const VERDICT_WORDS: Record<CaseVerdict, { text: string; color: number }> = {
  pass: { text: 'PASS', color: 32 },
  fail: { text: 'FAIL', color: 31 },
  skipped: { text: 'SKIP', color: 33 },
  inconclusive: { text: 'INCONCLUSIVE', color: 35 },
};

/** A row's hint is read inside one table line: no line breaks, no runs of spaces. */
const ROW_HINT_LIMIT = 300;

function statusText(c: CaseSummary): string {
  if (c.statuses.length > 0) return c.statuses.join(',');
  return c.verdict === 'skipped' ? 'not sent' : 'no answer';
}

/** "FAIL (3/4 acknowledged)": the count says what went right, so it cannot be read as "3 failed". */
export function verdictText(c: CaseSummary): string {
  const base = VERDICT_WORDS[c.verdict].text;
  return c.deliveries > 1 ? `${base} (${c.passed}/${c.deliveries} ${answeredAsExpected(c.expect)})` : base;
}

export function oneLine(text: string, limit = Infinity): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

/**
 * The row keeps what came back and the fix; "expected …" is the same for every row of a kind. It
 * quotes the receiver's answer: inert before it is painted (an answer must not recolour a row).
 */
function hintText(c: CaseSummary): string {
  if (c.verdict === 'pass') return '';
  return inert(
    oneLine([c.error, c.hint.replace(/\bexpected [^,]*, got /, 'got ')].filter(Boolean).join(' — '), ROW_HINT_LIMIT),
  );
}

/** The closing line CI parses: "N passed, N failed", then what else a person must know. */
export function totalsLine(t: RunTotals): string {
  const parts = [`${t.passed} passed`, `${t.failed} failed`];
  if (t.inconclusive) parts.push(`${t.inconclusive} inconclusive`);
  if (t.skipped) parts.push(`${t.skipped} skipped`);
  if (t.advisory)
    parts.push(
      `${t.advisory} advisory finding${t.advisory === 1 ? '' : 's'} (reported, not failing the run; --strict fails on ${t.advisory === 1 ? 'it' : 'them'})`,
    );
  const unjudged = t.advisoryNotJudged;
  if (unjudged)
    parts.push(`${unjudged} advisory case${unjudged === 1 ? '' : 's'} not judged (inconclusive or skipped)`);
  return parts.join(', ');
}

/**
 * The per-case table of a judged run, its notes above it; colour only when asked. Padded columns hold only ASCII (case ids, severities,
 * statuses, times, verdicts), so string length is display width; the hint, which may hold CJK, is last
 * and never padded.
 */
export function renderTable(
  run: Pick<RunJudgement, 'cases' | 'diagnoses' | 'totals'>,
  options: { color: boolean; addedControls?: readonly { id: string; for: string[] }[] },
): string {
  const { cases, diagnoses } = run;
  const noteOf = new Map(diagnoses.flatMap((d, i) => d.caseIds.map((id) => [id, i + 1] as const)));
  const added = new Set((options.addedControls ?? []).map((c) => c.id));
  const header = ['case', 'severity', 'HTTP', 'time', 'verdict'];
  const rows = cases.map((c) => [
    added.has(c.caseId) ? `${c.caseId} (control)` : c.caseId,
    c.severity,
    statusText(c),
    c.maxTimeMs === undefined ? '-' : `${c.maxTimeMs} ms`,
    verdictText(c),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const verdictColumn = header.indexOf('verdict');
  const format = (cells: string[], hint: string, color?: number): string => {
    const padded = cells.map((cell, i) => cell.padEnd(widths[i]!));
    if (color !== undefined && options.color)
      padded[verdictColumn] = `\u001b[${color}m${padded[verdictColumn]}\u001b[0m`;
    return [...padded, hint].join('  ').trimEnd();
  };
  const lines = [
    format(header, 'hint'),
    format(
      widths.map((w) => '-'.repeat(w)),
      '----',
    ),
  ];
  cases.forEach((c, i) => {
    const note = noteOf.get(c.caseId);
    const hint = hintText(c);
    lines.push(
      format(rows[i]!, note && c.verdict !== 'pass' ? `[note ${note}] ${hint}` : hint, VERDICT_WORDS[c.verdict].color),
    );
  });
  lines.push('', totalsLine(run.totals));
  const preface = [
    ...(options.addedControls ?? []).map(
      (c) =>
        `Control: ${c.id} was added and run first: ${c.for.join(', ')} can only be judged against a genuine notification that was acknowledged.`,
    ),
    ...diagnoses.map((d, i) => `Note ${i + 1}: ${inert(oneLine(d.message))}`),
  ];
  if (preface.length > 0) lines.unshift(...preface, '');
  return lines.join('\n') + '\n';
}
