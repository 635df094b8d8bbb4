import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeRun } from '../../src/judge/judge-run.js';
import { renderHtml } from '../../src/report/render-html.js';
import type { DeliveryResult, RunResult } from '../../src/judge/types.js';
import { runCollection } from '../../src/runner/run-collection.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { secretValues } from '../../src/collection/variables.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { fakePem } from '../support/fake-pem.js';
import { CHROMIUM, chromium, haveChromium } from '../support/chromium.js';

const API_KEY = 'k3yK3yk3yK3yk3yK3yk3yK3yk3yK3y01';
// Not a key: random-looking base64 lines in PEM shape, enough to test that key lines are masked.
const PEM = fakePem(
  `${'FAKEKEYLINE0123456789abcdefghijklmnopqrstuvwxyzABCD'.repeat(2)}\n${'NotAKeyEither+/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEf'}`,
);
const SECRETS = [API_KEY, PEM];
const INJECTION = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

function delivery(over: Partial<DeliveryResult>): DeliveryResult {
  return {
    caseId: 'v3.pay.success',
    title: 'TRANSACTION.SUCCESS, payment succeeded (支付成功通知)',
    severity: 'protocol',
    expect: 'ack',
    version: 'v3',
    kind: 'pay',
    folder: 'v3 payment (支付成功通知)',
    copy: 1,
    copies: 1,
    iteration: 1,
    verdict: 'pass',
    status: 204,
    timeMs: 12,
    cause: 'ok',
    hint: '',
    checks: [{ name: 'acknowledged (应答成功)', pass: true, message: '' }],
    request: {
      url: 'http://127.0.0.1:1/wxpay/v3/notify',
      headers: { 'Content-Type': 'application/json' },
      body: '{"b":1,"a":12345678901234567890,"s":"中文\\u4e2d","e":{},"l":[1,2]}',
    },
    response: { headers: {}, body: '' },
    ...over,
  };
}

/** Three cases: one pass, one fail whose bodies carry markup and secrets, one skipped. */
const RUN: RunResult = {
  startedAt: '2026-01-02T03:04:05.000Z',
  durationMs: 4321,
  aborted: false,
  deliveries: [
    delivery({}),
    delivery({
      caseId: 'v2.pay.success',
      title: 'Payment success (支付成功通知)',
      version: 'v2',
      folder: 'v2 payment (支付结果通知)',
      verdict: 'fail',
      status: 200,
      cause: 'v2-json-ack',
      hint: `Answered JSON to a v2 notify: WeChat requires XML <xml><return_code>SUCCESS</return_code></xml>; key ${API_KEY}`,
      checks: [
        {
          name: 'acknowledged: 2xx with XML <return_code>SUCCESS</return_code>',
          pass: false,
          message: `got ${INJECTION}`,
        },
      ],
      request: {
        url: 'http://127.0.0.1:1/wxpay/v2/notify',
        headers: {
          'Content-Type': 'text/xml',
          'X-Debug-Key': API_KEY,
          Authorization: 'Bearer abcdefghijkl',
          Cookie: 'session=abcdefghijkl',
        },
        body: `<xml><attach><![CDATA[${INJECTION} 中文 🎉]]></attach><sign>${API_KEY}</sign></xml>`,
      },
      response: {
        headers: { 'Content-Type': 'application/json', 'Set-Cookie': 'sid=zyxwvutsrq' },
        body: `{"return_code":"SUCCESS","pem":${JSON.stringify(PEM)},"x":"${INJECTION.replace(/"/g, '')}"}`,
      },
    }),
    delivery({
      caseId: 'v3.forged.bad-signature',
      title: 'Wrong Wechatpay-Signature (签名错误)',
      severity: 'security',
      expect: 'reject',
      folder: 'forged v3: must reject (伪造通知)',
      verdict: 'skipped',
      status: undefined,
      timeMs: undefined,
      cause: 'skipped',
      hint: 'The notification could not be built',
      error: `not sent: empty secret ${API_KEY}`,
      checks: [],
      request: undefined,
      response: undefined,
    }),
  ],
};

