/**
 * The bench report as markdown: pure, so it is unit-tested without timing anything.
 * A row's `met` is 'yes'/'no' when the metric has a target and '—' when it is for information.
 */
export type Met = 'yes' | 'no' | '—';

export interface BenchRow {
  metric: string;
  value: string;
  target: string;
  met: Met;
}

export interface BenchSection {
  /** Short heading, e.g. "1. Sandbox signing cost". */
  title: string;
  rows: BenchRow[];
  /** How it was measured and why the comparison is fair: printed under the table. */
  notes: string[];
}

export interface BenchReport {
  title: string;
  /** Machine and run facts: CPU model, cores, Node version, mode. */
  machine: ReadonlyArray<readonly [string, string]>;
  sections: BenchSection[];
}

/** A cell cannot hold a raw `|` or a line break without breaking the table. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** 'yes' when `ok`, 'no' otherwise; '—' when there is no target or the value could not be measured. */
export function metFrom(ok: boolean | undefined): Met {
  return ok === undefined ? '—' : ok ? 'yes' : 'no';
}

/** A row without a target. */
export function infoRow(metric: string, value: string): BenchRow {
  return { metric, value, target: '—', met: '—' };
}

export function renderBench(report: BenchReport): string {
  const lines: string[] = [`# ${report.title}`, ''];
  for (const [key, value] of report.machine) lines.push(`- **${escapeCell(key)}**: ${escapeCell(value)}`);
  lines.push('', '| metric | value | target | met |', '|---|---|---|---|');
  for (const section of report.sections) {
    lines.push(`| **${escapeCell(section.title)}** | | | |`);
    for (const row of section.rows) {
      lines.push(`| ${escapeCell(row.metric)} | ${escapeCell(row.value)} | ${escapeCell(row.target)} | ${row.met} |`);
    }
  }
  const all = report.sections.flatMap((s) => s.rows).filter((r) => r.met !== '—');
  const met = all.filter((r) => r.met === 'yes').length;
  lines.push('', `Targets met: ${met} of ${all.length}.`);
  const noted = report.sections.filter((s) => s.notes.length > 0);
  if (noted.length > 0) {
    lines.push('', '## How each number was measured');
    for (const section of noted) {
      lines.push('', `**${section.title}**`, '');
      for (const note of section.notes) lines.push(`- ${note}`);
    }
  }
  return lines.join('\n') + '\n';
}
