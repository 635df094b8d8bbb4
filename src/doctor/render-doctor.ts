import type { DoctorCheck, DoctorReport, DoctorTotals } from './types.js';
import { inert, inertLines } from '../shared/inert-text.js';

/** Pure renderers for the doctor report: an aligned text table, and JSON. */

const LEVEL = {
  ok: { text: 'ok', color: 32 },
  warning: { text: 'WARN', color: 33 },
  error: { text: 'FAIL', color: 31 },
  skipped: { text: 'skip', color: 90 },
} as const;

export function doctorTotals(report: DoctorReport): DoctorTotals {
  const totals: DoctorTotals = { passed: 0, warnings: 0, failed: 0, skipped: 0 };
  for (const check of report.groups.flatMap((g) => g.checks)) {
    if (check.level === 'ok') totals.passed += 1;
    else if (check.level === 'warning') totals.warnings += 1;
    else if (check.level === 'error') totals.failed += 1;
    else totals.skipped += 1;
  }
  return totals;
}

/** The closing line CI parses. */
export function doctorTotalsLine(totals: DoctorTotals): string {
  return `${totals.passed} passed, ${totals.warnings} warnings, ${totals.failed} failed`;
}

/** A URL as it must be read: quoted when whitespace or control characters would hide in it; never live on a terminal. */
export function showUrl(url: string): string {
  return inert(/[\s\u0000-\u001f\u007f-\u009f]/u.test(url) || url === '' ? JSON.stringify(url) : url);
}

function timeText(check: DoctorCheck): string {
  return check.timeMs === undefined ? '' : `${Math.round(check.timeMs)} ms`;
}

/**
 * Grouped by URL; level, rule and time columns aligned across the whole report. Those columns are
 * ASCII (the rule names are fixed identifiers), so string length is display width; the message is
 * last and never padded.
 */
export function renderDoctorTable(report: DoctorReport, options: { color: boolean }): string {
  const all = report.groups.flatMap((g) => g.checks);
  const widths = [
    Math.max(...Object.values(LEVEL).map((l) => l.text.length)),
    Math.max(0, ...all.map((c) => c.rule.length)),
    Math.max(0, ...all.map((c) => timeText(c).length)),
  ];
  const paint = (text: string, color: number): string => (options.color ? `\u001b[${color}m${text}\u001b[0m` : text);
  // Messages quote what came back (a probe's answer, a TLS error, a config value): inert before painting.
  const lines: string[] = [`wxpay-notify ${report.command}${report.config ? ` — ${inert(report.config)}` : ''}`];
  for (const group of report.groups) {
    lines.push('', group.url === undefined ? inert(group.title) : `${inert(group.title)}: ${showUrl(group.url)}`);
    for (const check of group.checks) {
      const level = LEVEL[check.level];
      const cells = [paint(level.text.padEnd(widths[0]!), level.color), check.rule.padEnd(widths[1]!)];
      if (widths[2]! > 0) cells.push(timeText(check).padStart(widths[2]!));
      lines.push(`  ${[...cells, inert(check.message)].join('  ')}`.trimEnd());
    }
  }
  if (report.note) lines.push('', inertLines(report.note));
  lines.push('', doctorTotalsLine(doctorTotals(report)));
  return lines.join('\n') + '\n';
}

/** The report as one JSON object (totals included), for CI. */
export function renderDoctorJson(report: DoctorReport): string {
  const totals = doctorTotals(report);
  return JSON.stringify({ ...report, totals, ok: totals.failed === 0 }, null, 2) + '\n';
}
