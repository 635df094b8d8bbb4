import { ACK_TIME_LIMIT_MS } from '../protocol/constants.js';
import type { LoadReport } from './load-report.js';

/**
 * The load report as one self-contained page: inline SVG charts (no script, no CDN) of the rate,
 * the acknowledgement and the latency over time, and the latency histogram. Every piece of run data
 * is escaped; the secrets never reach the report (the hooks mask answers, and the config's secrets
 * are not in it).
 */

function esc(text: string): string {
  return String(text)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const W = 720;
const H = 220;
const PAD = { left: 56, right: 16, top: 16, bottom: 32 };

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A line chart over the run's seconds; `limit` draws a dashed horizontal line (WeChat's 5 s). */
function lineChart(
  id: string,
  title: string,
  unit: string,
  xMax: number,
  series: Series[],
  limit?: { value: number; label: string },
): string {
  const yTop = niceMax(Math.max(1, limit?.value ?? 0, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (v: number): number => PAD.left + (v / Math.max(1, xMax)) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / yTop) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yTop);
  const parts: string[] = [];
  parts.push(
    `<svg id="${id}" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
  );
  for (const t of ticks) {
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/>`,
    );
    parts.push(
      `<text x="${PAD.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(formatTick(t))}</text>`,
    );
  }
  parts.push(`<text x="${W - PAD.right}" y="${H - 6}" text-anchor="end" class="tick">seconds</text>`);
  parts.push(
    `<text x="${PAD.left}" y="${H - 6}" class="tick">0</text><text x="${x(xMax).toFixed(1)}" y="${H - 18}" text-anchor="end" class="tick">${xMax}</text>`,
  );
  parts.push(`<text x="8" y="12" class="tick">${esc(unit)}</text>`);
  if (limit) {
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(limit.value).toFixed(1)}" y2="${y(limit.value).toFixed(1)}" class="limit"/>`,
    );
    parts.push(
      `<text x="${W - PAD.right}" y="${(y(limit.value) - 4).toFixed(1)}" text-anchor="end" class="limit-label">${esc(limit.label)}</text>`,
    );
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" class="series" data-series="${esc(s.name)}"/>`,
    );
  }
  parts.push('</svg>');
  const legend = series
    .map((s) => `<span class="key"><span class="swatch" style="background:${s.color}"></span>${esc(s.name)}</span>`)
    .join(' ');
  return `<figure><figcaption>${esc(title)}</figcaption>${parts.join('')}<div class="legend">${legend}</div></figure>`;
}

function formatTick(v: number): string {
  return v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 10) / 10);
}

function histogramChart(report: LoadReport): string {
  const bins = report.histogram.filter((b) => b.count > 0 || report.histogram.length < 60);
  if (bins.length === 0) return '<p>No answers: no latency histogram.</p>';
  const maxCount = niceMax(Math.max(...bins.map((b) => b.count)));
  const bw = (W - PAD.left - PAD.right) / bins.length;
  const y = (v: number): number => H - PAD.bottom - (v / maxCount) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [
    `<svg id="latency-histogram" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency histogram">`,
  ];
  bins.forEach((b, i) => {
    const over = b.upToMs > ACK_TIME_LIMIT_MS;
    parts.push(
      `<rect x="${(PAD.left + i * bw + 1).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(H - PAD.bottom - y(b.count)).toFixed(1)}" class="${over ? 'bar over' : 'bar'}"><title>≤ ${b.upToMs} ms: ${b.count}</title></rect>`,
    );
    if (i % Math.max(1, Math.ceil(bins.length / 8)) === 0)
      parts.push(
        `<text x="${(PAD.left + i * bw).toFixed(1)}" y="${H - 14}" class="tick">${esc(formatTick(b.upToMs))}</text>`,
      );
  });
  parts.push(
    `<text x="${PAD.left - 6}" y="${y(maxCount) + 4}" text-anchor="end" class="tick">${esc(formatTick(maxCount))}</text>`,
  );
  parts.push(
    `<text x="${W - PAD.right}" y="${H - 2}" text-anchor="end" class="tick">ms (log scale; red: over WeChat's 5 s)</text>`,
  );
  parts.push('</svg>');
  return `<figure><figcaption>Latency histogram (from the intended send time)</figcaption>${parts.join('')}</figure>`;
}

