import type { DeliveryResult } from '../judge/types.js';
import { prettyBody } from './pretty-body.js';
import { redact } from '../shared/redact.js';
import { answeredAsExpected, type CaseSummary } from '../judge/case-verdicts.js';
import { expectationText } from '../judge/answer.js';
import type { RunJudgement } from '../judge/judge-run.js';

export interface HtmlReportMeta {
  /** Collection (config) name, shown in the title. */
  name: string;
  /** Where the config came from, as the user named it. */
  config: string;
  /** Every secret value of the run: masked wherever it appears, bodies and hints included. */
  secrets: readonly string[];
}

const VERDICT = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP', inconclusive: 'INCONCLUSIVE' } as const;

/** Credentials a receiver or proxy may echo back; signatures are not secrets and stay readable. */
const MASKED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** C0 and C1 controls (not allowed in HTML text) as U+FFFD: `cat report.html` on a terminal stays inert too. */
function escapeHtml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  return Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** Renders the report as one self-contained page; every piece of run data is redacted, then escaped. */
export function renderHtml(run: RunJudgement, meta: HtmlReportMeta): string {
  // Redact before escaping: escaping could split a secret that contains & or <.
  const t = (text: string): string => escapeHtml(redact(text, meta.secrets));
  const { cases, diagnoses, totals: sum } = run;
  const severalRows = new Set(run.deliveries.map((d) => d.iteration)).size > 1;

  const verdictBadge = (v: CaseSummary['verdict']): string =>
    `<span class="badge v-${t(v)}">${t(VERDICT[v] ?? v)}</span>`;
  const duration = (ms: number | undefined): string =>
    ms === undefined ? '-' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
  const statusOf = (c: CaseSummary): string =>
    c.statuses.join(', ') || (c.verdict === 'skipped' ? 'not sent' : 'no answer');
  const anchor = (id: string): string => `case-${id.replace(/[^A-Za-z0-9._-]/g, '_')}`;

  // The check's own words (judge.js), and what every case of the kind shares.
  const expects = (c: CaseSummary): string =>
    expectationText(c) +
    (c.expect === 'ack' ? ', within 5 s, no redirect' : ': a forged notification must not be acknowledged');

  /** Returns HTML: the answer in one line, its body (cut short) as code. */
  const cameBack = (d: DeliveryResult | undefined): string => {
    if (!d) return 'nothing';
    if (d.error) return t(d.error);
    if (d.status === undefined) return 'no answer';
    const body = redact(d.response?.body ?? '', meta.secrets);
    const type = headerValue(d.response?.headers, 'content-type');
    const shown = body.length > 300 ? `${body.slice(0, 300)}…` : body;
    return `HTTP ${d.status} after ${duration(d.timeMs)}${type ? `, ${t(type)}` : ''}, ${body ? `body <code>${t(shown)}</code>` : 'empty body'}`;
  };

  const headersTable = (caption: string, headers: Record<string, string>): string => {
    const rows = Object.entries(headers).map(([name, value]) => {
      const scheme = name.toLowerCase() === 'authorization' ? (/^\S+\s/.exec(value)?.[0] ?? '') : '';
      const shown = MASKED_HEADERS.has(name.toLowerCase()) ? `${scheme}‹masked›` : value;
      return `<tr><th scope="row">${t(name)}</th><td><code>${t(shown)}</code></td></tr>`;
    });
    if (rows.length === 0) return `<p class="muted">${caption}: none</p>`;
    return `<table class="headers"><caption>${caption}</caption><tbody>${rows.join('')}</tbody></table>`;
  };

  const bodyBlock = (body: string, headers: Record<string, string>): string => {
    if (body === '') return '<p class="muted">Body: empty</p>';
    const raw = redact(body, meta.secrets);
    const pretty = prettyBody(raw, headerValue(headers, 'content-type') ?? '');
    if (!pretty || pretty.text === raw) return `<pre>${t(raw)}</pre>`;
    return (
      `<p class="muted">${pretty.kind}, re-indented for reading; the exact bytes are below.</p><pre>${t(pretty.text)}</pre>` +
      `<details class="raw"><summary>Raw body, exact bytes (${new TextEncoder().encode(body).length} bytes)</summary><pre>${t(raw)}</pre></details>`
    );
  };

  const deliveryBlock = (d: DeliveryResult): string => {
    const label = [
      `Delivery ${d.copy}/${d.copies}`,
      severalRows ? `data row ${d.iteration}` : '',
      VERDICT[d.verdict],
      d.status === undefined ? (d.verdict === 'skipped' ? 'not sent' : 'no answer') : `HTTP ${d.status}`,
      duration(d.timeMs),
    ]
      .filter(Boolean)
      .join(' · ');
    const checks = d.checks.map(
      (c) =>
        `<li>${verdictBadge(c.pass ? 'pass' : 'fail')} ${t(c.name)}${c.message ? `<br><span class="muted">${t(c.message)}</span>` : ''}</li>`,
    );
    // WeChat only ever POSTs notifications, and the generated collection sends nothing else.
    const request = d.request
      ? `<h4>Request</h4><p><code>POST ${t(d.request.url)}</code></p>${headersTable('Request headers', d.request.headers)}${bodyBlock(d.request.body, d.request.headers)}`
      : '<h4>Request</h4><p class="muted">Not sent.</p>';
    const response = d.response
      ? `<h4>Response</h4><p><code>HTTP ${d.status ?? '-'}</code> after ${duration(d.timeMs)}</p>${headersTable('Response headers', d.response.headers)}` +
        (d.response.truncatedAtBytes === undefined
          ? ''
          : `<p class="muted">The body was longer: only its first ${d.response.truncatedAtBytes} bytes were kept and judged; the rest was discarded unread.</p>`) +
        bodyBlock(d.response.body, d.response.headers)
      : `<h4>Response</h4><p class="muted">No response${d.error ? `: ${t(d.error)}` : ''}.</p>`;
    return (
      `<details class="delivery"${d.verdict === 'pass' ? '' : ' open'}><summary>${t(label)}</summary>` +
      (checks.length ? `<h4>Checks</h4><ul class="checks">${checks.join('')}</ul>` : '') +
      request +
      response +
      '</details>'
    );
  };

  const caseSection = (c: CaseSummary): string => {
    const list = run.deliveries.filter((d) => d.caseId === c.caseId);
    const worst = list.find((d) => d.verdict === 'fail') ?? list.find((d) => d.verdict === 'skipped');
    const why = {
      skipped: 'Why it was skipped',
      inconclusive: 'Why it could not be judged',
      fail: 'Why it failed',
      pass: '',
    }[c.verdict];
    const failure =
      c.verdict === 'pass'
        ? ''
        : `<div class="hint" role="note"><h4>${why}</h4><dl>` +
          `<dt>WeChat expects</dt><dd>${t(expects(c))}</dd><dt>What came back</dt><dd>${cameBack(worst)}</dd>` +
          `<dt>Fix</dt><dd>${t(c.hint || 'see the checks below')}</dd></dl></div>`;
    return (
      `<section class="case ${c.verdict}" id="${anchor(c.caseId)}" aria-labelledby="${anchor(c.caseId)}-h">` +
      `<h3 id="${anchor(c.caseId)}-h">${verdictBadge(c.verdict)} <code>${t(c.caseId)}</code> ${t(c.title)}</h3><dl class="facts">` +
      `<div><dt>Severity</dt><dd><span class="badge sev-${t(c.severity)}">${t(c.severity)}</span></dd></div>` +
      `<div><dt>Expected</dt><dd>${c.expect === 'ack' ? 'ack (acknowledge)' : 'reject (refuse)'}</dd></div>` +
      `<div><dt>Verdict</dt><dd>${t(VERDICT[c.verdict] ?? c.verdict)}${c.deliveries > 1 ? ` (${c.passed}/${c.deliveries} ${answeredAsExpected(c.expect)})` : ''}</dd></div>` +
      `<div><dt>HTTP</dt><dd>${t(statusOf(c))}</dd></div><div><dt>Time</dt><dd>${duration(c.maxTimeMs)}</dd></div></dl>` +
      (failure || `<p class="muted">WeChat expects: ${t(expects(c))}</p>`) +
      list.map(deliveryBlock).join('') +
      '</section>'
    );
  };

  const folders = new Map<string, CaseSummary[]>();
  for (const c of cases) {
    folders.set(c.folder, [...(folders.get(c.folder) ?? []), c]);
  }
  const notPassed = sum.failed + sum.skipped + sum.inconclusive;
  // Every request the receiver saw: concurrent copies fired from a script count like the rest.
  const deliveryCount = cases.reduce((n, c) => n + c.deliveries, 0);
  const rows = cases.map(
    (c) =>
      `<tr class="${c.verdict}"><th scope="row"><a href="#${anchor(c.caseId)}"><code>${t(c.caseId)}</code></a></th><td>${t(c.title)}</td>` +
      `<td><span class="badge sev-${t(c.severity)}">${t(c.severity)}</span></td><td>${t(c.expect)}</td><td>${t(statusOf(c))}</td><td>${duration(c.maxTimeMs)}</td><td>${verdictBadge(c.verdict)}</td></tr>`,
  );

  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>wxpay-notify report: ${t(meta.name)} (${sum.passed} passed, ${sum.failed} failed)</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>wxpay-notify report: ${t(meta.name)}</h1>
<p class="muted">WeChat Pay (微信支付) notification test run · config <code>${t(meta.config)}</code></p></header>
<main>
<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>
${run.aborted ? '<p class="aborted" role="alert"><strong>Interrupted:</strong> the run was stopped; these are the results so far.</p>\n' : ''}<p class="overall v-${notPassed ? 'fail' : 'pass'}"><strong>${notPassed ? 'FAILED' : 'PASSED'}</strong>: ${cases.length === 0 ? 'no case ran' : `${sum.passed} of ${cases.length} cases passed`}</p>
<dl class="totals">
<div><dt>Passed</dt><dd id="count-passed">${sum.passed}</dd></div>
<div><dt>Failed</dt><dd id="count-failed">${sum.failed}</dd></div>
<div><dt>Inconclusive</dt><dd id="count-inconclusive">${sum.inconclusive}</dd></div>
<div><dt>Skipped</dt><dd id="count-skipped">${sum.skipped}</dd></div>
<div><dt>Advisory findings</dt><dd id="count-advisory">${sum.advisory}</dd></div>
<div><dt>Deliveries</dt><dd id="count-deliveries">${deliveryCount}</dd></div>
<div><dt>Duration</dt><dd>${duration(run.durationMs)}</dd></div>
<div><dt>Started at</dt><dd><time datetime="${t(run.startedAt)}">${t(run.startedAt)}</time></dd></div>
</dl>
${diagnoses.map((d, i) => `<p class="note" role="note"><strong>Note ${i + 1}:</strong> ${t(d.message)}</p>`).join('\n')}
<fieldset class="filter"><legend>Show</legend>
<label><input type="radio" name="show" id="show-all" checked> all cases</label>
<label><input type="radio" name="show" id="show-failed"> not passed only</label>
</fieldset>
<table class="cases"><caption>Cases (skipped and inconclusive count as not passed: nothing proved the case works)</caption>
<thead><tr><th scope="col">Case</th><th scope="col">Title</th><th scope="col">Severity</th><th scope="col">Expected</th><th scope="col">HTTP</th><th scope="col">Time</th><th scope="col">Verdict</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</section>
${[...folders].map(([folder, list]) => `<section class="folder" aria-label="${t(folder)}"><h2>${t(folder)}</h2>\n${list.map(caseSection).join('\n')}\n</section>`).join('\n')}
</main>
</body>
</html>
`;
  // Last line of defence: anything that slipped past the per-field pass.
  return redact(html, meta.secrets);
}

// No script at all: the filter is pure CSS (:has), and the CSP above blocks any script a body might smuggle in.
const CSS = `
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--code:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--skip:#9a6700;--info:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--code:#151b23;--pass:#3fb950;--fail:#f85149;--skip:#d29922;--info:#4493f8}}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:var(--fg);background:var(--bg);max-width:76rem;margin:0 auto;padding:1rem 1.5rem 4rem}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,"Noto Sans Mono CJK SC",monospace}
pre{background:var(--code);border:1px solid var(--line);border-radius:.375rem;padding:.5rem .75rem;white-space:pre-wrap;overflow-wrap:anywhere;max-height:32rem;overflow:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
caption{text-align:left;color:var(--muted);padding:.25rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
td code,th code{overflow-wrap:anywhere}
.headers th{width:14rem;font-weight:500}
.cases td:nth-child(n+5){white-space:nowrap}
.muted{color:var(--muted)}
.badge{display:inline-block;border:1px solid currentColor;border-radius:.25rem;padding:0 .35rem;font-size:.8em;font-weight:700;white-space:nowrap;vertical-align:middle}
.v-pass{color:var(--pass)}.v-fail{color:var(--fail)}.v-skipped{color:var(--skip)}.v-inconclusive{color:var(--skip)}
.note{border-left:.25rem solid var(--info);padding:.25rem .75rem}
.sev-security{color:var(--fail)}.sev-protocol{color:var(--info)}.sev-advisory{color:var(--muted)}
.overall{font-size:1.2em}
.totals,.facts{display:flex;flex-wrap:wrap;gap:.25rem 2rem;margin:.5rem 0}
.totals dt,.facts dt{color:var(--muted);font-size:.85em}.totals dd,.facts dd{margin:0;font-weight:600}
.filter{border:1px solid var(--line);border-radius:.375rem;display:inline-flex;gap:1rem;margin:.5rem 0}
.aborted{border-left:.25rem solid var(--skip);padding:.25rem .75rem}
.case{border:1px solid var(--line);border-left:.4rem solid var(--pass);border-radius:.375rem;padding:0 1rem .5rem;margin:1rem 0}
.case.fail{border-left-color:var(--fail)}.case.skipped,.case.inconclusive{border-left-color:var(--skip)}
.case h3{margin:.75rem 0 .25rem;font-size:1.05em}
.hint{border-left:.25rem solid var(--fail);background:var(--code);padding:.25rem .75rem;margin:.5rem 0}
.hint h4{margin:.25rem 0}.hint dt{font-weight:700}.hint dd{margin:0 0 .4rem}
.delivery{border-top:1px solid var(--line);padding:.25rem 0}
.delivery>summary{cursor:pointer;font-weight:600}
.delivery h4{margin:.75rem 0 .25rem}
.checks{list-style:none;padding:0}
body:has(#show-failed:checked) :is(.case.pass,tr.pass),body:has(#show-failed:checked) .folder:not(:has(.case:not(.pass))){display:none}
`;
