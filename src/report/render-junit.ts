import { answeredAsExpected, failsRun } from '../judge/case-verdicts.js';
import type { RunJudgement } from '../judge/judge-run.js';

function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** JUnit XML: one testcase per notification case, the failure message being the hint. */
export function renderJunit(run: RunJudgement, suiteName: string): string {
  const { cases, failOn } = run;
  // Advisory findings below --fail-on are still failures here (a finding is a finding), but say so.
  const failures = cases.filter((c) => c.verdict === 'fail').length;
  const skipped = cases.filter((c) => c.verdict === 'skipped' || c.verdict === 'inconclusive').length;
  const seconds = (ms: number | undefined): string => ((ms ?? 0) / 1000).toFixed(3);
  const body = cases.map((c) => {
    const open = `    <testcase classname="wxpay-notify.${escapeXml(c.caseId.split('.').slice(0, 2).join('.'))}" name="${escapeXml(c.caseId)} — ${escapeXml(c.title)}" time="${seconds(c.maxTimeMs)}">`;
    const blocking = failsRun(c, failOn) ? '' : ' (advisory: reported, not failing the run)';
    const detail = `severity: ${c.severity}${blocking}; expected: ${c.expect}; HTTP ${c.statuses.join(',') || '-'}; ${c.passed}/${c.deliveries} ${answeredAsExpected(c.expect)}`;
    if (c.verdict === 'pass') return `${open}</testcase>`;
    const message = escapeXml([c.error, c.hint].filter(Boolean).join(' — '));
    if (c.verdict === 'skipped' || c.verdict === 'inconclusive')
      return `${open}\n      <skipped message="${message}"/>\n    </testcase>`;
    return `${open}\n      <failure message="${message}" type="${escapeXml(c.cause)}">${escapeXml(detail)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="wxpay-notify" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds(run.durationMs)}">`,
    `  <testsuite name="${escapeXml(suiteName)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" timestamp="${run.startedAt}" time="${seconds(run.durationMs)}">`,
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
