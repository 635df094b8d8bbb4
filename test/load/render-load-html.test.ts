import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LoadAggregate, type DeliveryRecord } from '../../src/load/aggregate.js';
import { buildLoadReport, renderLoadSummary } from '../../src/load/load-report.js';
import { renderLoadHtml } from '../../src/load/render-load-html.js';
import { CHROMIUM, chromium, haveChromium } from '../support/chromium.js';

const INJECTION = '</svg></script><script>alert(1)</script><img src=x onerror=alert(2)>';
const START = Date.UTC(2026, 0, 2, 3, 4, 5);

/** Ten seconds at 20/s: fast at first, then slower than WeChat's 5 s and refused, as a handler that falls over. */
function deliveries(): DeliveryRecord[] {
  const out: DeliveryRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const second = Math.floor(i / 20);
    const slow = second >= 6;
    const latency = slow ? 5200 + i : 5 + (i % 7);
    const failed = second >= 8 && i % 2 === 0;
    out.push({
      version: 'v3',
      kind: 'pay',
      outTradeNo: `T2026010200000${String(i).padStart(6, '0')}`,
      copy: 1,
      attempt: 1,
      concurrent: false,
      intendedAt: START + i * 50,
      sentAt: START + i * 50,
      answeredAt: START + i * 50 + latency,
      latencyMs: latency,
      serviceMs: latency,
      signMs: 1,
      status: failed ? 500 : 204,
      cause: failed ? 'server-error' : slow ? 'slow' : 'ok',
      acknowledged: !failed && !slow,
      answer: failed ? `expected HTTP 200 or 204, got HTTP 500 with "${INJECTION}"` : undefined,
      evidence: failed
        ? { headers: { server: 'gunicorn' }, body: `<html><title>Server Error (500)</title>${INJECTION}</html>` }
        : undefined,
    });
  }
  return out;
}

function report() {
  const aggregate = new LoadAggregate(START);
  for (const d of deliveries()) aggregate.add(d);
  return buildLoadReport({
    startedAt: START,
    endedAt: START + 16_000,
    interrupted: false,
    target: {
      origin: 'http://127.0.0.1:8080',
      mix: { 'v3.pay': 1 },
      rate: 20,
      durationS: 10,
      rampS: 0,
      timeoutMs: 6500,
      workers: 0,
      connections: 20,
      duplicates: 0,
      concurrent: 0,
      retrySpeedup: null,
      presign: false,
    },
    snapshot: aggregate.snapshot(),
    orders: { sent: 200, acknowledged: 120 },
    notSent: 0,
    thresholds: { minAck: 99, maxP99Ms: 5000 },
    // Stands in for src/judge/fingerprints.ts: sees the answer the hooks kept, returns words.
    identify: (answer) =>
      answer.status === 500 && answer.body.includes('Server Error (500)')
        ? `Django error page (${answer.headers.server})`
        : undefined,
  });
}

describe('the load report', () => {
  const r = report();
  it('counts by second: what was sent, acknowledged and how fast, and the latency histogram up to the maximum', () => {
    expect(r.perSecond).toHaveLength(10);
    expect(r.perSecond.map((b) => b.sent)).toEqual(Array(10).fill(20));
    expect(r.perSecond.map((b) => b.acknowledged)).toEqual([20, 20, 20, 20, 20, 20, 0, 0, 0, 0]);
    expect(r.perSecond[0]!.p99Ms).toBeLessThan(20);
    expect(r.perSecond[9]!.p99Ms).toBeGreaterThan(5000);
    expect(r.latencyMs.overLimit).toBe(80);
    expect(r.histogram.reduce((n, b) => n + b.count, 0)).toBe(200);
    expect(r.histogram.at(-1)!.upToMs).toBeGreaterThanOrEqual(r.latencyMs.max);
    expect(r.failures.map((f) => [f.cause, f.count])).toEqual([
      ['slow', 60],
      ['server-error', 20],
    ]);
    expect(r.verdict).toBe('fail');
    const text = renderLoadSummary(r);
    expect(text).toContain('acknowledged  60% of deliveries (120; 80 failed)');
    expect(text).toContain("80 over WeChat's 5 s limit (超时)");
    expect(text).toContain('Thresholds: acknowledged ≥ 99%: FAIL (60%) · p99 latency ≤ 5000 ms: FAIL');
    // The answers' stack is named; the answers themselves stay out of the report.
    expect(text).toMatch(/e\.g\. T2026010200000000160: HTTP 500 — .*\n {8}Django error page \(gunicorn\)/);
    expect(JSON.stringify(r)).not.toContain('Server Error (500)');
  });

  it('the HTML page: four charts, every answer escaped, no script', () => {
    const html = renderLoadHtml(r);
    for (const id of ['chart-rate', 'chart-ack', 'chart-latency', 'latency-histogram'])
      expect(html).toContain(`<svg id="${id}"`);
    expect(html).toContain('WeChat&#39;s 5 s limit');
    expect(html).not.toContain(INJECTION);
    expect(html).toContain('&lt;/svg&gt;&lt;/script&gt;&lt;script&gt;alert(1)');
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/<rect [^>]*class="bar over"/g)?.length).toBeGreaterThan(0);
  });

  // ── In a real browser ─────────────────────────────────────────────────────────────────────────
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-load-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!haveChromium)(
    `draws the charts in headless Chromium${haveChromium ? '' : ` (skipped: ${CHROMIUM} not found; apt-get install chromium)`}`,
    async () => {
      // A probe in a test copy measures what the browser laid out: each chart has a visible size and
      // its lines were drawn; nothing was injected.
      const probe = `<script>
      document.body.dataset.charts = [...document.querySelectorAll('svg.chart')].map((s) => { const b = s.getBoundingClientRect(); return s.id + ':' + Math.round(b.width) + 'x' + Math.round(b.height); }).join(' ');
      document.body.dataset.paths = [...document.querySelectorAll('path.series')].filter((p) => p.getTotalLength() > 100).length;
      document.body.dataset.bars = document.querySelectorAll('rect.bar').length;
      document.body.dataset.injected = document.querySelectorAll('img').length;
    </script></body>`;
      const file = join(dir, 'probe.html');
      writeFileSync(
        file,
        renderLoadHtml(r)
          .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
          .replace('</body>', probe),
      );
      const dom = await chromium(['--dump-dom', pathToFileURL(file).href], mkdtempSync(join(dir, 'profile-')));
      const charts = /data-charts="([^"]*)"/.exec(dom)?.[1]?.split(' ') ?? [];
      expect(charts.map((c) => c.split(':')[0])).toEqual([
        'chart-rate',
        'chart-ack',
        'chart-latency',
        'latency-histogram',
      ]);
      for (const c of charts) expect(c).toMatch(/:\d{3}x\d{3}$/);
      expect(Number(/data-paths="(\d+)"/.exec(dom)?.[1])).toBeGreaterThanOrEqual(5);
      expect(Number(/data-bars="(\d+)"/.exec(dom)?.[1])).toBeGreaterThan(5);
      expect(/data-injected="(\d+)"/.exec(dom)?.[1]).toBe('0');
    },
    60_000,
  );
});