export function renderLoadHtml(report: LoadReport): string {
  const secs = report.perSecond;
  const xMax = Math.max(1, secs.length);
  const at = (f: (b: (typeof secs)[number]) => number): [number, number][] => secs.map((b) => [b.second + 0.5, f(b)]);
  const sentSeconds = secs.filter((b) => b.sent > 0);
  const charts = [
    lineChart('chart-rate', 'Rate: deliveries sent and acknowledged per second', 'per second', xMax, [
      { name: 'sent', color: '#4a6fa5', points: at((b) => b.sent) },
      { name: 'acknowledged', color: '#2e8b57', points: at((b) => b.acknowledged) },
      { name: 'failed', color: '#c0392b', points: at((b) => b.failed) },
    ]),
    lineChart('chart-ack', 'Acknowledged (应答成功), % of the deliveries sent in that second', '%', xMax, [
      {
        name: 'acknowledged %',
        color: '#2e8b57',
        points: sentSeconds.map((b) => [b.second + 0.5, Math.floor((b.acknowledged / b.sent) * 1000) / 10]),
      },
    ]),
    lineChart(
      'chart-latency',
      'Latency by send second (ms, from the intended send time)',
      'ms',
      xMax,
      [
        { name: 'p50', color: '#4a6fa5', points: sentSeconds.map((b) => [b.second + 0.5, b.p50Ms]) },
        { name: 'p99', color: '#d35400', points: sentSeconds.map((b) => [b.second + 0.5, b.p99Ms]) },
        { name: 'max', color: '#7f8c8d', points: sentSeconds.map((b) => [b.second + 0.5, b.maxMs]) },
      ],
      { value: ACK_TIME_LIMIT_MS, label: "WeChat's 5 s limit" },
    ),
    histogramChart(report),
  ];
  const t = report.target;
  const d = report.deliveries;
  const l = report.latencyMs;
  const row = (k: string, v: string): string => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
  const failures = report.failures
    .map(
      (f) =>
        `<tr class="failure"><td>${esc(f.cause)}</td><td>${f.count}</td><td>${esc(f.hint)}</td><td>${f.examples
          .map(
            (e) =>
              `<div>${esc(e.outTradeNo)} ${e.status ? `HTTP ${e.status}` : 'no answer'}${e.answer ? `: ${esc(e.answer)}` : ''}${e.stack ? ` <strong>${esc(e.stack)}</strong>` : ''}</div>`,
          )
          .join('')}</td></tr>`,
    )
    .join('');
  const r = report.reconciliation;
  const findings = (label: string, list: NonNullable<typeof r>['lost']): string =>
    `<h3>${esc(label)}: ${list.length}</h3>${list.length ? `<ul>${list.map((f) => `<li>${esc(f.record.outRefundNo ?? f.record.outTradeNo)} (${esc(f.record.version)} ${esc(f.record.kind)}): ${esc(f.detail)}</li>`).join('')}</ul>` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>wxpay-notify load: ${esc(report.verdict.toUpperCase())} at ${t.rate}/s</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}.verdict-pass{color:#2e8b57}.verdict-fail{color:#c0392b}
table{border-collapse:collapse;margin:8px 0}th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #eee;vertical-align:top}
.chart{background:#fafafa;border:1px solid #ddd;max-width:100%;height:auto}.grid{stroke:#e5e5e5}.tick{font-size:11px;fill:#666}
.limit{stroke:#c0392b;stroke-dasharray:6 4}.limit-label{font-size:11px;fill:#c0392b}.bar{fill:#4a6fa5}.bar.over{fill:#c0392b}
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}.legend{font-size:12px}.swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
</style></head><body>
<h1>wxpay-notify load: <span class="verdict-${report.verdict}">${esc(report.verdict.toUpperCase())}</span></h1>
<table id="summary">
${row(
  'target',
  `${t.origin} at ${t.rate}/s for ${t.durationS} s${t.rampS ? ` (ramp ${t.rampS} s)` : ''}; mix ${Object.entries(t.mix)
    .map(([k, w]) => `${k} ${w}`)
    .join(', ')}`,
)}
${row('sent', `${d.sent} deliveries of ${report.orders.sent} notifications (${d.duplicates} delivered twice, ${d.concurrent} at once, ${d.retries} retries) at ${d.achievedRate}/s`)}
${row('acknowledged', `${d.ackRate}% (${d.acknowledged} of ${d.sent}); ${report.orders.notAcknowledged} notifications never acknowledged`)}
${row('latency', `p50 ${l.p50} ms · p95 ${l.p95} ms · p99 ${l.p99} ms · max ${l.max} ms; ${l.overLimit} over 5 s`)}
${row('timeouts', String(report.timeouts))}
${row('connection errors', String(report.connectionErrors))}
${row('thresholds', report.thresholds.map((x) => `${x.name} ${x.limit}: ${x.pass ? 'PASS' : 'FAIL'} (${x.actual})`).join(' · '))}
</table>
${charts.join('\n')}
<h2>Failures by cause</h2>
${failures ? `<table id="failures"><tr><th>cause</th><th>count</th><th>what to do</th><th>examples</th></tr>${failures}</table>` : '<p>None: every delivery was acknowledged.</p>'}
${r ? `<h2 id="reconciliation">Reconciliation (对账)</h2><p>${esc(`${r.checked} acknowledged notifications looked up via ${r.lookup}; ${r.recorded} recorded.`)}</p>${findings('lost', r.lost)}${findings('duplicated', r.duplicated)}${findings('wrong amount', r.wrongAmount)}${findings('lookup errors', r.lookupErrors)}` : ''}
</body></html>
`;
}