describe('renderHtml', () => {
  const html = renderHtml(judgeRun(RUN), { name: 'demo 演示', config: 'wxpay-notify.config.yaml', secrets: SECRETS });

  it('is one self-contained UTF-8 page with no script', () => {
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).not.toMatch(/<(script|img|link|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\s(src|href|action)="(?!#)/i);
    expect(html).toContain("default-src 'none'");
    expect(renderHtml(judgeRun(RUN), { name: 'demo 演示', config: 'wxpay-notify.config.yaml', secrets: SECRETS })).toBe(
      html,
    );
  });

  it('escapes markup from bodies, checks and hints', () => {
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;xml&gt;');
    expect(html).toContain('&lt;![CDATA[');
    expect(html).toContain('中文 🎉');
  });

  it('masks secrets everywhere, and credential headers, but keeps signatures readable', () => {
    for (const secret of [API_KEY, ...PEM.split('\n').filter((l) => l.length >= 40)])
      expect(html).not.toContain(secret);
    expect(html).toContain('‹redacted›');
    expect(html).not.toMatch(/abcdefghijkl|zyxwvutsrq/);
    expect(html).toContain('Bearer ‹masked›');
  });

  it('summary counts match and every case has a section', () => {
    expect(html).toContain('id="count-passed">1<');
    expect(html).toContain('id="count-failed">1<');
    expect(html).toContain('id="count-skipped">1<');
    expect(html).toContain('4.3 s');
    expect(html).toContain('2026-01-02T03:04:05.000Z');
    for (const id of ['v3.pay.success', 'v2.pay.success', 'v3.forged.bad-signature'])
      expect(html).toContain(
        `<section class="case `.concat(
          id === 'v3.pay.success' ? 'pass' : id === 'v2.pay.success' ? 'fail' : 'skipped',
          `" id="case-${id}"`,
        ),
      );
    expect(html.match(/<th scope="row"><a href="#case-/g)).toHaveLength(3);
  });

  it('re-indents JSON without reparsing it (big numbers, escapes and key order survive)', () => {
    expect(html).toContain(
      '{\n  &quot;b&quot;: 1,\n  &quot;a&quot;: 12345678901234567890,\n  &quot;s&quot;: &quot;中文\\u4e2d&quot;,\n  &quot;e&quot;: {},\n  &quot;l&quot;: [\n    1,\n    2\n  ]\n}',
    );
    expect(html).toMatch(/&lt;xml&gt;\n {2}&lt;attach&gt;&lt;!\[CDATA\[/);
  });
});

// ── In a real browser ────────────────────────────────────────────────────────────────────────────

describe.skipIf(!haveChromium)(
  `renderHtml in headless Chromium${haveChromium ? '' : ` (skipped: ${CHROMIUM} not found; apt-get install chromium)`}`,
  () => {
    let suite: SuiteFixture;
    let dir: string;
    let run: RunResult;
    let html: string;
    let secrets: string[];
    // Against a receiver that answers JSON to v2: the v2 case fails with its hint, the v3 ones pass.
    const ONLY = [
      'v2.pay.success',
      'v3.pay.success',
      'v3.robust.non-ascii',
      'v3.forged.bad-signature',
      'v3.redelivery.sequential',
    ];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-html-'));
      suite = await startSuite({ start: (opts) => FAULTY_RECEIVERS['json-ack']!.start(opts, { host: '127.0.0.1' }) });
      const cases = selectCases(suite.config, { only: ONLY });
      run = await runCollection({
        collection: buildCollection(suite.config, cases),
        environment: buildEnvironment(suite.config, true),
        timeoutMs: 60_000,
      });
      secrets = secretValues(suite.config);
      html = renderHtml(judgeRun(run), { name: suite.config.name, config: 'test config', secrets });
    }, 60_000);

    afterAll(async () => {
      await suite?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const open = async (name: string, page: string): Promise<string> => {
      const file = join(dir, name);
      writeFileSync(file, page);
      return chromium(['--dump-dom', pathToFileURL(file).href], mkdtempSync(join(dir, 'profile-')));
    };

    it('parses the report: summary, one section per case, the failure with its hint, nothing injected', async () => {
      expect(run.deliveries.map((d) => d.caseId)).toEqual(expect.arrayContaining(ONLY));
      const dom = await open('report.html', html);
      expect(dom).toContain('<title>wxpay-notify report: demo (4 passed, 1 failed)</title>');
      expect(dom).toContain('id="count-passed">4<');
      expect(dom).toContain('id="count-failed">1<');
      expect(dom).toContain('id="count-skipped">0<');
      expect(dom.match(/<section class="case (pass|fail|skipped)"/g)).toHaveLength(ONLY.length);
      for (const id of ONLY) expect(dom).toContain(`id="case-${id}"`);
      const failed = /<section class="case fail" id="case-v2\.pay\.success"[\s\S]*?<\/section>/.exec(dom)?.[0] ?? '';
      expect(failed).toContain('FAIL');
      expect(failed).toContain('Answered JSON to a v2 notify');
      expect(failed).toContain('&lt;xml&gt;');
      expect(dom).toContain('支付成功 🎉');
      expect(dom).not.toMatch(/<script/i);
      for (const secret of secrets) expect(dom).not.toContain(secret);
    }, 60_000);

    it('the "failed only" filter hides passing cases (checked by a probe script in a test copy)', async () => {
      const probe = `<script>
      const visible = () => [...document.querySelectorAll('.case')].filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id).join(' ');
      document.body.dataset.all = visible();
      document.getElementById('show-failed').click();
      document.body.dataset.failed = visible();
    </script></body>`;
      const page = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</body>', probe);
      const dom = await open('probe.html', page);
      expect(/data-all="([^"]*)"/.exec(dom)?.[1]?.split(' ')).toHaveLength(ONLY.length);
      expect(/data-failed="([^"]*)"/.exec(dom)?.[1]).toBe('case-v2.pay.success');
    }, 60_000);
  },
);
